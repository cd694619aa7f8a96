"""The worker process's side of a deployed flow: serve it, report its counts, redeploy, drain.

``serve_flow`` runs a ``FlowServer`` on 127.0.0.1 in the worker, as ``edgewise serve`` does,
and sends what the page needs: ``deployed`` (the base URL and the endpoints), the run's
snapshots and node failures (the live labels), ``redeployed`` or ``redeploy_refused``, and
``ended`` once stopped. A refusal to start (no ``http.in``, the port in use) is ``refused``.
Each version of the flow is kept as a run, as the editor's runs are.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import runtime
from editor.worker_answers import answer
from editor.worker_engine import make_engine

HOST = "127.0.0.1"
DRAIN_TIMEOUT = 10.0  # seconds the flow has to answer what it admitted, on stop or redeploy
QUIT_DRAIN = 1.0  # the editor went away: end soon, the process is ended right after
KEEP_PER_EDGE = 20
FAILURE_EVERY = 0.5
FAILURE_TEXT = 2000
EDITOR_POLICY = {"max_values": 1000, "sample_every": 100}
DEBUG_PER_WINDOW = 50  # debug entries sent at most per window: a served flow never ends
DEBUG_WINDOW = 0.05
DEBUG_TEXT = 1000

NO_ENDPOINT = ("the flow has no http.in node, so there is nothing to serve; add one (each "
               "http.in is an endpoint), or use Run")

Send = Callable[..., None]


def shown(node: str, mid: int, value: Any) -> dict[str, Any]:
    """A debug node's entry for one value, as the Debug panel lists it."""
    info = runtime.preview(value)
    if info["kind"] in ("dataframe", "model", "ndarray") or "value" not in info:
        text = str(info["summary"])
    else:
        text = info["value"] if isinstance(info["value"], str) else json.dumps(info["value"])
    return {"node": node, "id": mid, "kind": info["kind"], "text": text[:DEBUG_TEXT],
            "t": time.time()}


def port_problem(port: int, exc: OSError) -> str:
    """What to tell the user when the port cannot be listened on."""
    return (f"cannot listen on {HOST}:{port}: {exc.strerror or exc}; choose another port "
            "(empty: any free one), or stop what uses it")


def port_taken(port: int) -> str | None:
    """Why ``port`` cannot be served on, checked before anything starts; None when it can."""
    if port == 0:
        return None
    try:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((HOST, port))
    except OSError as exc:
        return port_problem(port, exc)
    return None


class Served:
    """One deployed flow in the worker: its server, the versions' runs, and what they send."""

    def __init__(self, send: Send, base_dir: Path, flow_file: str,
                 engine: str = "local") -> None:
        self.send = send
        self.base_dir = base_dir
        self.flow_file = flow_file
        self.engine = engine  # the engine's name: each version gets an engine of its own
        self.server: runtime.FlowServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_asked = threading.Event()  # set from the command thread, even before serving
        self.drain_timeout = DRAIN_TIMEOUT
        self.run_id: str | None = None
        self.kept: dict[str, deque[tuple[int, Any]]] = {}
        self.kept_lock = threading.Lock()
        self.failures: dict[str, float] = {}  # node -> when its last error was sent
        self.failed: dict[str, int] = {}  # node -> errors so far
        self.window = [0.0, 0.0]  # when the debug window began, entries sent in it
        self.switching = False
        self.problems: list[dict[str, Any]] = []

    # -- planning ----------------------------------------------------------------------------

    def plan(self, flow: dict[str, Any], plugins: bool) -> runtime.Plan | list[str]:
        """The checked flow, or what is wrong with it (one line a problem)."""
        registry = runtime.default_registry()
        if plugins:
            registry = runtime.workspace_registry(self.base_dir, registry)
        try:
            return runtime.plan(flow, base_dir=self.base_dir, registry=registry)
        except runtime.FlowInvalidError as exc:
            broken = [runtime.Problem(message=t, code="plugin") for t in registry.load_errors]
            self.problems = [p.to_json() for p in [*exc.problems, *broken]]
            return [str(p["message"]) for p in self.problems]

    def deployment(self, checked: runtime.Plan) -> runtime.Deployment | str:
        """A new version of the flow, observed and kept; or why it cannot be served."""
        engine, problem = make_engine(self.engine)
        if problem:
            return problem
        try:
            made = runtime.Deployment(checked, runtime.RunOptions(), engine)
        except runtime.FlowInvalidError as exc:
            return "; ".join(p.message for p in exc.problems)
        if not made.configs:
            return NO_ENDPOINT
        self.observe(made)
        return made

    def observe(self, made: runtime.Deployment) -> None:
        """Keep the version's run, and send its snapshots and failures while it is current."""
        run = made.run
        recorder = runtime.record_run(
            run, self.base_dir, policy=runtime.StoragePolicy(**EDITOR_POLICY),
            links={"flow_file": self.flow_file, "started_by": "editor deploy"})
        self.run_id = recorder.run_id

        def current() -> bool:
            return self.server is None or self.server.deployment is made

        def keep(edge: str, batch: runtime.Batch) -> None:
            tail = max(0, len(batch) - KEEP_PER_EDGE)
            with self.kept_lock:
                self.kept.setdefault(edge, deque(maxlen=KEEP_PER_EDGE)).extend(
                    zip(batch.ids[tail:], batch.values[tail:], strict=True))

        def failed(node: str, record: runtime.ErrorRecord) -> None:
            now = time.monotonic()
            self.failed[node] = self.failed.get(node, 0) + 1
            if now - self.failures.get(node, -FAILURE_EVERY) >= FAILURE_EVERY:
                self.failures[node] = now
                data = record.to_json()
                data["message"] = str(data["message"])[:FAILURE_TEXT]
                self.send("failure", node, data, self.failed[node])

        def show(node: str, batch: runtime.Batch) -> None:
            now = time.monotonic()
            if now - self.window[0] > DEBUG_WINDOW:
                self.window = [now, 0.0]
            room = min(DEBUG_PER_WINDOW - int(self.window[1]), len(batch))
            if room < len(batch):
                self.send("debug_dropped", len(batch) - max(room, 0))
            if room > 0 and current():
                self.window[1] += room
                self.send("debug", [shown(node, mid, value) for mid, value in zip(
                    batch.ids[:room], batch.values[:room], strict=False)])

        run.hooks.add("emitted", keep)
        run.hooks.add("failed", failed)
        run.on_display(show)
        run.subscribe(lambda snap: self.send("snapshot", snap) if current() else None)

    def endpoints(self) -> dict[str, Any]:
        """What the page shows of the current version: the base URL and the endpoints."""
        assert self.server is not None  # noqa: S101 - served
        return {"url": self.server.url, "run": self.run_id,
                "endpoints": [{"method": c.method, "path": c.path,
                               "url": self.server.url + c.path}
                              for c in self.server.configs]}

    def inspect(self, edge: str) -> list[dict[str, Any]]:
        """The last values seen on an edge, newest first."""
        with self.kept_lock:
            items = list(self.kept.get(edge, ()))
        return [{"id": mid, **runtime.detail(value)} for mid, value in reversed(items)]

    # -- serving ---------------------------------------------------------------------------

    async def serve(self, flow: dict[str, Any], plugins: bool, port: int,
                    token: str | None) -> None:
        """Serve until asked to stop (or the flow ends by itself); then drain and report."""
        self.loop = asyncio.get_running_loop()
        checked = self.plan(flow, plugins)
        if isinstance(checked, list):
            self.send("invalid", self.problems)
            return
        name = Path(self.flow_file or "flow").stem
        engine, problem = make_engine(self.engine)
        if problem:
            self.send("refused", f"cannot deploy: {problem}")
            return
        try:
            server = runtime.FlowServer(checked, host=HOST, port=port, token=token,
                                        options=runtime.RunOptions(), name=name,
                                        engine=engine)
        except runtime.FlowInvalidError as exc:
            self.send("refused", "cannot deploy: " + "; ".join(p.message for p in exc.problems))
            return
        if not server.configs:
            self.send("refused", f"cannot deploy: {NO_ENDPOINT}")
            return
        taken = port_taken(port)
        if taken:
            self.send("refused", taken)
            return
        self.observe(server.deployment)
        try:
            await server.start()
        except OSError as exc:
            server.run.stop()
            self.send("refused", port_problem(port, exc))
            return
        self.server = server
        self.send("started")
        self.send("deployed", self.endpoints())
        while not self.stop_asked.is_set():
            task = server.run_task
            if task is not None and task.done() and not self.switching:
                break
            await asyncio.sleep(0.1)
        ended_alone = not self.stop_asked.is_set()
        while self.switching:  # a redeploy drains the old version first; then this one drains
            await asyncio.sleep(0.05)
        outcome = await server.stop(self.drain_timeout)
        summary = outcome.result.to_json()
        summary["states"] = {n: {"state": r.state, "errors": r.errors, "fired": r.fired}
                             for n, r in outcome.result.nodes.items()}
        summary["run"] = self.run_id
        summary["unanswered"] = outcome.unanswered
        summary["ended_alone"] = ended_alone
        self.send("ended", summary)

    async def redeploy(self, flow: dict[str, Any], plugins: bool) -> None:
        """Start the new version beside the old one, route new requests to it, drain the old."""
        server = self.server
        if server is None or self.switching or server.state != "serving":
            self.send("redeploy_refused", ["the flow is not serving now; deploy it again"])
            return
        checked = self.plan(flow, plugins)
        if isinstance(checked, list):
            self.send("redeploy_refused", checked)
            return
        made = self.deployment(checked)
        if isinstance(made, str):
            self.send("redeploy_refused", [made])
            return
        self.switching = True
        try:
            outcome = await server.switch(made, self.drain_timeout)
        finally:
            self.switching = False
        self.send("redeployed", {**self.endpoints(), "unanswered": outcome.unanswered})

    def ask_stop(self, drain_timeout: float) -> None:
        """Stop serving (from the command thread): drain for at most ``drain_timeout``."""
        self.drain_timeout = drain_timeout
        self.stop_asked.set()


def serve_flow(conn: Connection, send: Send, flow: dict[str, Any], base_dir: str,
               flow_file: str, plugins: bool, port: int, token: str | None,
               engine: str = "local") -> None:
    """Deploy ``flow`` on 127.0.0.1:``port`` (0: any free port) and obey the page's commands.

    ``engine`` names the engine that runs it (``local`` or ``ray``).

    Commands: ``stop`` (drain), ``redeploy`` (a new version of the flow), ``inspect``, ``ask``
    and ``quit``. After the end the worker keeps answering inspections, as after a run.
    """
    served = Served(send, Path(base_dir), flow_file, engine)

    def commands() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                served.ask_stop(QUIT_DRAIN)
                return
            if message[0] == "stop":
                served.ask_stop(DRAIN_TIMEOUT)
            elif message[0] == "redeploy" and served.loop is not None:
                asyncio.run_coroutine_threadsafe(served.redeploy(message[1], message[2] is True),
                                                 served.loop)
            elif message[0] == "inspect":
                send("inspected", message[1], served.inspect(message[1]))
            elif message[0] == "ask":
                send("answered", message[1], answer(message[2], message[3]))
            elif message[0] == "quit":
                served.ask_stop(QUIT_DRAIN)
                return

    reader = threading.Thread(target=commands, daemon=True, name="edgewise-serve-commands")
    reader.start()
    try:
        asyncio.run(served.serve(flow, plugins, port, token))
    except Exception as exc:  # noqa: BLE001 - report an engine bug instead of dying silently
        send("crashed", f"{type(exc).__name__}: {exc}")
        return
    reader.join()
