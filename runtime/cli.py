"""The ``edgewise`` command line: run, validate, list components, print the schema.

Exit codes: 0 success; 1 a run finished but some node failed on a message (or it was cut
short); 2 the flow is invalid or cannot be read, and nothing ran.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

import runtime
from runtime.api import Run, components, plan, validate
from runtime.cli_runs import add_commands
from runtime.cli_trust import add_command as add_trust_command
from runtime.engine import RunOptions, RunResult
from runtime.errors import (
    EdgewiseError,
    FlowFileError,
    FlowInvalidError,
    Problem,
    UntrustedFlowError,
)
from runtime.messages import Batch
from runtime.model import MAX_FLOW_BYTES, flow_json_schema
from runtime.plugins_dir import registry_for_flow
from runtime.previews import preview
from runtime.record import Recorder, StoragePolicy, record_run, runs_root
from runtime.registry import default_registry
from runtime.taps import Snapshot
from runtime.terminal import plain

EXIT_OK, EXIT_ERRORS, EXIT_INVALID = 0, 1, 2
COMMANDS_GROUP = "edgewise.commands"
DEBUG_LINES_PER_SECOND = 20
FLOW_HELP = f"the flow file (.json, at most {MAX_FLOW_BYTES // 2**20} MiB)"


def _problem_lines(flow: str, problems: Sequence[Problem]) -> list[str]:
    """One line per problem, led by the flow file unless the message already names it."""
    named = (f"{flow}:", f"{Path(flow)}:")
    return [plain(p.message if p.message.startswith(named) else f"{flow}: {p}")
            for p in problems]


class DebugPrinter:
    """Prints what debug nodes receive, at most a few lines a second, counting the rest."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.window = 0.0
        self.budget = DEBUG_LINES_PER_SECOND
        self.hidden = 0

    def __call__(self, node: str, batch: Batch) -> None:
        """Print one batch that reached a debug node."""
        now = time.monotonic()
        if now - self.window >= 1.0:
            self.window, self.budget = now, DEBUG_LINES_PER_SECOND
        for value in batch.values:
            if self.budget <= 0:
                self.hidden += 1
                continue
            self.budget -= 1
            self.console.print(f"[bold cyan]debug[/] [cyan]{escape(plain(node))}[/]: "
                               f"{escape(plain(self.render(value)))}", highlight=False,
                               soft_wrap=True)

    @staticmethod
    def render(value: Any) -> str:
        """A compact, one- or few-line text for a value."""
        info = preview(value)
        if info["kind"] == "dataframe":
            return f"{info['summary']} (first rows: {json.dumps(info['head'][:3])})"
        if info["kind"] in ("dict", "list", "tuple", "errorrecord"):
            return json.dumps(info["value"])
        if info["kind"] == "model":
            return f"{info['summary']} {json.dumps(info['params'])}"
        return str(info.get("value", info["summary"]))

    def close(self) -> None:
        """Say how many messages were not printed."""
        if self.hidden:
            self.console.print(f"[dim]debug: {self.hidden} more message(s) not shown "
                               f"(at most {DEBUG_LINES_PER_SECOND} lines a second)[/]")


def _progress_table(snapshot: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="running", title_justify="left", box=None, pad_edge=False)
    table.add_column("edge")
    table.add_column("messages", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("rate/s", justify="right")
    for edge, info in snapshot.items():
        rows = info.get("rows")
        table.add_row(edge, f"{info['count']:,}", "" if rows is None else f"{rows:,}",
                      f"{info.get('rate', 0):,.0f}")
    return table


def _summary(result: RunResult, run: Run, console: Console) -> None:
    specs = {nid: node.spec.id for nid, node in run.plan.nodes.items()}
    nodes = Table(title=f"nodes ({result.status}, {result.seconds:.2f} s)", title_justify="left")
    for col in ("node", "component", "state", "fired", "errors"):
        nodes.add_column(col, justify="right" if col in ("fired", "errors") else "left")
    for nid, info in result.nodes.items():
        state = f"[red]{info.state}[/]" if info.state == "failed" else info.state
        nodes.add_row(escape(plain(nid)), escape(plain(specs[nid])), state, f"{info.fired:,}",
                      f"{info.errors:,}")
    console.print(nodes)
    edges = Table(title="edges", title_justify="left")
    edges.add_column("edge")
    edges.add_column("messages", justify="right")
    edges.add_column("rows", justify="right")
    stats = run.stats
    for edge, count in result.edges.items():
        stat = stats.edges[edge]
        shows_rows = stat.rows_mode == "all" or stat.saw_frames
        rows = f"{stat.rows:,}" if shows_rows else ""
        edges.add_row(escape(plain(edge)), f"{count:,}", rows)
    console.print(edges)
    for nid, record in stats.last_errors.items():
        first_line = record.message.splitlines()[0] if record.message else ""
        if len(first_line) > 240:
            first_line = first_line[:239] + "…"
        console.print(f"[red]node '{escape(plain(nid))}' failed on "
                      f"{result.nodes[nid].errors} firing(s)[/]; last error: "
                      f"{escape(plain(record.error))}: {escape(plain(first_line))}",
                      highlight=False)
    for problem in run.hooks.errors:
        console.print(f"[yellow]warning:[/] {escape(plain(problem))}", highlight=False)
    if result.status == "aborted" and result.first_error is not None:
        console.print(f"[red]stopped by --fail-fast:[/] "
                      f"{escape(plain(result.first_error))}", highlight=False)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a flow headless."""
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    registry, warnings = registry_for_flow(Path(args.flow), trust=args.trust,
                                           trust_once="`edgewise run --trust`")
    for line in warnings:
        err.print(f"warning: {plain(line)}", markup=False)
    try:
        checked = plan(Path(args.flow), trust=args.trust, registry=registry)
    except UntrustedFlowError as exc:
        err.print(f"edgewise run: {exc}", markup=False)
        if args.json:
            print(json.dumps({"status": "untrusted", "nodes": {}, "edges": {},
                              "code_nodes": [n for n, _c in exc.code_nodes]}))
        return EXIT_INVALID
    except (FlowFileError, FlowInvalidError) as exc:
        problems = exc.problems if isinstance(exc, FlowInvalidError) else [
            Problem(message=str(exc), code="file")]
        for line in _problem_lines(args.flow, problems):
            err.print(line, markup=False)
        if args.json:
            print(json.dumps({"status": "invalid", "nodes": {}, "edges": {}}))
        return EXIT_INVALID
    run = Run(checked, options=RunOptions(fail_fast=args.fail_fast))
    recorder: Recorder | None = None
    if args.record:
        policy = StoragePolicy(max_values=args.keep_values, sample_every=args.sample)
        workspace = Path(args.flow).resolve().parent
        try:
            recorder = record_run(run, workspace, policy=policy,
                                  links={"flow_file": str(Path(args.flow).resolve())})
        except OSError as exc:

            where = exc.filename or runs_root(workspace)
            err.print(plain(f"edgewise run: cannot record the run in {where}: "
                            f"{exc.strerror or exc}; nothing ran (free some space, or run the "
                            "flow without --record)"), markup=False)
            if args.json:
                print(json.dumps({"status": "not-run", "nodes": {}, "edges": {},
                                  "recording": {"run": None, "status": "failed",
                                                "error": exc.strerror or str(exc)}}))
            return EXIT_ERRORS
    printer = DebugPrinter(out)
    run.on_display(printer)
    _ = run.stats
    report = err if args.json else out
    live: Live | None = None
    if out.is_terminal and not args.json:
        live = Live(_progress_table({}), console=out, refresh_per_second=4, transient=True)
        latest: dict[str, dict[str, Any]] = {}

        def show(snap: Snapshot) -> None:
            latest.update(snap["edges"])
            assert live is not None  # noqa: S101 - set just above
            live.update(_progress_table(latest))

        run.subscribe(show)
        live.start()
    try:
        result = run.run()
    except KeyboardInterrupt:
        run.stop()
        err.print("interrupted")
        return EXIT_ERRORS
    finally:
        if live is not None:
            live.stop()
    printer.close()
    _summary(result, run, report)
    if recorder is not None and recorder.failure is None:
        report.print(f"recorded as run [bold]{recorder.run_id}[/] in "
                     f"{escape(str(recorder.folder))}")
    elif recorder is not None:

        err.print(plain(f"edgewise run: recording failed: {recorder.failure}; the run was "
                        f"stopped, and run {recorder.run_id} is kept as far as it got, marked "
                        "incomplete"), markup=False)
    if args.json:
        summary = result.to_json()
        final: dict[str, Any] = {key: summary[key] for key in ("status", "nodes", "edges")}
        if recorder is not None:
            final["recording"] = {"run": recorder.run_id,
                                 "status": "incomplete" if recorder.failure else "complete",
                                 "error": recorder.failure}
        print(json.dumps(final))
    if recorder is not None and recorder.failure is not None:
        return EXIT_ERRORS
    return result.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a flow and list every problem."""
    registry, warnings = registry_for_flow(Path(args.flow))
    for line in warnings:
        print(f"warning: {plain(line)}", file=sys.stderr)
    problems = validate(Path(args.flow), registry=registry)
    if args.json:
        print(json.dumps({"valid": not problems, "problems": [p.to_json() for p in problems]}))
    else:
        for line in _problem_lines(args.flow, problems):
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


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"'{text}' is not a whole number"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 0:
        msg = f"{value} is negative; give 0 or more"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgewise`` command."""
    parser = argparse.ArgumentParser(
        prog="edgewise", description="Run and check Edgewise flows from the command line.")
    parser.add_argument("--version", action="version", version=f"edgewise {runtime.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("run", help="run a flow headless")
    p.add_argument("flow", metavar="FLOW", help=FLOW_HELP)
    p.add_argument("--json", action="store_true",
                   help="end stdout with one JSON line summarising the run")
    p.add_argument("--fail-fast", action="store_true",
                   help="stop the whole run at the first failed firing")
    p.add_argument("--trust", action="store_true",
                   help="run it this once even if it holds code and is not trusted "
                        "(see `edgewise trust`)")
    p.add_argument("--record", action="store_true",
                   help="keep the run under .edgewise/runs/ next to the flow file")
    p.add_argument("--keep-values", type=_count, default=None, metavar="N",
                   help="with --record: keep at most N values per output port (default: all)")
    p.add_argument("--sample", type=_count, default=0, metavar="K",
                   help="with --keep-values: past the cap, keep one value in K")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("validate", help="list every problem of a flow")
    p.add_argument("flow", metavar="FLOW", help=FLOW_HELP)
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("components", help="list the installed components")
    p.add_argument("--json", action="store_true", help="describe them as JSON")
    p.set_defaults(func=cmd_components)
    p = sub.add_parser("schema", help="print the JSON Schema of flow files")
    p.set_defaults(func=cmd_schema)
    add_commands(sub)
    add_trust_command(sub)
    for ep in importlib.metadata.entry_points(group=COMMANDS_GROUP):
        try:
            ep.load()(sub)
        except Exception as exc:  # noqa: BLE001 - a broken add-on must not break the CLI
            print(f"warning: command plugin '{ep.name}' failed to load: {exc}", file=sys.stderr)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edgewise`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except EdgewiseError as exc:
        print(plain(f"edgewise: {exc}"), file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
