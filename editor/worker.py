"""Runs a flow in a separate worker process, so that a failing flow cannot take the editor down.

A flow that crashes, hangs or eats memory ends only its worker. This module is the
editor's side; ``editor/worker_process.py`` is the process's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from editor.worker_process import worker_main
from editor.worker_start import send_signal, start_process, still_there

STOP_GRACE = 3.0
SERVE_GRACE = 15.0  # a deployed flow drains for up to 10 s (editor.worker_serve) before it ends
START_WAIT = 120.0  # at most this long for a start (the template's first one takes seconds)

Message = tuple[Any, ...]


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
        self._spawned = False
        self._started = threading.Event()  # the start is over (or failed): see _process
        self._ended = threading.Event()  # the worker's pipe closed: it is gone
        self._gone_lock = threading.Lock()
        self._why = ""  # why the worker is gone, once it is
        self._waiting: dict[str, list[asyncio.Future[list[dict[str, Any]]]]] = {}
        self._replay: asyncio.Future[dict[str, Any]] | None = None
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._asked = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.running = False
        self.serving = False
        self.ready = False

    @property
    def alive(self) -> bool:
        """Whether the worker process is there to take commands."""
        return (self._conn is not None and self._process is not None
                and still_there(self._process, self._ended))

    def pid(self, timeout: float = START_WAIT) -> int | None:
        """The worker process's id, once it has started (None if it could not)."""
        self._started.wait(timeout)
        return self._process.pid if self._process is not None else None

    def spawn(self, hints: tuple[str, ...] = ()) -> None:
        """Start the worker process; it imports what runs need (and ``hints``), then waits.

        It is forked from the editor's template process (``editor.worker_start``), off the
        event loop: the template's first start takes seconds. Commands sent meanwhile wait
        in the pipe.
        """
        parent, child = multiprocessing.Pipe()
        self._conn, self._spawned = parent, True
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        args = (child, tuple(hints), dict(os.environ), os.getpriority(os.PRIO_PROCESS, 0))
        threading.Thread(target=self._start_and_read, args=(parent, args), daemon=True,
                         name="edgewise-run-reader").start()

    def _start_and_read(self, conn: Connection, args: tuple[Any, ...]) -> None:
        failed = ""
        try:
            self._process = start_process(worker_main, args, "edgewise-run")
        except OSError as exc:  # no process holds the child's end: _read reports the crash
            failed = self._why = (f"the worker process could not start ({exc}); end other "
                                  "programs or runs, then run again")
        finally:
            args[0].close()  # the child's end: the worker has its own copy now
            self._started.set()
        self._read(conn, failed)

    def run(self, flow: dict[str, Any], base_dir: Path, flow_file: str = "", *,
            plugins: bool = False, engine: str = "local") -> None:
        """Run a flow (a decoded flow document) in the worker, relative to ``base_dir``.

        The run is kept under ``base_dir/.edgewise/runs/``. With ``plugins``, the worker
        imports ``base_dir/plugins/*.py`` afresh first (only for a page the user trusts).
        ``engine`` names the engine the worker runs it on (``local`` or ``ray``).
        """
        if not self._spawned:
            self.spawn()
        self._loop = asyncio.get_running_loop()
        self.running = True
        if not self._send("run", flow, str(base_dir), flow_file, plugins, engine):
            self._gone()

    def deploy(self, flow: dict[str, Any], base_dir: Path, flow_file: str = "", *,
               plugins: bool = False, port: int = 0, token: str | None = None,
               engine: str = "local") -> None:
        """Serve a flow from the worker on 127.0.0.1:``port`` (0: any free port) until stopped.

        See ``editor.worker_serve``; ``stop()`` drains it, ``redeploy()`` replaces it.
        ``engine`` names the engine it runs on (``local`` or ``ray``).
        """
        if not self._spawned:
            self.spawn()
        self._loop = asyncio.get_running_loop()
        self.running = self.serving = True
        if not self._send("deploy", flow, str(base_dir), flow_file, plugins, port, token,
                          engine):
            self._gone()

    def redeploy(self, flow: dict[str, Any], *, plugins: bool = False) -> bool:
        """Serve a new version of the deployed flow; False when the worker is gone."""
        return self._send("redeploy", flow, plugins)

    async def replay(self, folder: Path, from_node: str, flow: dict[str, Any],
                     workspace: Path, *, plugins: bool = False) -> dict[str, Any]:
        """Re-run ``from_node`` and what is downstream on a kept run's values, in the worker.

        A function call in the (warm) worker, as ``edgewise replay`` makes it; the new run
        is kept under ``workspace``. The answer has ``run`` and the replay's verdict, or
        ``error`` saying why it could not run.
        """
        if not self._spawned:
            self.spawn()
        self._loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._replay = future
        if not self._send("replay", str(folder), from_node, flow, str(workspace), plugins):
            return {"error": "the worker process is gone; try again"}
        return await future

    def _read(self, conn: Connection, failed: str = "") -> None:
        while True:  # close() forgets the pipe; this thread reads until it ends
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "inspected":
                self._resolve(message[1], message[2])
            if message[0] in ("ended", "invalid", "crashed", "refused"):
                self.running = self.serving = False
            if message[0] == "ready":
                self.ready = True
            if message[0] == "replayed":
                self._settle_replay(message[1])
                continue
            if message[0] == "answered":
                self._settle(self._answers.pop(message[1], None), message[2])
                continue
            self.on_message(message)
        conn.close()  # this thread's to close: see close()
        self._ended.set()
        process = self._process
        if process is not None:
            process.join(1.0)  # the pipe ends as the process does: its exit code follows
        code = process.exitcode if process is not None else None
        ended = failed or f"the worker process ended unexpectedly (exit {code})"
        self._why = ended
        for key in list(self._answers):
            self._settle(self._answers.pop(key, None), {"error": "the worker ended"})
        self._settle_replay({"error": ended})
        self._gone()
        for edge in list(self._waiting):
            self._resolve(edge, [])

    def _gone(self) -> None:
        """The worker is gone during a run: say so once, whichever thread finds out first.

        A start that fails can end the pipe before ``run()`` marks the run as going on;
        ``run()`` then finds it cannot send the flow.
        """
        with self._gone_lock:
            if not self.running:
                return
            self.running = False
        self.on_message(("crashed", self._why or "the worker process is gone; run again"))

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
        self._end_within(SERVE_GRACE if self.serving else STOP_GRACE, while_running=True)

    def close(self) -> None:
        """End the worker process (after a run, it waits to answer inspections).

        The pipe is closed by the thread that reads it, once the process is gone: closed
        here, a read under way there would go on with a descriptor number that another
        file may have been given since.
        """
        self._send("quit")
        self._conn = None
        self._end_within(1.0)

    def _end_within(self, grace: float, *, while_running: bool = False) -> None:
        """SIGTERM the worker if it has not ended within ``grace`` s; SIGKILL it 1 s later.

        Off the event loop: joining can take a second. ``while_running``: only if its run
        still goes on (its pipe is open: it runs on).
        """
        def reap() -> None:
            self._started.wait(START_WAIT)
            process = self._process
            if process is None or self._ended.wait(grace):
                return
            if while_running and not self.running:
                return
            send_signal(process, self._ended, signal.SIGTERM)
            if not self._ended.wait(1.0):
                send_signal(process, self._ended, signal.SIGKILL)

        threading.Thread(target=reap, daemon=True).start()
