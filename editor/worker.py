"""Runs a flow in a separate worker process, so that a failing flow cannot take the editor down.

A flow that crashes, hangs or eats memory ends only its worker. Only ``runtime``'s public
API is used, on both sides.

The worker sends throttled snapshots (at most 10 a second), what debug nodes receive
(bounded, truncated), the errors of failing nodes (wired or not, at most a few a second per
node, the last one always) and, on request, details of the last values seen on an edge.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from editor.warm_up import warm_up
from editor.worker_answers import answer
from editor.worker_replay import replay

KEEP_PER_EDGE = 20
WORKER_NICENESS = 5
DEBUG_PER_WINDOW = 50
DEBUG_WINDOW = 0.05
DEBUG_TEXT = 1000
STOP_GRACE = 3.0
FAILURE_EVERY = 0.5  # a node failing on every message reports its error this often
FAILURE_TEXT = 2000

Message = tuple[Any, ...]


EDITOR_POLICY = {"max_values": 1000, "sample_every": 100}  # endless streams stay bounded


def _worker_main(conn: Connection, hints: tuple[str, ...] = ()) -> None:
    """The worker process: wait for a flow; validate, run, report; then answer inspections.

    While it waits, it imports what runs need (``editor.warm_up``) and then says ``ready``.
    A ``replay`` command instead re-runs part of a kept run (``editor.worker_replay``).
    """
    try:  # the editor and the browser come first: a busy flow must not make them lag
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    import runtime
    from runtime.previews import detail, preview
    from runtime.record import record_run

    lock = threading.Lock()

    def send(*message: Any) -> None:
        with lock:
            try:
                conn.send(message)
            except (BrokenPipeError, OSError):
                pass

    def warm() -> None:
        warm_up(hints)
        send("ready")

    threading.Thread(target=warm, daemon=True).start()
    while True:  # a waiting worker answers questions about kept runs (it is warm)
        try:
            command = conn.recv()
        except (EOFError, OSError):
            return
        if command[0] != "ask":
            break
        send("answered", command[1], answer(command[2], command[3]))
    if command[0] == "replay":
        send("replayed", replay(*command[1:]))
        return
    if command[0] != "run":
        return
    flow, base_dir, flow_file = command[1], command[2], command[3]
    plugins = len(command) > 4 and command[4] is True

    registry = runtime.default_registry()
    if plugins:  # imported afresh for every run, so an edited plugin takes effect now
        registry = runtime.workspace_registry(Path(base_dir), registry)
    try:
        checked = runtime.plan(flow, base_dir=Path(base_dir), registry=registry)
    except runtime.FlowInvalidError as exc:
        broken = [runtime.Problem(message=text, code="plugin")
                  for text in registry.load_errors]
        send("invalid", [p.to_json() for p in [*exc.problems, *broken]])
        return
    run = runtime.Run(checked)
    recorder = record_run(run, Path(base_dir), policy=runtime.StoragePolicy(**EDITOR_POLICY),
                          links={"flow_file": flow_file, "started_by": "editor"})
    kept: dict[str, deque[tuple[int, Any]]] = {e: deque(maxlen=KEEP_PER_EDGE)
                                               for e in checked.edge_ids}
    kept_lock = threading.Lock()

    def keep(edge: str, batch: runtime.Batch) -> None:
        tail = max(0, len(batch) - KEEP_PER_EDGE)
        with kept_lock:
            kept[edge].extend(zip(batch.ids[tail:], batch.values[tail:], strict=True))

    run.hooks.add("emitted", keep)
    window: list[float] = [0.0, 0.0]

    def show(node: str, batch: runtime.Batch) -> None:
        now = time.monotonic()
        if now - window[0] > DEBUG_WINDOW:
            window[0], window[1] = now, 0
        room = DEBUG_PER_WINDOW - int(window[1])
        if room <= 0:
            send("debug_dropped", len(batch))
            return
        entries = []
        for i in range(min(room, len(batch))):
            info = preview(batch.values[i])
            if info["kind"] in ("dataframe", "model", "ndarray"):
                text = info["summary"]
            elif "value" in info and not isinstance(info["value"], str):
                text = json.dumps(info["value"])
            else:
                text = str(info.get("value", info["summary"]))
            entry = {"node": node, "id": batch.ids[i], "kind": info["kind"],
                     "text": text[:DEBUG_TEXT], "t": time.time()}
            if info["kind"] == "chart":
                entry["svg"] = info["svg"]
            entries.append(entry)
        window[1] += len(entries)
        send("debug", entries)
        if len(batch) > room:
            send("debug_dropped", len(batch) - room)

    run.on_display(show)
    failures: dict[str, list[Any]] = {}  # node -> [record, count, sent at, sent]

    def failed(node: str, record: runtime.ErrorRecord) -> None:
        entry = failures.setdefault(node, [None, 0, 0.0, True])
        data = record.to_json()
        data["message"] = str(data["message"])[:FAILURE_TEXT]
        entry[0], entry[1] = data, entry[1] + 1
        now = time.monotonic()
        entry[3] = entry[1] == 1 or now - entry[2] >= FAILURE_EVERY
        if entry[3]:
            entry[2] = now
            send("failure", node, data, entry[1])

    run.hooks.add("failed", failed)
    run.subscribe(lambda snap: send("snapshot", snap))

    def inspect(edge: str) -> list[dict[str, Any]]:
        with kept_lock:
            items = list(kept.get(edge, ()))
        return [{"id": mid, **detail(value)} for mid, value in reversed(items)]

    def commands() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                run.stop()
                return
            if message[0] == "stop":
                run.stop()
            elif message[0] == "inspect":
                send("inspected", message[1], inspect(message[1]))
            elif message[0] == "ask":  # after the run: it is warm for questions and replays
                send("answered", message[1], answer(message[2], message[3]))
            elif message[0] == "replay":
                threading.Thread(target=lambda m=message: send("replayed", replay(*m[1:])),
                                 daemon=True, name="edgewise-replay").start()
            elif message[0] == "quit":
                run.stop()
                return

    reader = threading.Thread(target=commands, daemon=True)
    reader.start()
    send("started")
    try:
        result = run.run()
    except Exception as exc:  # noqa: BLE001 - report an engine bug instead of dying silently
        send("crashed", f"{type(exc).__name__}: {exc}")
        return
    for node, (record, count, _at, sent) in failures.items():
        if not sent:  # the last error of a node that kept failing
            send("failure", node, record, count)
    summary = result.to_json()
    summary["states"] = {n: {"state": r.state, "errors": r.errors, "fired": r.fired}
                         for n, r in result.nodes.items()}
    summary["run"] = recorder.run_id
    send("ended", summary)
    reader.join()


class RunWorker:
    """The editor's handle on one run in a worker process.

    ``spawn()`` starts the process early; it imports the heavy libraries while it waits, so
    that ``run()`` starts the flow at once. It reads the process's messages from then on:
    ``ready`` (warmed up), ``started`` (the flow was planned and runs), snapshots...
    """

    def __init__(self, on_message: Callable[[Message], None]) -> None:
        self.on_message = on_message
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._waiting: dict[str, list[asyncio.Future[list[dict[str, Any]]]]] = {}
        self._replay: asyncio.Future[dict[str, Any]] | None = None
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._asked = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.running = False
        self.ready = False

    @property
    def alive(self) -> bool:
        """Whether the worker process is there to take commands."""
        return (self._conn is not None and self._process is not None
                and self._process.is_alive())

    def spawn(self, hints: tuple[str, ...] = ()) -> None:
        """Start the worker process; it imports what runs need (and ``hints``), then waits."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._conn = parent
        self._process = context.Process(target=_worker_main, name="edgewise-run",
                                        args=(child, tuple(hints)), daemon=True)
        self._process.start()
        child.close()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        threading.Thread(target=self._read, daemon=True, name="edgewise-run-reader").start()

    def run(self, flow: dict[str, Any], base_dir: Path, flow_file: str = "", *,
            plugins: bool = False) -> None:
        """Run a flow (a decoded flow document) in the worker, relative to ``base_dir``.

        The run is kept under ``base_dir/.edgewise/runs/``. With ``plugins``, the worker
        imports ``base_dir/plugins/*.py`` afresh first (only for a page the user trusts).
        """
        if self._process is None:
            self.spawn()
        self._loop = asyncio.get_running_loop()
        self.running = True
        self._send("run", flow, str(base_dir), flow_file, plugins)

    async def replay(self, folder: Path, from_node: str, flow: dict[str, Any],
                     workspace: Path, *, plugins: bool = False) -> dict[str, Any]:
        """Re-run ``from_node`` and what is downstream on a kept run's values, in the worker.

        A function call in the (warm) worker, as ``edgewise replay`` makes it; the new run
        is kept under ``workspace``. The answer has ``run`` and the replay's verdict, or
        ``error`` saying why it could not run.
        """
        if self._process is None:
            self.spawn()
        self._loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._replay = future
        if not self._send("replay", str(folder), from_node, flow, str(workspace), plugins):
            return {"error": "the worker process is gone; try again"}
        return await future

    def _read(self) -> None:
        conn = self._conn  # close() forgets it; this thread reads until the pipe ends
        assert conn is not None  # noqa: S101 - set by start()
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "inspected":
                self._resolve(message[1], message[2])
            if message[0] in ("ended", "invalid", "crashed"):
                self.running = False
            if message[0] == "ready":
                self.ready = True
            if message[0] == "replayed":
                self._settle_replay(message[1])
                continue
            if message[0] == "answered":
                self._settle(self._answers.pop(message[1], None), message[2])
                continue
            self.on_message(message)
        code = self._process.exitcode if self._process else None
        for key in list(self._answers):
            self._settle(self._answers.pop(key, None), {"error": "the worker ended"})
        self._settle_replay({"error": f"the worker process ended unexpectedly (exit {code})"})
        if self.running:
            self.running = False
            self.on_message(("crashed", f"the worker process ended unexpectedly (exit {code})"))
        for edge in list(self._waiting):
            self._resolve(edge, [])

    def _settle_replay(self, answer: dict[str, Any]) -> None:
        future, self._replay = self._replay, None
        self._settle(future, answer)

    def _settle(self, future: asyncio.Future[dict[str, Any]] | None,
                answer: dict[str, Any]) -> None:
        if future is None or self._loop is None:
            return

        def settle() -> None:
            if not future.done():
                future.set_result(answer)

        self._loop.call_soon_threadsafe(settle)

    def _resolve(self, edge: str, samples: list[dict[str, Any]]) -> None:
        futures = self._waiting.pop(edge, [])
        if self._loop is None:
            return
        def settle(future: asyncio.Future[list[dict[str, Any]]]) -> None:
            if not future.done():
                future.set_result(samples)

        for future in futures:
            self._loop.call_soon_threadsafe(settle, future)

    def _send(self, *message: Any) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.send(message)
        except (BrokenPipeError, OSError):
            return False
        return True

    async def ask(self, op: str, *args: Any, timeout: float = 60.0) -> Any:
        """Ask the waiting worker about kept runs (``samples`` or ``diff``, as the reader).

        Raises:
            LookupError: the answer, when it is an error; or the worker could not answer.
        """
        loop = asyncio.get_running_loop()
        self._loop = self._loop or loop
        self._asked += 1
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._answers[self._asked] = future
        if self.running or not self._send("ask", self._asked, op, list(args)):
            self._answers.pop(self._asked, None)
            msg = "the worker is not waiting; ask the reader"
            raise LookupError(msg)
        try:
            found = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            msg = f"reading the kept run took more than {timeout:.0f} s"
            raise LookupError(msg) from None
        if "error" in found:
            raise LookupError(found["error"])
        return found["ok"]

    async def inspect(self, edge: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The last values seen on an edge (newest first), during a run or after it."""
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(edge, []).append(future)
        if not self._send("inspect", edge):
            return []
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return []

    def stop(self) -> None:
        """Ask the run to stop; kill the worker if it does not within a few seconds."""
        self._send("stop")
        process = self._process
        if process is None:
            return

        def reap() -> None:
            process.join(STOP_GRACE)
            if process.is_alive() and self.running:
                process.terminate()
                process.join(1.0)
                if process.is_alive():
                    process.kill()

        threading.Thread(target=reap, daemon=True).start()

    def close(self) -> None:
        """End the worker process (after a run, it waits to answer inspections)."""
        self._send("quit")
        process, conn = self._process, self._conn
        self._conn = None

        def reap() -> None:  # off the event loop: joining can take a second
            if process is not None:
                process.join(1.0)
                if process.is_alive():
                    process.terminate()
            if conn is not None:
                conn.close()

        threading.Thread(target=reap, daemon=True).start()
