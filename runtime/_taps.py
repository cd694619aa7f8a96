"""Edge taps: live statistics for every edge and node, built only on the runtime hooks.

``LiveStats`` keeps, per edge, the message count, the rows (for DataFrames), a rate and the
last value; per node, its state, firings and errors. It does constant work per *batch*.
Previews and rates are computed only when a snapshot is taken, at most ten times a second
for a subscriber, so a flow that emits millions of messages a second is never slowed by
the person watching it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from runtime._graph import Plan
from runtime._hooks import Hooks
from runtime._messages import Batch, ErrorRecord
from runtime._previews import loaded_type, preview
from runtime._registry import ANY

Snapshot = dict[str, Any]
MIN_INTERVAL = 0.1


class _EdgeStat:
    __slots__ = ("count", "rows", "last", "rows_mode", "seen_count", "seen_time", "rate",
                 "saw_frames")

    def __init__(self, rows_mode: str) -> None:
        self.count = 0
        self.rows = 0
        self.last: Batch | None = None
        self.rows_mode = rows_mode
        self.seen_count = 0
        self.seen_time = 0.0
        self.rate = 0.0
        self.saw_frames = False


class LiveStats:
    """Per-edge and per-node statistics for one run, fed by the hooks."""

    def __init__(self, plan: Plan) -> None:
        self.started = time.perf_counter()
        self.edges: dict[str, _EdgeStat] = {}
        for node in plan.nodes.values():
            for port, edges in node.outgoing.items():
                kind = node.spec.outputs[port].type
                mode = "all" if kind == "DataFrame" else ("check" if kind == ANY else "none")
                for edge_id, _dst, _port in edges:
                    self.edges[edge_id] = _EdgeStat(mode)
        self.nodes: dict[str, dict[str, Any]] = {
            nid: {"state": "idle", "fired": 0, "errors": 0} for nid in plan.nodes}
        self.last_errors: dict[str, ErrorRecord] = {}
        self._dirty_edges: set[str] = set()
        self._dirty_nodes: set[str] = set()
        self.ended = False

    def attach(self, hooks: Hooks) -> Callable[[], None]:
        """Subscribe to the hooks; return a function that unsubscribes."""
        undo = [hooks.add("emitted", self._emitted), hooks.add("node_started", self._started),
                hooks.add("fired", self._fired), hooks.add("failed", self._failed),
                hooks.add("node_ended", self._ended), hooks.add("run_ended", self._run_ended)]

        def detach() -> None:
            for u in undo:
                u()

        return detach

    def _emitted(self, edge: str, batch: Batch) -> None:
        stat = self.edges[edge]
        values = batch.values
        stat.count += len(values)
        stat.last = batch
        mode = stat.rows_mode
        if mode == "all":
            stat.rows += sum(map(len, values))
        elif mode == "check":
            # An Any-typed port: count rows once DataFrames travel on it. Checking the ends
            # of the batch keeps a stream of plain values from paying per message.
            frame = loaded_type("pandas", "DataFrame")
            if frame is not None and (isinstance(values[0], frame)
                                      or isinstance(values[-1], frame)):
                stat.rows += sum(len(v) for v in values if isinstance(v, frame))
                stat.saw_frames = True
        self._dirty_edges.add(edge)

    def _started(self, node: str) -> None:
        if self.nodes[node]["state"] == "idle":
            self.nodes[node]["state"] = "running"
        self._dirty_nodes.add(node)

    def _fired(self, node: str, count: int) -> None:
        self.nodes[node]["fired"] += count
        self._dirty_nodes.add(node)

    def _failed(self, node: str, record: ErrorRecord) -> None:
        info = self.nodes[node]
        info["errors"] += 1
        info["state"] = "failed"
        self.last_errors[node] = record
        self._dirty_nodes.add(node)

    def _ended(self, node: str, state: str) -> None:
        self.nodes[node]["state"] = state
        self._dirty_nodes.add(node)

    def _run_ended(self, result: Any) -> None:
        for node, info in result.nodes.items():
            self.nodes[node]["fired"] = info.fired
            self.nodes[node]["errors"] = info.errors
            self._dirty_nodes.add(node)
        self.ended = True

    def rows(self, edge: str) -> int | None:
        """The rows an edge has carried, or None when what it carries is not tables."""
        stat = self.edges[edge]
        return stat.rows if stat.rows_mode == "all" or stat.saw_frames else None

    def edge_json(self, edge: str, now: float | None = None) -> dict[str, Any]:
        """The statistics of one edge, with a preview of its last value."""
        stat = self.edges[edge]
        now = time.perf_counter() if now is None else now
        elapsed = now - stat.seen_time
        if stat.seen_time and elapsed > 0:
            stat.rate = (stat.count - stat.seen_count) / elapsed
        stat.seen_count, stat.seen_time = stat.count, now
        last = stat.last
        shows_rows = stat.rows_mode == "all" or stat.saw_frames
        return {"count": stat.count, "rows": stat.rows if shows_rows else None,
                "rate": round(stat.rate, 1),
                "preview": preview(last.values[-1]) if last is not None else None}

    def snapshot(self, changed_only: bool = False) -> Snapshot:
        """Statistics of every edge and node, or only of those changed since the last call."""
        now = time.perf_counter()
        edges = set(self._dirty_edges) if changed_only else set(self.edges)
        nodes = set(self._dirty_nodes) if changed_only else set(self.nodes)
        self._dirty_edges.clear()
        self._dirty_nodes.clear()
        return {
            "t": round(now - self.started, 3),
            "final": self.ended,
            "edges": {e: self.edge_json(e, now) for e in sorted(edges)},
            "nodes": {n: dict(self.nodes[n]) for n in sorted(nodes)},
        }
