"""The ``edgewise diff`` command: compare two kept runs edge by edge."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_OK
from runtime.cli.finding import open_run


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two runs edge by edge, naming the most upstream change."""
    from runtime._record.diff import diff_runs

    a, b = open_run(args, args.run_a), open_run(args, args.run_b)
    report = diff_runs(a, b)
    if args.json:
        print(json.dumps(report, default=str))
        return EXIT_OK
    console = out()
    console.print(f"run A {a.id} → run B {b.id}"
                  + ("" if report["same_flow"] else " (the flows differ)"))
    for change in report["param_changes"]:
        console.print(safe(
            f"  node '{change['node']}': {change['change']}"
            + (f" {json.dumps(change.get('a'))} → {json.dumps(change.get('b'))}"
               if change["change"] == "params" else "")))
    table = Table(box=None)
    for col in ("edge", "messages", "rows", "values", "what changed"):
        table.add_column(col, no_wrap=col != "what changed")
    for e in report["edges"]:
        rows = e["rows"]
        rows_text = "" if rows[0] is None else f"{rows[0]} → {rows[1]}"
        mark = "[red]" if e["changed"] else ""
        count = (f"{e['count'][0]} → {e['count'][1]}" if e["in_a"] and e["in_b"] else
                 f"{e['count'][0]} (only in A)" if e["in_a"] else
                 f"{e['count'][1]} (only in B)")
        table.add_row(f"{mark}{safe(e['edge'])}", count, rows_text, e["values"],
                      safe("; ".join(e["reasons"])))
    console.print(table)
    first = report["first_changed"]
    console.print("most upstream changed edge(s): " + (
        safe(", ".join(first)) if first else "none: the runs carry the same data"))
    return EXIT_OK
