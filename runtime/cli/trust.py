"""The ``edgewise trust`` command: trust a flow that holds code, check it, or revoke it."""

from __future__ import annotations

import argparse
import json
import sqlite3

from runtime._errors import FlowFileError
from runtime._model import read_flow_document
from runtime._registry import default_registry
from runtime._terminal import plain
from runtime._trust import TrustStore, code_nodes, digest
from runtime.cli.exits import EXIT_ERRORS, EXIT_INVALID, EXIT_OK


def cmd_trust(args: argparse.Namespace) -> int:
    """Trust, check or revoke flow files; one line per file."""
    store = TrustStore()
    registry = default_registry()
    code = EXIT_OK
    report = []
    for flow in args.flows:
        try:
            doc = read_flow_document(flow)
        except FlowFileError as exc:
            print(f"edgewise trust: {plain(exc)}")
            return EXIT_INVALID
        nodes = code_nodes(doc, registry)
        entry = {"flow": flow, "digest": digest(doc),
                 "code_nodes": [{"node": n, "component": c} for n, c in nodes]}
        try:
            if args.check:
                entry["trusted"] = not nodes or store.is_trusted(doc)
                if not entry["trusted"]:
                    code = EXIT_ERRORS
                text = ("trusted" if entry["trusted"] and nodes else
                        "holds no code; runs without trust" if not nodes else
                        "NOT trusted; holds code in " + _names(nodes))
            elif args.revoke:
                entry["trusted"] = False
                text = "no longer trusted" if store.revoke(doc) else "was not trusted"
            else:
                store.trust(doc, flow)
                entry["trusted"] = True
                text = ("trusted; it holds code in " + _names(nodes) if nodes else
                        "trusted (it holds no code, so it needed no trust)")
        except (OSError, sqlite3.Error) as exc:
            print(f"edgewise trust: cannot use the trust store {store.path}: {plain(exc)}")
            return EXIT_INVALID
        report.append(entry)
        if not args.json:
            print(f"{plain(flow)}: {plain(text)}")
    if args.json:
        print(json.dumps(report))
    return code


def _names(nodes: list[tuple[str, str]]) -> str:
    return ", ".join(f"'{n}' ({c})" for n, c in nodes)
