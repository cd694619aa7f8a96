"""The ``edgewise serve`` command: run a flow until stopped, answering HTTP requests.

SIGINT or SIGTERM drains the flow (see ``runtime._serve.server``); a second one stops it at
once. The exit code is 0 when everything was drained and every request answered, 1 when
something was left undone (the drain timed out, requests got no answer, the recording
failed), 2 for a mistake in what was asked (an invalid flow, a port in use, a bad token).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from runtime._api import plan
from runtime._engine import RunOptions
from runtime._errors import FlowFileError, FlowInvalidError, Problem, UntrustedFlowError
from runtime._plugins_dir import registry_for_flow
from runtime._record import Recorder, StoragePolicy, record_run, runs_root
from runtime._serve import FlowServer, ServeOutcome
from runtime._terminal import plain
from runtime.cli.common import problem_lines
from runtime.cli.exits import EXIT_ERRORS, EXIT_INVALID, EXIT_OK
from runtime.cli.hosting import host_problem, read_token


def _say(line: str, *, err: bool = False) -> None:
    print(plain(line), file=sys.stderr if err else sys.stdout, flush=True)


def _fail(message: str) -> int:
    _say(f"edgewise serve: {message}", err=True)
    return EXIT_INVALID


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a flow until SIGINT or SIGTERM."""
    token, problem = read_token(args)
    problem = problem or host_problem(args.host, token, "the flow")
    if problem:
        return _fail(problem)
    flow = Path(args.flow)
    registry, warnings = registry_for_flow(flow, trust=args.trust,
                                           trust_once="`edgewise serve --trust`")
    for line in warnings:
        _say(f"warning: {line}", err=True)
    try:
        checked = plan(flow, trust=args.trust, registry=registry)
    except UntrustedFlowError as exc:
        return _fail(str(exc))
    except (FlowFileError, FlowInvalidError) as exc:
        problems = exc.problems if isinstance(exc, FlowInvalidError) else [
            Problem(message=str(exc), code="file")]
        for line in problem_lines(args.flow, problems):
            _say(line, err=True)
        return EXIT_INVALID
    try:
        server = FlowServer(checked, host=args.host, port=args.port, token=token,
                            options=RunOptions(), name=flow.stem)
    except FlowInvalidError as exc:
        for line in problem_lines(args.flow, exc.problems):
            _say(line, err=True)
        return EXIT_INVALID
    if not server.configs:
        return _fail(f"{args.flow} has no http.in node, so there is nothing to serve; add "
                     "one, or run the flow with `edgewise run`")
    recorder: Recorder | None = None
    if args.record:
        policy = StoragePolicy(max_values=args.keep_values, sample_every=args.sample)
        workspace = flow.resolve().parent
        try:
            recorder = record_run(server.run, workspace, policy=policy,
                                  links={"flow_file": str(flow.resolve()),
                                         "started_by": "edgewise serve"})
        except OSError as exc:
            where = exc.filename or runs_root(workspace)
            return _fail(f"cannot record the run in {where}: {exc.strerror or exc}; nothing "
                         "was served (free some space, or serve without --record)")
    try:
        outcome = asyncio.run(_serve(server, args.drain_timeout))
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
                     "choose another --port, or stop what uses it")
    if outcome is None:
        return EXIT_INVALID
    return _report(outcome, recorder)


async def _serve(server: FlowServer, drain_timeout: float) -> ServeOutcome | None:
    """Serve until a signal (or the flow ends by itself); then drain."""
    await server.start()
    assert server.run_task is not None  # noqa: S101 - set by start()
    paths = ", ".join(f"{c.method} {server.url}{c.path}" for c in server.configs)
    suffix = " (send 'Authorization: Bearer <token>')" if server.token else ""
    _say(f"serving {server.name}: {paths}; docs at {server.url}/docs, health at "
         f"{server.url}/health, metrics at {server.url}/metrics{suffix}. "
         "Stop with Ctrl-C (or SIGTERM).")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            _say(f"stopping: draining what is in flight (at most {drain_timeout:g} s; "
                 "a second Ctrl-C stops at once)")
            stop.set()
        else:
            server.run.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, server.run_task}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    ended_alone = server.run_task.done() and not stop.is_set()
    if ended_alone:
        _say("the flow ended by itself (a source failed or ended); stopping the server",
             err=True)
    outcome = await server.stop(drain_timeout)
    outcome.ended_alone = ended_alone
    return outcome


def _report(outcome: ServeOutcome, recorder: Recorder | None) -> int:
    result = outcome.result
    nodes = ", ".join(f"{n}: {r.fired} fired" + (f", {r.errors} failed" if r.errors else "")
                      for n, r in result.nodes.items())
    _say(f"stopped: {result.status}; {nodes}")
    code = EXIT_OK
    if result.first_error is not None:
        _say(f"first error: {result.first_error}", err=True)
    if result.status in ("stopped", "aborted"):
        left = ", ".join(f"{n}: {c}" for n, c in result.undone.items()) or "none queued"
        busy = ", ".join(n for n, r in result.nodes.items() if r.state == "stopped") or "none"
        _say(f"the drain did not finish in time; messages left unhandled per node: {left}; "
             f"nodes cut short: {busy}", err=True)
        code = EXIT_ERRORS
    if outcome.ended_alone:
        code = EXIT_ERRORS
    if outcome.unanswered:
        _say(f"{outcome.unanswered} request(s) got no answer from the flow (answered 503)",
             err=True)
        code = EXIT_ERRORS
    if recorder is not None and recorder.failure is None:
        _say(f"recorded as run {recorder.run_id} in {recorder.folder}")
    elif recorder is not None:
        _say(f"recording failed: {recorder.failure}", err=True)
        code = EXIT_ERRORS
    return code
