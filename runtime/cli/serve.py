"""The ``edgewise serve`` command: run a flow until stopped, answering HTTP requests.

SIGINT or SIGTERM drains the flow (see ``runtime._serve.server``); a second one stops it at
once. The exit code is 0 when everything was drained and every request answered, 1 when
something was left undone (the drain timed out, requests got no answer, the recording
failed), 2 for a mistake in what was asked (an invalid flow, a port in use, a bad token).

With ``--watch``, each saved version of the flow file that validates is deployed without a
restart (``runtime._serve.watch``); a version that does not is refused and logged, and the
one serving goes on. ``--trust`` covers only the version served at start: a later version
that holds code must be trusted (``edgewise trust FLOW``) to be deployed.

With ``--engine ray [--address ADDR]``, the flow's nodes run in Ray actors as with
``edgewise run``; the HTTP server, and the nodes that take and answer requests, stay here.
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
from runtime._serve import Deployment, FlowServer, ServeOutcome, endpoint_configs
from runtime._serve.watch import Checked, FlowWatcher
from runtime._terminal import plain
from runtime.cli.common import engine_from, problem_lines
from runtime.cli.exits import EXIT_ERRORS, EXIT_INVALID, EXIT_OK
from runtime.cli.hosting import host_problem, read_token


def _say(line: str, *, err: bool = False) -> None:
    print(plain(line), file=sys.stderr if err else sys.stdout, flush=True)


def _fail(message: str) -> int:
    _say(f"edgewise serve: {message}", err=True)
    return EXIT_INVALID


def check_version(flow: Path, *, trust: bool, name: str, redeploy: bool = False) -> Checked:
    """Check a version of the flow file as the serve command does; never raises.

    The same checks and messages as ``edgewise validate`` (plugins next to the flow, trust),
    then what serving needs: endpoints that do not clash, and at least one. A ``redeploy``
    (a version saved while serving) is never covered by ``--trust``.
    """
    registry, warnings = registry_for_flow(
        flow, trust=trust, trust_once=None if redeploy else "`edgewise serve --trust`")
    try:
        checked = plan(flow, trust=trust, registry=registry)
    except UntrustedFlowError as exc:
        note = (" (--trust covers only the version served at start: trust this one with "
                f"`edgewise trust {name}`, then save it again)") if redeploy else ""
        return Checked(None, [f"edgewise serve: {exc}{note}"], warnings)
    except FlowFileError as exc:
        lines = problem_lines(name, [Problem(message=str(exc), code="file")])
        return Checked(None, lines, warnings, unreadable=True)
    except FlowInvalidError as exc:
        return Checked(None, problem_lines(name, exc.problems), warnings)
    try:
        configs = endpoint_configs(checked)
    except FlowInvalidError as exc:
        return Checked(None, problem_lines(name, exc.problems), warnings)
    if not configs:
        return Checked(None, [f"edgewise serve: {name} has no http.in node, so there is "
                              "nothing to serve; add one, or run the flow with `edgewise run`"],
                       warnings)
    return Checked(checked, [], warnings)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a flow until SIGINT or SIGTERM."""
    token, problem = read_token(args)
    problem = problem or host_problem(args.host, token, "the flow")
    if problem:
        return _fail(problem)
    flow = Path(args.flow)
    checked = check_version(flow, trust=args.trust, name=args.flow)
    for line in checked.warnings:
        _say(f"warning: {line}", err=True)
    for line in checked.problems:
        _say(line, err=True)
    if checked.plan is None:
        return EXIT_INVALID
    engine, problem = engine_from(args, checked.plan)
    if problem:
        return _fail(problem)
    server = FlowServer(checked.plan, host=args.host, port=args.port, token=token,
                        options=RunOptions(), name=flow.stem, engine=engine)
    recorders: list[tuple[int, Recorder]] = []
    workspace = flow.resolve().parent

    def record(deployment: Deployment, version: int) -> None:
        policy = StoragePolicy(max_values=args.keep_values, sample_every=args.sample)
        recorders.append((version, record_run(deployment.run, workspace, policy=policy, links={
            "flow_file": str(flow.resolve()), "started_by": "edgewise serve",
            "flow_version": version})))

    if args.record:
        try:
            record(server.deployment, 1)
        except OSError as exc:
            where = exc.filename or runs_root(workspace)
            return _fail(f"cannot record the run in {where}: {exc.strerror or exc}; nothing "
                         "was served (free some space, or serve without --record)")
    watcher: FlowWatcher | None = None
    if args.watch:
        watcher = FlowWatcher(
            server, flow,
            lambda path: check_version(path, trust=False, name=args.flow, redeploy=True),
            say=_say, drain_timeout=args.drain_timeout, options=RunOptions(),
            prepare=record if args.record else None, engine=lambda: engine_from(args))
    try:
        outcome = asyncio.run(_serve(server, args.drain_timeout, watcher))
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
                     "choose another --port, or stop what uses it")
    if outcome is None:
        return EXIT_INVALID
    code = _report(outcome, recorders)
    if watcher is not None and watcher.left_undone:
        code = EXIT_ERRORS
    return code


async def _serve(server: FlowServer, drain_timeout: float,
                 watcher: FlowWatcher | None = None) -> ServeOutcome | None:
    """Serve until a signal (or the flow ends by itself); then drain."""
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

    for sig in (signal.SIGINT, signal.SIGTERM):  # a signal while starting drains after it
        loop.add_signal_handler(sig, on_signal)
    await server.start()
    assert server.run_task is not None  # noqa: S101 - set by start()
    paths = ", ".join(f"{c.method} {server.url}{c.path}" for c in server.configs)
    suffix = " (send 'Authorization: Bearer <token>')" if server.token else ""
    _say(f"serving {server.name}: {paths}; docs at {server.url}/docs, health at "
         f"{server.url}/health, metrics at {server.url}/metrics{suffix}. "
         "Stop with Ctrl-C (or SIGTERM).")
    if watcher is not None:
        watcher.start()
        _say(f"watching {watcher.path}: each saved version that validates is deployed "
             "without a restart")
    waiter = asyncio.create_task(stop.wait())
    while True:
        current = server.run_task
        assert current is not None  # noqa: S101 - every deployment serving has started
        await asyncio.wait({waiter, current}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set() or server.run_task is current:
            break  # a signal, or the version serving ended by itself (not replaced)
    waiter.cancel()
    if watcher is not None:
        await watcher.close()
    ended_alone = server.run_task.done() and not stop.is_set()
    if ended_alone:
        _say("the flow ended by itself (a source failed or ended); stopping the server",
             err=True)
    outcome = await server.stop(drain_timeout)
    outcome.ended_alone = ended_alone
    return outcome


def _report(outcome: ServeOutcome, recorders: list[tuple[int, Recorder]]) -> int:
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
    several = len(recorders) > 1
    for version, recorder in recorders:
        which = f"version {version} " if several else ""
        if recorder.failure is None:
            _say(f"recorded {which}as run {recorder.run_id} in {recorder.folder}")
        else:
            _say(f"recording {which}failed: {recorder.failure}", err=True)
            code = EXIT_ERRORS
    return code
