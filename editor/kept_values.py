"""Reads the values of kept runs in a helper process, so the editor server never loads one.

A kept run may come from someone else, and its values are files: Parquet tables and skops
models. The editor server only reads a run's index and manifest; every question that needs
a value (the inspector's samples, a comparison, a row's trace, a model's training rows) is
answered by a separate process, which sends back JSON text only. A value that is refused
(see ``runtime._record.safeload``) or a process that dies is reported as a message.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import runtime
import runtime.runs
from editor.decision_values import node_decisions, scorer_previews

ANSWER_TIMEOUT = 120.0
TRAINING_ROWS_SHOWN = 20
PAD = chr(160) * 3


def run_samples(store: runtime.runs.RunStore, origin: str, keep: int = 20) -> list[dict[str, Any]]:
    """The last values recorded on a port, newest first, as the inspector shows them."""
    messages = list(store.messages(origin))[-keep:]
    samples = []
    for message in reversed(messages):
        try:
            info = runtime.detail(store.value(message.id))
        except KeyError:
            info = dict(message.preview or {"kind": "text", "summary": "(value not kept)",
                                            "value": "(value not kept)"})
        except LookupError as exc:  # refused, or missing: say so instead of failing
            text = runtime.exception_text(exc)
            info = {"kind": "text", "summary": "(not loaded)", "value": text}
        samples.append({"id": message.id, **info})
    return samples


def trace_items(store: runtime.runs.RunStore, steps: list[runtime.runs.Step],
                ) -> list[str]:
    """The node and edge ids on a lineage path, for highlighting on the canvas."""
    edges = [f"{e['source']}->{e['target']}" for e in store.flow().get("edges", [])]
    ids: set[str] = set()
    nodes = {step.message.id: step.message for step in steps}
    nodes.update({side.id: side for step in steps for side in step.side_inputs})
    for side in (side for step in steps for side in step.side_inputs):
        ids.add(side.node)
    for step in steps:
        message = step.message
        ids.add(message.node)
        for a, b in message.parent_ranges:
            for parent_id in range(a, min(b, a + 500)):
                parent = nodes.get(parent_id)
                if parent is None:
                    continue
                ids.update(e for e in edges if e.startswith(parent.origin + "->")
                           and e.split("->")[1].split(".")[0] == message.node)
    return sorted(ids)


def scored_by_lines(store: runtime.runs.RunStore, steps: list[runtime.runs.Step],
                    ) -> list[str]:
    """Which model scored a traced row: its estimator, params, when and what it was fitted on."""
    from runtime.runs import scorer

    found = scorer(steps)
    if found is None:
        return []
    step, model = found
    facts = runtime.runs.Lineage(store).model_facts(model)
    trained = facts["trained"]
    data = ", ".join(f"#{d['message']} {d['node']} ({d['rows']} rows)"
                     for d in facts["training_data"][:5])
    more = len(facts["training_data"]) - 5
    return [f"scored at {step.message.node} by {facts['estimator']} (model #{facts['message']}"
            f" from {facts['node']})",
            f"params: {json.dumps(facts['params'], default=str)}",
            f"trained {trained['seconds_into_run']:.3f} s into the run started "
            f"{trained['run_started']}",
            "fitted on: " + (data or "nothing recorded") + (f" and {more} more"
                                                            if more > 0 else "")]


def trace_lines(store: runtime.runs.RunStore, steps: list[runtime.runs.Step],
                row: str | None) -> list[str]:
    """A lineage path as the inspector lists it, one line per message."""
    from runtime.runs import render_trace

    lines = [line.text for line in render_trace(steps, pad=PAD)]
    if row is not None:
        lines += scored_by_lines(store, steps)
    return lines


def _trace(folder: str, message_id: int, row: str | None) -> dict[str, Any]:
    store = runtime.runs.RunStore(Path(folder))
    steps = runtime.runs.Lineage(store).trace(message_id, row)
    return {"items": trace_items(store, steps), "lines": trace_lines(store, steps, row)}


def _trained_on(folder: str, model_id: int, as_csv: bool) -> dict[str, Any]:
    store = runtime.runs.RunStore(Path(folder))
    lineage = runtime.runs.Lineage(store)
    facts, rows = lineage.trained_on(model_id)
    if as_csv:
        return {"csv": rows.to_csv(index_label="_row")}
    head = rows.head(TRAINING_ROWS_SHOWN)
    sources = sorted({str(s) for s in rows.get("_source", []) if s is not None})
    return {"facts": facts, "rows": len(rows), "sources": sources,
            "items": trace_items(store, lineage.trace(model_id)),
            "head": {"index": [str(i) for i in head.index],
                     "columns": [str(c) for c in head.columns],
                     "data": json.loads(head.to_json(orient="values", date_format="iso",
                                                     default_handler=str))}}


def _answer(request: dict[str, Any]) -> Any:
    """Answer one request of the editor (runs in the helper process)."""
    op, args = request["op"], request["args"]
    if op == "samples":
        return run_samples(runtime.runs.RunStore(Path(args[0])), args[1])
    if op == "diff":
        return runtime.runs.diff_runs(runtime.runs.RunStore(Path(args[0])),
                                      runtime.runs.RunStore(Path(args[1])))
    if op == "trace":
        return _trace(args[0], int(args[1]), args[2])
    if op == "trained_on":
        return _trained_on(args[0], int(args[1]), bool(args[2]))
    if op == "decisions":
        return node_decisions(args[0], str(args[1]), trace_items)
    if op == "scorer_previews":
        return scorer_previews(args[0], [str(n) for n in args[1]])
    msg = f"unknown request '{op}'"
    raise ValueError(msg)


def _reader_main(conn: Connection) -> None:
    """The helper process: answer requests, one at a time, until the pipe closes."""
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            answer = {"ok": _answer(request)}
        except (LookupError, ValueError, OSError) as exc:
            answer = {"error": runtime.exception_text(exc)}
        except Exception as exc:  # noqa: BLE001 - a bug is reported, not left to hang the editor
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        try:
            conn.send_bytes(json.dumps(answer, default=str).encode())
        except (BrokenPipeError, OSError):
            return


class KeptReader:
    """The editor's handle on the helper process; started on first use, restarted if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def _start(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_reader_main, name="edgewise-kept-values",
                                        args=(child,), daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        return parent

    def _stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)
        if self._conn is not None:
            self._conn.close()
        self._conn = self._process = None

    def ask_blocking(self, op: str, *args: Any, timeout: float = ANSWER_TIMEOUT) -> Any:
        """Ask the helper process; raise LookupError with its message if it could not answer."""
        with self._lock:
            conn = self._start()
            try:
                conn.send_bytes(json.dumps({"op": op, "args": list(args)}).encode())
                if not conn.poll(timeout):
                    self._stop()
                    msg = f"reading the kept run took more than {timeout:.0f} s; stopped"
                    raise LookupError(msg)
                answer = json.loads(conn.recv_bytes())
            except (EOFError, OSError) as exc:
                self._stop()
                msg = f"the process reading kept values ended unexpectedly ({exc})"
                raise LookupError(msg) from None
        if "error" in answer:
            raise LookupError(answer["error"])
        return answer["ok"]

    async def ask(self, op: str, *args: Any) -> Any:
        """Ask the helper process without blocking the event loop."""
        return await asyncio.to_thread(self.ask_blocking, op, *args)

    def close(self) -> None:
        """End the helper process."""
        with self._lock:
            self._stop()


_reader: KeptReader | None = None
_reader_lock = threading.Lock()


def reader() -> KeptReader:
    """The editor's one helper process for kept values (shared by every page)."""
    global _reader
    with _reader_lock:
        if _reader is None:
            _reader = KeptReader()
        return _reader

