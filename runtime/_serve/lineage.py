"""Request lineage: when every row of a request has reached an answer, through the run's hooks.

A request's rows are counted as *tokens* while they travel towards an answer node
(``http.out``): an endpoint's message puts one token per row of each request it holds on
every edge that leads, sooner or later, to an answer node (the *answer paths*). When a node
on an answer path handles a message (its outputs, error records included, name it as a
parent: the ``produced`` hook), the message's tokens are taken off, and its outputs' rows put
theirs on. An answer node takes off the rows it receives (:meth:`RequestLineage.deliver`).
A request is complete when it has no token left: every row was answered, filtered away, or
went to an error port. It is then answered with every row its answer nodes received (200,
or their ``status``); with 500 and the error's text when none arrived and a node failed on
its rows; with ``[]`` when every row was filtered away. So rows can be split, routed,
filtered and joined on the way: the answer holds all of the request's rows that arrive.

A node on an answer path that emits nothing at all for a message (a function returning
``None``) leaves its tokens in place: that request is answered by its timeout (504).
Completion is checked after the engine has reported a whole step (``call_soon``), never
half-way through one. Only requests still waiting are tracked, so memory follows the
requests in flight, not the run.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from runtime._graph import Plan
from runtime._hooks import Hooks
from runtime._messages import Batch, ErrorRecord, IdRanges
from runtime._serve.hub import ENDPOINT_TAG, ServingHub

ANSWER_TAG = "http.answer"
"""Tag of a component whose nodes answer requests (``http.out``)."""
REQUESTS_ATTR = "requests"


@dataclass
class _Message:
    """A message travelling on answer paths: its rows per request, and who still holds it."""

    rows: dict[str, int]
    waiting: Counter[str] = field(default_factory=Counter)


def answer_paths(plan: Plan) -> set[str]:
    """The nodes from which an answer node can be reached (answer nodes included)."""
    sources: dict[str, set[str]] = {}
    for nid, node in plan.nodes.items():
        for edges in node.outgoing.values():
            for _eid, target, _port in edges:
                sources.setdefault(target, set()).add(nid)
    reached = {nid for nid, n in plan.nodes.items() if ANSWER_TAG in n.spec.tags}
    todo = list(reached)
    while todo:
        for source in sources.get(todo.pop(), ()):
            if source not in reached:
                reached.add(source)
                todo.append(source)
    return reached


def _rows_by_request(value: Any, requests: set[str]) -> dict[str, int]:
    """How many rows of each of ``requests`` a DataFrame holds (by its row ids)."""
    index = getattr(value, "index", None)
    if index is None or not requests:
        return {}
    found: dict[str, int] = {}
    for row_id in index:
        rid = str(row_id).partition("/")[0]
        if rid in requests:
            found[rid] = found.get(rid, 0) + 1
    return found


class RequestLineage:
    """Counts each request's rows on their way to the answer nodes; answers when none is left."""

    def __init__(self, plan: Plan, hub: ServingHub) -> None:
        self.hub = hub
        self.on_path = answer_paths(plan)
        self.endpoint_ports = {f"{nid}.{port}" for nid, node in plan.nodes.items()
                               if ENDPOINT_TAG in node.spec.tags
                               for port in node.spec.data_outputs}
        self.answer_nodes = {nid for nid, n in plan.nodes.items() if ANSWER_TAG in n.spec.tags}
        self.targets = {f"{nid}.{port}": [dst for _e, dst, _p in edges if dst in self.on_path]
                        for nid, node in plan.nodes.items()
                        for port, edges in node.outgoing.items()}
        self.owner: dict[int, _Message] = {}
        self.messages: dict[str, list[int]] = {}
        self.tokens: dict[str, int] = {}
        self.started: set[str] = set()
        self.closing: set[str] = set()
        self.gathered: dict[str, tuple[int, list[Any]]] = {}
        self.errors: dict[str, ErrorRecord] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        hub.tracker = self

    def attach(self, hooks: Hooks) -> None:
        """Listen to the run's ``produced`` and ``failed`` hooks."""
        hooks.add("produced", self._produced)
        hooks.add("failed", self._failed)

    def _consume(self, node: str, parents: Any, touched: set[str]) -> set[str]:
        """Take off the tokens of the parents ``node`` handled; return their requests."""
        if isinstance(parents, IdRanges):
            return set()  # made from a whole stream (collect, count): no one request's
        found: set[str] = set()
        for parent in (parents,) if isinstance(parents, int) else parents:
            info = self.owner.get(parent)
            if info is None:
                continue
            found.update(info.rows)
            times = info.waiting.pop(node, 0)
            if times and node not in self.answer_nodes:
                for rid, rows in info.rows.items():
                    self.tokens[rid] = self.tokens.get(rid, 0) - rows * times
                    touched.add(rid)
        return found

    def _produced(self, port: str, batch: Batch) -> None:
        node = port.partition(".")[0]
        targets = self.targets.get(port, [])
        touched: set[str] = set()
        with self.hub.lock:
            is_endpoint = port in self.endpoint_ports
            if not is_endpoint and not self.owner:
                return
            for index, value in enumerate(batch.values):
                if is_endpoint:
                    attrs: dict[str, Any] = getattr(value, "attrs", {})
                    found = {r for r in attrs.get(REQUESTS_ATTR, ()) if self.hub.is_open(r)}
                    self.started.update(found)
                    touched.update(found)
                else:
                    found = self._consume(node, batch.parents[index], touched)
                found = {r for r in found if self.hub.is_open(r) and r not in self.closing}
                rows = _rows_by_request(value, found)
                if not targets or not found:
                    continue
                info = _Message({r: rows.get(r, 0) for r in found}, Counter(targets))
                self.owner[batch.ids[index]] = info
                for rid, count in rows.items():
                    self.tokens[rid] = self.tokens.get(rid, 0) + count * len(targets)
                    touched.add(rid)
                for rid in found:
                    self.messages.setdefault(rid, []).append(batch.ids[index])
        if touched:
            self._schedule(touched)

    def _failed(self, node: str, record: ErrorRecord) -> None:
        with self.hub.lock:
            for mid in record.inputs:
                for rid in getattr(self.owner.get(mid), "rows", ()):
                    self.errors.setdefault(rid, record)

    def deliver(self, request_id: str, status: int, records: list[Any]) -> bool:
        """Rows of a request reached an answer node (any thread); False if it is answered."""
        with self.hub.lock:
            if not self.hub.is_open(request_id) or request_id in self.closing:
                return False
            first, kept = self.gathered.get(request_id, (status, []))
            kept.extend(records)
            self.gathered[request_id] = (first, kept)
            self.tokens[request_id] = self.tokens.get(request_id, 0) - len(records)
        self._schedule({request_id})
        return True

    def _schedule(self, requests: set[str]) -> None:
        """Check the requests once the engine has reported the whole step it is in."""
        loop = self.hub.loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(self._check, requests)
        else:
            try:
                loop.call_soon_threadsafe(self._check, requests)
            except RuntimeError:  # the loop is closed: the server is gone
                pass

    def _check(self, requests: set[str]) -> None:
        done: list[tuple[str, int, bytes]] = []
        with self.hub.lock:
            for rid in sorted(requests):
                if (rid not in self.started or rid in self.closing or self.tokens.get(rid, 0) > 0
                        or not self.hub.is_open(rid)):
                    continue
                self.closing.add(rid)
                done.append((rid, *self._answer_of(rid)))
        for rid, status, body in done:
            self.hub.answer(rid, status, body)

    def _answer_of(self, rid: str) -> tuple[int, bytes]:
        if rid in self.gathered:
            status, records = self.gathered[rid]
            return status, json.dumps(records).encode()
        record = self.errors.get(rid)
        if record is not None:
            return 500, json.dumps({"error": str(record), "node": record.node,
                                    "type": record.error, "message": record.message}).encode()
        return 200, b"[]"

    def finished(self, request_id: str) -> None:
        """Forget an answered request (called by the hub, without its lock held)."""
        with self.hub.lock:
            for key in ("tokens", "gathered", "errors"):
                getattr(self, key).pop(request_id, None)
            self.started.discard(request_id)
            self.closing.discard(request_id)
            for mid in self.messages.pop(request_id, ()):
                info = self.owner.get(mid)
                if info is not None and not any(self.hub.is_open(r) for r in info.rows):
                    del self.owner[mid]
