"""The worker process's side of a run: wait for a flow; validate, run, report; answer.

It sends throttled snapshots (at most 10 a second), what debug nodes receive (bounded,
truncated), the errors of failing nodes (wired or not, at most a few a second per node, the
last one always) and, on request, details of the last values seen on an edge.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from editor.warm_up import WORKER_NICENESS, warm_up
from editor.worker_answers import answer
from editor.worker_engine import make_engine
from editor.worker_replay import replay

KEEP_PER_EDGE = 20
DEBUG_PER_WINDOW = 50
DEBUG_WINDOW = 0.05
DEBUG_TEXT = 1000
FAILURE_EVERY = 0.5  # a node failing on every message reports its error this often
FAILURE_TEXT = 2000
EDITOR_POLICY = {"max_values": 1000, "sample_every": 100}  # endless streams stay bounded


def _end_with_editor() -> None:
    """End this process once the editor that started it is gone.

    A run busy in a long fit never reads its pipe, so it would not notice the editor was
    killed (or crashed) and would burn the machine on for nobody. The editor holds the
    other end of multiprocessing's parent sentinel, whether it spawned this process or had
    its template fork it (whose parent is then the template, not the editor): the sentinel
    ends with the editor.
    """
    editor = multiprocessing.parent_process()
    if editor is None:
        return
    editor.join()
    os._exit(0)


def _as_editor_says(env: dict[str, str] | None, niceness: int | None) -> None:
    """Take the editor's environment now, and a priority ``WORKER_NICENESS`` below its own.

    A worker forked from the template would otherwise have the environment the template
    started with, and the template's priority (already lowered: ``editor.worker_template``).
    """
    if env is not None and env != os.environ:
        os.environ.clear()
        os.environ.update(env)
    try:  # the editor and the browser come first: a busy flow must not make them lag
        now = os.getpriority(os.PRIO_PROCESS, 0)
        wanted = (now if niceness is None else niceness) + WORKER_NICENESS
        if wanted > now:
            os.nice(wanted - now)
    except OSError:
        pass


def worker_main(conn: Connection, hints: tuple[str, ...] = (),
                env: dict[str, str] | None = None, niceness: int | None = None) -> None:
    """The worker process: wait for a flow; validate, run, report; then answer inspections.

    While it waits, it imports what runs need (``editor.warm_up``) and then says ``ready``.
    A ``replay`` command instead re-runs part of a kept run (``editor.worker_replay``).
    ``env`` and ``niceness`` are the editor's environment and priority when it started this.
    """
    _as_editor_says(env, niceness)
    threading.Thread(target=_end_with_editor, daemon=True,
                     name="edgewise-orphan-watch").start()
    import runtime
    from runtime import detail, preview, record_run

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
    if command[0] == "deploy":  # serve the flow until stopped (editor.worker_serve)
        from editor.worker_serve import serve_flow

        serve_flow(conn, send, *command[1:])
        return
    if command[0] != "run":
        return
    flow, base_dir, flow_file = command[1], command[2], command[3]
    plugins = len(command) > 4 and command[4] is True
    engine_name = command[5] if len(command) > 5 else "local"

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
    engine, problem = make_engine(engine_name)
    if problem:
        send("refused", problem)
        return
    run = runtime.Run(checked, engine=engine)
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
