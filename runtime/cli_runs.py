"""Command-line commands for kept runs: runs, inspect, trace, audits, replay and diff."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runtime.cli_common import EXIT_ERRORS, EXIT_INVALID, EXIT_OK, UsageError, workspace_of
from runtime.cli_common import out as _out
from runtime.cli_common import safe as _safe
from runtime.record import RunStore, list_runs, runs_root
from runtime.record.lineage import Lineage
from runtime.record.store import MessageInfo
from runtime.terminal import plain

MAX_ID = 2**63 - 1


def open_run(args: argparse.Namespace, ref: str) -> RunStore:
    """Find a run by id, unique id prefix, ``latest`` or folder path."""
    path = Path(ref)
    if any((path / name).exists() for name in ("manifest.json", "index.sqlite")):
        return RunStore(path)
    runs = list_runs(workspace_of(args))
    if not runs:
        msg = f"no kept runs in {runs_root(workspace_of(args))}; run a flow with --record first"
        raise UsageError(msg)
    if ref == "latest":
        return runs[-1]
    if ref.startswith("latest~") and ref[7:].isdigit():
        back = int(ref[7:])
        if back >= len(runs):
            msg = f"there are only {len(runs)} kept runs"
            raise UsageError(msg)
        return runs[-1 - back]
    matches = [r for r in runs if r.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        msg = f"no run '{ref}' in {runs_root(workspace_of(args))} (see `edgewise runs`)"
        raise UsageError(msg)
    msg = f"'{ref}' matches {len(matches)} runs; give more of the id"
    raise UsageError(msg)


def pick_message(store: RunStore, origin: str, args: argparse.Namespace) -> MessageInfo:
    """The message named by ``--id`` or ``--message`` (position; default: the last)."""
    if "." not in origin:
        msg = f"'{origin}' must name an output port as NODE.PORT, e.g. predict.data"
        raise UsageError(msg)
    if getattr(args, "id", None) is not None:
        found = store.message(args.id)
        if found is None or found.origin != origin:
            msg = f"run {store.id} has no message {args.id} on {origin}"
            raise UsageError(msg)
        return found
    total = store.count(origin)
    if getattr(args, "row", None) is not None and args.message is None and total:
        return _message_with_row(store, origin, args.row)
    if total == 0:
        known = ", ".join(sorted(store.origins()))
        msg = f"no message was recorded on {origin} in run {store.id} (ports: {known})"
        raise UsageError(msg)
    position = args.message if args.message is not None else -1
    found = store.message_at(origin, position)
    if found is None:
        msg = (f"{origin} has {total} message(s) in run {store.id}; --message {position} "
               "is out of range")
        raise UsageError(msg)
    return found


def _message_with_row(store: RunStore, origin: str, row: str) -> MessageInfo:
    """The message on a port whose DataFrame holds a row id (the newest, if several do)."""
    from runtime.record.lineage import _match_label

    holders = []
    labels: list[Any] = []
    for message in store.messages(origin):
        try:
            value = store.value(message.id)
        except KeyError:
            continue
        if not hasattr(value, "index"):
            continue
        labels += [value.index.min(), value.index.max()] if len(value) else []
        if _match_label(value.index, row) is not None:
            holders.append(message)
    if not holders:
        span = ""
        try:
            span = f"; its row ids run from {min(labels)} to {max(labels)}" if labels else ""
        except TypeError:  # ids of mixed kinds
            pass
        msg = f"no message on {origin} in run {store.id} has a row with id {row!r}{span}"
        raise UsageError(msg)
    if len(holders) > 1:
        print(plain(f"note: {len(holders)} messages on {origin} hold row {row} "
                    f"({', '.join(str(h.id) for h in holders[:10])}); using the newest, "
                    f"{holders[-1].id}; pick one with --id"), file=sys.stderr)
    return holders[-1]


# -- inspect ------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print what passed along an edge."""
    store = open_run(args, args.run)
    manifest = store.manifest()
    # An interrupted run has no edge statistics; its flow snapshot still names the edges.
    edges = list(manifest.get("edges") or {}) or [
        f"{e['source']}->{e['target']}" for e in manifest["flow"].get("edges", [])]
    ports = sorted(set(store.origins()) | {e.split("->")[0] for e in edges})
    if args.edge not in edges and args.edge not in ports:
        import difflib

        known = edges + [p for p in ports if not any(e.startswith(p + "->") for e in edges)]
        close = [e for e in known if args.edge in e] or difflib.get_close_matches(
            args.edge, known, n=1, cutoff=0.5)
        hint = (f"; did you mean {close[0]}?" if close
                else f"; edges and ports: {', '.join(known)}")
        msg = f"run {store.id} has no edge or output port '{args.edge}'{hint}"
        raise UsageError(msg)
    origin = args.edge.split("->")[0]
    if args.message is None:
        listing = [m.to_json() for m in store.messages(origin)]
        if args.json:
            print(json.dumps({"run": store.id, "edge": args.edge, "messages": listing}))
            return EXIT_OK
        table = Table(title=_safe(f"{args.edge} in run {store.id}: {len(listing)} message(s)"),
                      title_justify="left", box=None)
        for col in ("#", "id", "t (s)", "rows", "value"):
            table.add_column(col)
        for m in listing:
            summary = ((m["preview"] or {}).get("summary") or "(not kept)").splitlines()[0]
            table.add_row(str(m["position"]), str(m["id"]), f"{m['t']:.3f}",
                          "" if m["rows"] is None else str(m["rows"]), _safe(summary))
        _out().print(table)
        return EXIT_OK
    message = pick_message(store, origin, args)
    try:
        value = store.value(message.id)
    except KeyError:
        value = None
    if args.json:
        from runtime.previews import detail

        print(json.dumps({"run": store.id, "edge": args.edge, "message": message.to_json(),
                          "value": detail(value) if value is not None else None}))
        return EXIT_OK
    console = _out()
    console.print(_safe(f"message {message.id} (#{message.position} on {args.edge}), made by "
                        f"{message.origin} at {message.t:.3f} s; parents: "
                        f"{_ranges_text(message)}"))
    if value is None:
        console.print("(its value was not kept by the storage policy)")
    elif hasattr(value, "to_string"):
        console.print(_safe(value.to_string(max_rows=30, max_cols=20)))
    else:
        console.print(_safe(json.dumps(value, default=str, indent=2)
                            if isinstance(value, dict | list) else repr(value)))
    return EXIT_OK


def _ranges_text(message: MessageInfo) -> str:
    if not message.parent_ranges:
        return "none (a source)"
    parts = [str(a) if b == a + 1 else f"{a}..{b - 1}" for a, b in message.parent_ranges]
    return ", ".join(parts)


# -- trace and the audit questions --------------------------------------------------------


def cmd_trace(args: argparse.Namespace) -> int:
    """Walk an output (or one of its rows) back to its sources."""
    store = open_run(args, args.run)
    message = pick_message(store, args.port, args)
    steps = Lineage(store).trace(message.id, args.row)
    if args.json:
        print(json.dumps({"run": store.id, "steps": [s.to_json() for s in steps]}))
        return EXIT_OK
    console = _out()
    what = f"row {args.row} of message {message.id}" if args.row is not None else \
        f"message {message.id}"
    console.print(f"[bold]{_safe(what)}[/] on {_safe(message.origin)}, run {_safe(store.id)}:")
    for step in steps:
        depth = step.depth
        m = step.message
        rows = f", {m.rows} rows" if m.rows is not None else ""
        line = (f"{'  ' * min(depth, 12)}← #{m.id} {m.origin} ({step.component}{rows}, "
                f"t={m.t:.3f} s)")
        console.print(_safe(line))
        for side in step.side_inputs:
            kind = (side.preview or {}).get("summary", "")
            console.print(_safe(f"{'  ' * min(depth, 12)}   with #{side.id} {side.origin} "
                                f"{kind}"))
        if step.source and step.source.get("text"):
            console.print(_safe(f"{'  ' * min(depth, 12)}   source: {step.source['text']}"))
        if step.note:
            console.print(f"[yellow]{_safe(step.note)}[/]")
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
    console = _out()
    console.print(_safe(f"row {args.row} of message {message.id} ({message.origin}) was scored "
                        f"at node '{answer['scored_at']['node']}' by model message "
                        f"{model['message']}"))
    console.print(_safe(f"  estimator: {model['estimator']}"))
    console.print(_safe(f"  params:    {json.dumps(model['params'])}"))
    if model.get("features"):
        console.print(_safe(f"  features:  {', '.join(map(str, model['features']))}"))
    console.print(_safe(f"  trained:   {model['trained']['seconds_into_run']:.3f} s into the run "
                        f"started {model['trained']['run_started']}"))
    for data in model["training_data"]:
        console.print(_safe(f"  fitted on: message {data['message']} from '{data['node']}' "
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
    console = _out()
    console.print(_safe(f"model message {message.id} ({facts['estimator']}) was fitted on "
                        f"{len(rows)} row(s):"))
    console.print(_safe(rows.head(20).to_string()))
    if len(rows) > 20:
        console.print(f"… {len(rows) - 20} more")
    if args.export:
        console.print(_safe(f"exported to {args.export}"))
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


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-run a node and everything downstream on a run's recorded inputs."""
    from runtime.errors import FlowFileError, FlowInvalidError
    from runtime.model import read_flow_document
    from runtime.record.diff import compare_replay
    from runtime.record.replay import plan_replay, run_replay
    from runtime.terminal import plain

    store = open_run(args, args.run)
    edited = None
    if args.flow:
        try:
            edited = read_flow_document(args.flow)
        except FlowFileError as exc:
            raise UsageError(str(exc)) from exc
    workspace = store.folder.parent.parent.parent
    try:
        plan = plan_replay(store, args.from_node, workspace, flow=edited,
                           write_outputs=args.write_outputs, trust=args.trust,
                           flow_name=args.flow)
    except FlowInvalidError as exc:
        raise UsageError("; ".join(p.message for p in exc.problems)) from exc
    console = _out()
    if not args.json:
        _print_plan(console, plan, args.write_outputs)
    try:
        result, recorder = run_replay(plan, workspace)
    except FlowInvalidError as exc:
        raise UsageError("; ".join(p.message for p in exc.problems)) from exc
    verdict = compare_replay(store, recorder.store, plan.part)
    if args.json:
        print(json.dumps({"run": recorder.run_id, "replay_of": store.id, "status": result.status,
                          "plan": plan.to_json(), **verdict}, default=str))
        return EXIT_OK if result.status == "ok" and not verdict["failed"] else EXIT_ERRORS
    code = EXIT_OK if result.status == "ok" and not verdict["failed"] else EXIT_ERRORS
    console.print(f"replayed run {store.id} from '{escape(plain(args.from_node))}' as run "
                  f"[bold]{recorder.run_id}[/] ({result.status}, {result.seconds:.2f} s)")
    downstream, same = verdict["downstream"], verdict["identical"]
    if verdict["reproduced"]:
        console.print(f"reproduced exactly: all {len(downstream)} edges downstream carry the "
                      "same values as the recorded run")
        return code
    console.print(f"[yellow]not reproduced[/]: {len(same)} of {len(downstream)} edges "
                  "downstream carry the same values as the recorded run")
    notes = [("run status", [result.status] if result.status != "ok" else []),
             ("failed nodes", [f"{n} ({e} error(s))" for n, e in verdict["failed"].items()]),
             ("only in the replay", verdict["only_in_replay"]),
             ("only in the recorded run", verdict["only_in_recorded"]),
             ("values not kept, not compared", verdict["not_kept"]),
             ("changed, most upstream first", verdict["first_changed"]
              + [e for e in verdict["changed"] if e not in verdict["first_changed"]])]
    for title, items in notes:
        if items:
            console.print(escape(plain(f"  {title}: {', '.join(items)}")))
    console.print(f"see `edgewise diff {store.id} {recorder.run_id}`")
    return code


def _print_plan(console: Console, plan: Any, write_outputs: bool) -> None:
    """Say what a replay will run, on which recorded values, and where it will write."""
    from runtime.terminal import plain

    console.print(f"replaying run {plan.store.id} from '{escape(plain(plan.from_node))}'; "
                  "will run:")
    for node in plan.nodes:
        code = " [yellow](runs code from its params)[/]" if node["runs_code"] else ""
        console.print(f"  {escape(plain(node['node']))} ({escape(plain(node['component']))})"
                      f"{code}")
    for origin, info in plan.inputs.items():
        console.print(escape(plain(f"  fed {info['messages']} recorded message(s) of {origin} "
                                   f"into {', '.join(info['feeds'])}")))
    for param, where in plan.outputs.items():
        console.print(escape(plain(f"  {param}: writes {where['written']} instead of "
                                   f"{where['flow']}")))
    if plan.outputs and not write_outputs:
        console.print("  (sinks write inside the new run's folder; --write-outputs writes the "
                      "flow's own files)")


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two runs edge by edge."""
    from runtime.record.diff import diff_runs
    from runtime.terminal import plain

    a, b = open_run(args, args.run_a), open_run(args, args.run_b)
    report = diff_runs(a, b)
    if args.json:
        print(json.dumps(report, default=str))
        return EXIT_OK
    console = _out()
    console.print(f"run A {a.id} → run B {b.id}"
                  + ("" if report["same_flow"] else " (the flows differ)"))
    for change in report["param_changes"]:
        console.print(escape(plain(
            f"  node '{change['node']}': {change['change']}"
            + (f" {json.dumps(change.get('a'))} → {json.dumps(change.get('b'))}"
               if change["change"] == "params" else ""))))
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
        table.add_row(f"{mark}{escape(plain(e['edge']))}", count, rows_text, e["values"],
                      escape(plain("; ".join(e["reasons"]))))
    console.print(table)
    first = report["first_changed"]
    console.print("most upstream changed edge(s): " + (
        escape(plain(", ".join(first))) if first else "none: the runs carry the same data"))
    return EXIT_OK


def _whole(text: str) -> int:
    """A whole number that fits a message id or position."""
    try:
        value = int(text)
    except ValueError:
        msg = f"'{plain(text)}' is not a whole number"
        raise argparse.ArgumentTypeError(msg) from None
    if not -MAX_ID <= value <= MAX_ID:
        msg = f"{text} is too large; message ids and positions go up to {MAX_ID}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _message_id(text: str) -> int:
    """A message id: a whole number from 0 up."""
    value = _whole(text)
    if value < 0:
        msg = f"{value} is negative; message ids start at 0"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_commands(sub: Any) -> None:
    """Add the kept-run commands to the CLI."""
    from runtime.cli_runs_list import cmd_runs, days

    def workspace(p: argparse.ArgumentParser) -> None:
        p.add_argument("-w", "--workspace", default=None,
                       help="folder whose .edgewise/runs to use (default: . or ./flows)")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    def which(p: argparse.ArgumentParser, default_last: bool = True) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--message", type=_whole, default=None, metavar="N",
                           help="position of the message on the port (0 first, -1 last"
                                + (", the default; with --row, the message holding that "
                                   "row)" if default_last else ")"))
        group.add_argument("--id", type=_message_id, default=None, help="the message id")

    p = sub.add_parser("runs", help="list kept runs, or prune them")
    p.add_argument("action", nargs="?", choices=["list", "prune"], default="list")
    p.add_argument("--older-than", type=days, default=None, metavar="DAYS",
                   help="prune: delete runs started more than DAYS ago")
    p.add_argument("--keep", type=int, default=None, metavar="N",
                   help="prune: keep only the N newest runs")
    workspace(p)
    p.set_defaults(func=guarded(cmd_runs))

    p = sub.add_parser("inspect", help="print what passed along an edge in a kept run")
    p.add_argument("run", metavar="RUN", help="run id (or a prefix), latest, or a run folder")
    p.add_argument("edge", metavar="EDGE",
                   help="the edge, e.g. 'predict.data->score.data', or an output port with "
                        "or without edges, e.g. 'predict.error'")
    p.add_argument("--message", type=_whole, default=None, metavar="N",
                   help="show message N in full (0 first, -1 last); default: list them all")
    workspace(p)
    p.set_defaults(func=guarded(cmd_inspect))

    p = sub.add_parser("trace", help="walk an output, or one row of it, back to its sources")
    p.add_argument("run", metavar="RUN")
    p.add_argument("port", metavar="NODE.PORT")
    which(p)
    p.add_argument("--row", default=None, help="follow this DataFrame row id")
    workspace(p)
    p.set_defaults(func=guarded(cmd_trace))

    p = sub.add_parser("scored-by", help="which model scored this record?")
    p.add_argument("run", metavar="RUN")
    p.add_argument("port", metavar="NODE.PORT", help="where the record is, e.g. predict.data")
    which(p)
    p.add_argument("--row", required=True, help="the record's row id")
    workspace(p)
    p.set_defaults(func=guarded(cmd_scored_by))

    p = sub.add_parser("trained-on", help="which records trained this model?")
    p.add_argument("run", metavar="RUN")
    p.add_argument("port", metavar="NODE.PORT", help="the model's port, e.g. fit.model")
    which(p)
    p.add_argument("--export", default=None, metavar="FILE.csv",
                   help="write the training rows, with their sources, to a CSV file")
    workspace(p)
    p.set_defaults(func=guarded(cmd_trained_on))

    p = sub.add_parser("replay", help="re-run a node and what is downstream on recorded inputs")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--from", dest="from_node", required=True, metavar="NODE")
    p.add_argument("--flow", default=None, metavar="EDITED_FLOW",
                   help="run this edited flow instead of the recorded one")
    p.add_argument("--write-outputs", action="store_true",
                   help="let sinks write the flow's own output files (default: inside the "
                        "new run's folder)")
    p.add_argument("--trust", action="store_true",
                   help="replay it even if a replayed node runs code and the flow is not "
                        "trusted (see `edgewise trust`)")
    workspace(p)
    p.set_defaults(func=guarded(cmd_replay))

    p = sub.add_parser("diff", help="compare two kept runs edge by edge")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    workspace(p)
    p.set_defaults(func=guarded(cmd_diff))


def guarded(func: Any) -> Any:
    """Turn a user's mistake into a message and exit code 2, never a traceback."""
    def run(args: argparse.Namespace) -> int:
        try:
            code: int = func(args)
        except (UsageError, LookupError, ValueError) as exc:
            text = exc.args[0] if exc.args else str(exc)
            print(plain(f"edgewise {args.command}: {text}"), file=sys.stderr)
            return EXIT_INVALID
        return code
    return run
