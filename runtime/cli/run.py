"""The ``edgewise run`` command: run a flow headless, with live progress, then a summary."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from runtime._api import Run, plan
from runtime._engine import RunOptions
from runtime._errors import FlowFileError, FlowInvalidError, Problem, UntrustedFlowError
from runtime._messages import Batch
from runtime._plugins_dir import registry_for_flow
from runtime._previews import preview
from runtime._record import Recorder, StoragePolicy, record_run, runs_root
from runtime._taps import Snapshot
from runtime._terminal import plain
from runtime.cli.common import engine_from, problem_lines
from runtime.cli.exits import EXIT_ERRORS, EXIT_INVALID
from runtime.cli.summary import print_summary, progress_table

DEBUG_LINES_PER_SECOND = 20


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
        err.print(plain(f"edgewise run: {exc}"), markup=False)
        if args.json:
            print(json.dumps({"status": "untrusted", "nodes": {}, "edges": {},
                              "code_nodes": [n for n, _c in exc.code_nodes]}))
        return EXIT_INVALID
    except (FlowFileError, FlowInvalidError) as exc:
        problems = exc.problems if isinstance(exc, FlowInvalidError) else [
            Problem(message=str(exc), code="file")]
        for line in problem_lines(args.flow, problems):
            err.print(line, markup=False)
        if args.json:
            print(json.dumps({"status": "invalid", "nodes": {}, "edges": {}}))
        return EXIT_INVALID
    engine, problem = engine_from(args, checked)
    if problem:
        err.print(plain(f"edgewise run: {problem}"), markup=False)
        if args.json:
            print(json.dumps({"status": "not-run", "nodes": {}, "edges": {}}))
        return EXIT_INVALID
    run = Run(checked, engine=engine, options=RunOptions(fail_fast=args.fail_fast))
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
        live = Live(progress_table({}), console=out, refresh_per_second=4, transient=True)
        latest: dict[str, dict[str, Any]] = {}

        def show(snap: Snapshot) -> None:
            latest.update(snap["edges"])
            assert live is not None  # noqa: S101 - set just above
            live.update(progress_table(latest))

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
    print_summary(result, {nid: node.spec.id for nid, node in run.plan.nodes.items()},
                  run.stats, run.hooks.errors, report)
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
