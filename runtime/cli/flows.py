"""The commands about flows and components: ``validate``, ``components`` and ``schema``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runtime._api import components, validate
from runtime._model import flow_json_schema
from runtime._plugins_dir import registry_for_flow
from runtime._registry import default_registry
from runtime._terminal import plain
from runtime.cli.common import problem_lines
from runtime.cli.exits import EXIT_INVALID, EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a flow and list every problem."""
    registry, warnings = registry_for_flow(Path(args.flow))
    for line in warnings:
        print(f"warning: {plain(line)}", file=sys.stderr)
    problems = validate(Path(args.flow), registry=registry)
    if args.json:
        print(json.dumps({"valid": not problems, "problems": [p.to_json() for p in problems]}))
    else:
        for line in problem_lines(args.flow, problems):
            print(line)
        if not problems:
            print(plain(f"{args.flow}: ok"))
    return EXIT_INVALID if problems else EXIT_OK


def cmd_components(args: argparse.Namespace) -> int:
    """List the installed components."""
    registry = default_registry()
    for line in registry.load_errors:
        print(f"warning: {plain(line)}", file=sys.stderr)
    described = components(registry)
    if args.json:
        print(json.dumps(described))
        return EXIT_OK
    table = Table(box=None)
    for col in ("component", "inputs", "outputs", "what it does"):
        table.add_column(col)
    for spec in described:
        ins = ", ".join(f"{p['name']}:{p['type']}" + (" (latest)" if p["mode"] == "latest"
                                                      else "") for p in spec["inputs"])
        outs = ", ".join(f"{p['name']}:{p['type']}" for p in spec["outputs"]
                         if p["name"] != "error")
        dynamic = spec.get("dynamic_sides", [])
        ins = f"set by params (e.g. {ins or '–'})" if "inputs" in dynamic else ins
        outs = f"set by params (e.g. {outs or '–'})" if "outputs" in dynamic else outs
        table.add_row(*(escape(plain(text)) for text in (spec["id"], ins or "–", outs or "–",
                                                         spec["title"])))
    Console(highlight=False).print(table)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the flow file format."""
    print(json.dumps(flow_json_schema(), indent=2))
    return EXIT_OK
