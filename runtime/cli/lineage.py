"""The lineage commands: ``trace``, ``scored-by`` (which model scored a row) and ``trained-on``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from runtime._errors import UsageError
from runtime._record.lineage import Lineage
from runtime._trace_render import render_trace
from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_OK
from runtime.cli.finding import open_run, pick_message


def cmd_trace(args: argparse.Namespace) -> int:
    """Walk an output (or one of its rows) back to its sources."""
    store = open_run(args, args.run)
    message = pick_message(store, args.port, args)
    steps = Lineage(store).trace(message.id, args.row)
    if args.json:
        print(json.dumps({"run": store.id, "steps": [s.to_json() for s in steps]}))
        return EXIT_OK
    console = out()
    what = (f"row {args.row} of message {message.id}" if args.row is not None else
            f"message {message.id}")
    console.print(f"[bold]{safe(what)}[/] on {safe(message.origin)}, run {safe(store.id)}:")
    for line in render_trace(steps, times=True):
        console.print(f"[yellow]{safe(line.text)}[/]" if line.kind == "note" else
                      safe(line.text))
    return EXIT_OK


def cmd_scored_by(args: argparse.Namespace) -> int:
    """Which model scored this record?"""
    store = open_run(args, args.run)
    message = pick_message(store, args.port, args)
    answer = Lineage(store).scored_by(message.id, args.row)
    if args.json:
        print(json.dumps(answer, default=str))
        return EXIT_OK
    model = answer["model"]
    console = out()
    by = (f"model {model['label']} (message {model['message']})" if model.get("label")
          else f"model message {model['message']}")
    console.print(safe(f"row {args.row} of message {message.id} ({message.origin}) was scored "
                       f"at node '{answer['scored_at']['node']}' by {by}"))
    console.print(safe(f"  estimator: {model['estimator']}"))
    console.print(safe(f"  params:    {json.dumps(model['params'])}"))
    if model.get("features"):
        console.print(safe(f"  features:  {', '.join(map(str, model['features']))}"))
    console.print(safe(f"  trained:   {model['trained']['seconds_into_run']:.3f} s into the run "
                       f"started {model['trained']['run_started']}"))
    for data in model["training_data"]:
        console.print(safe(f"  fitted on: message {data['message']} from '{data['node']}' "
                           f"({data['rows']} rows); see `edgewise trained-on {store.id} "
                           f"{model['node']}.model --id {model['message']}`"))
    return EXIT_OK


def cmd_trained_on(args: argparse.Namespace) -> int:
    """Which records trained this model?"""
    store = open_run(args, args.run)
    message = pick_message(store, args.port, args)
    facts, rows = Lineage(store).trained_on(message.id)
    if args.export:
        _export(rows, Path(args.export))
    if args.json:
        print(json.dumps({"model": facts, "rows": len(rows),
                          "exported": args.export,
                          "sample": json.loads(rows.head(20).to_json(orient="split"))},
                         default=str))
        return EXIT_OK
    console = out()
    console.print(safe(f"model message {message.id} ({facts['estimator']}) was fitted on "
                       f"{len(rows)} row(s):"))
    console.print(safe(rows.head(20).to_string()))
    if len(rows) > 20:
        console.print(f"… {len(rows) - 20} more")
    if args.export:
        console.print(safe(f"exported to {args.export}"))
    return EXIT_OK


def _export(rows: Any, target: Path) -> None:
    """Write the training rows to a CSV file, or say why it cannot be written there."""
    if target.is_dir():
        msg = f"--export {target} is a folder; give a file name, e.g. {target / 'rows.csv'}"
        raise UsageError(msg)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            rows.to_csv(handle, index_label="_row")
    except OSError as exc:
        msg = (f"cannot write the training rows to {target}: {exc.strerror or exc}; "
               "give a file in a folder you can write to")
        raise UsageError(msg) from exc
