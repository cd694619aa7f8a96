"""The serving hub: where HTTP requests meet a running flow, and answers find their request.

One hub serves one running flow (a *deployment*). The HTTP side admits a request
(:meth:`ServingHub.admit`), which puts its rows on the queue of its endpoint. The flow's
``http.in`` node takes them from there (:meth:`Endpoint.take`) and emits them as one
DataFrame whose index carries the request id (``"<request id>/<row n>"``), so the request
travels with its rows through every node that keeps row ids. The flow's ``http.out`` node
hands over the rows it receives (:meth:`ServingHub.deliver`). Each request is answered
exactly once (:meth:`ServingHub.answer`): when all of its rows have arrived or gone
elsewhere (200 with its rows, or 500 when they failed; see :mod:`runtime._serve.lineage`),
at its timeout (504), or at the end of the run (503). Rows that arrive for a request
answered already are refused, and ``http.out`` puts them on its error port.

Components find the hub of the flow they run in with :func:`serving_hub`: the server sets it
in the context of the run's task, which every node's task and worker thread inherits.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import os
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CLOSED_CHECK = 0.05  # seconds between checks, in a batch window, that a drain has begun
ENDPOINT_TAG = "http.endpoint"
"""Tag of a component whose nodes are HTTP endpoints; its params have ``endpoint()``."""

ColumnTypes = dict[str, str]
Answer = tuple[int, bytes]

_SERVING: contextvars.ContextVar[ServingHub | None] = contextvars.ContextVar(
    "edgewise_serving_hub", default=None)


def serving_hub() -> ServingHub | None:
    """The hub of the served flow this code runs in, or None outside ``edgewise serve``."""
    return _SERVING.get()


@dataclass(frozen=True)
class EndpointConfig:
    """What an endpoint node (``http.in``) asks of the HTTP server."""

    path: str
    method: str = "POST"
    schema: ColumnTypes | None = None
    timeout_ms: int = 10_000
    max_queued: int = 64
    max_in_flight: int = 1024
    batch_window_ms: float = 0.0
    max_batch_rows: int = 1024

    @property
    def key(self) -> str:
        """``METHOD /path``, how the endpoint is named in logs and metrics."""
        return f"{self.method} {self.path}"


@dataclass
class Request:
    """One admitted request: its rows, and the future its HTTP handler waits on."""

    id: str
    endpoint: str
    rows: list[dict[str, Any]]
    future: asyncio.Future[Answer]
    started: float = field(default_factory=time.perf_counter)


class Endpoint:
    """The queue between one endpoint's HTTP handler and its ``http.in`` node."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.queue: queue.Queue[Request] = queue.Queue(maxsize=config.max_queued)
        self.closed = threading.Event()
        self.ready = threading.Event()
        """Set once the ``http.in`` node looks at the queue: its start-up work is done."""
        self.in_flight = 0
        self.taken = 0

    def take(self, timeout: float) -> Request | None:
        """The next request, waiting at most ``timeout`` s; None when none came."""
        try:
            request = self.queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        self.taken += 1
        return request

    def take_batch(self, wait: float = 0.1) -> list[Request] | None:
        """The next requests to emit together, [] when none came, None once closed and empty.

        With a batch window, requests that arrive within it after the first one join it,
        up to ``max_batch_rows`` rows in all (the first request always goes, whatever its
        size). Once a drain has begun (``closed``), the batch goes at once: waiting out the
        window could outlast the drain's deadline and stop the run with it unanswered.
        """
        self.ready.set()
        first = self.take(wait)
        if first is None:
            return None if self.closed.is_set() and self.queue.empty() else []
        batch = [first]
        rows = len(first.rows)
        window = self.config.batch_window_ms / 1000
        if window <= 0:
            return batch
        deadline = time.perf_counter() + window
        while rows < self.config.max_batch_rows and not self.closed.is_set():
            left = deadline - time.perf_counter()  # a drain (closed) sends the batch at once
            if left <= 0:
                break
            with self.queue.mutex:  # a request that would pass the limit waits for the next
                nxt = self.queue.queue[0] if self.queue.queue else None
            if nxt is not None and rows + len(nxt.rows) > self.config.max_batch_rows:
                break
            more = self.take(min(left, CLOSED_CHECK))
            if more is None:
                continue
            batch.append(more)
            rows += len(more.rows)
        return batch


class Refused(Exception):  # noqa: N818 - an HTTP answer, not a failure of ours
    """A request the hub does not admit: the HTTP status, the reason, and headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class ServingHub:
    """The endpoints of one served flow, the requests in flight, and their answers."""

    def __init__(self, configs: Sequence[EndpointConfig]) -> None:
        self.endpoints = {c.key: Endpoint(c) for c in configs}
        self.pending: dict[str, Request] = {}
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._prefix = os.urandom(3).hex()
        self.closed = False
        self.late = 0  # answers refused because their request was answered already
        self.tracker: Any = None  # the RequestLineage that decides when a request is complete

    def endpoint(self, path: str, method: str = "POST") -> Endpoint:
        """The endpoint an ``http.in`` node reads from.

        Raises:
            LookupError: No endpoint ``METHOD path`` was declared when the server started.
        """
        key = f"{method.upper()} {path}"
        found = self.endpoints.get(key)
        if found is None:
            msg = (f"no endpoint {key} is served here (served: {', '.join(self.endpoints)}); "
                   "serve the flow with `edgewise serve FLOW`")
            raise LookupError(msg)
        return found

    def admit(self, key: str, rows: list[dict[str, Any]]) -> Request:
        """Queue a request for its endpoint's ``http.in`` node, or refuse it at once.

        Raises:
            Refused: 503 while the server shuts down; 429 (with ``Retry-After``) when the
                endpoint's queue is full or too many of its requests are in flight.
        """
        endpoint = self.endpoints[key]
        if self.closed:
            msg = "the server is shutting down; send the request again in a moment"
            raise Refused(503, msg, {"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        self.loop = loop
        with self.lock:
            if endpoint.in_flight >= endpoint.config.max_in_flight:
                msg = (f"{endpoint.config.max_in_flight} requests to {key} are in flight "
                       "already; retry later")
                raise Refused(429, msg, {"Retry-After": "1"})
            request = Request(f"{self._prefix}{next(self._ids):x}", key, rows,
                              loop.create_future())
            try:
                endpoint.queue.put_nowait(request)
            except queue.Full:
                msg = (f"the flow behind {key} is busy: {endpoint.config.max_queued} requests "
                       "wait for it already; retry later")
                raise Refused(429, msg, {"Retry-After": "1"}) from None
            endpoint.in_flight += 1
            self.pending[request.id] = request
        return request

    def answer(self, request_id: str, status: int, body: bytes) -> bool:
        """Answer a request, from any thread; False if it is unknown or answered already."""
        with self.lock:
            request = self.pending.pop(request_id, None)
            if request is None:
                self.late += 1
                return False
            self.endpoints[request.endpoint].in_flight -= 1
        if self.tracker is not None:
            self.tracker.finished(request_id)
        loop = self.loop
        if loop is None:
            return True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _resolve(request.future, (status, body))
        else:
            try:
                loop.call_soon_threadsafe(_resolve, request.future, (status, body))
            except RuntimeError:  # the loop is closed: no one waits any more
                pass
        return True

    def deliver(self, request_id: str, status: int, records: list[Any]) -> bool:
        """Rows of a request reached an answer node (any thread); False if it was answered.

        The request is answered once every row of it has arrived or gone elsewhere (see
        :mod:`runtime._serve.lineage`); with no lineage, at once.
        """
        if self.tracker is not None:
            taken = bool(self.tracker.deliver(request_id, status, records))
            if not taken:
                with self.lock:
                    self.late += 1
            return taken
        import json

        return self.answer(request_id, status, json.dumps(records).encode())

    def is_open(self, request_id: str) -> bool:
        """Whether a request waits for its answer."""
        return request_id in self.pending

    def close(self) -> None:
        """Admit no more requests; each ``http.in`` ends once its queue is empty."""
        self.closed = True
        for endpoint in self.endpoints.values():
            endpoint.closed.set()

    def queued(self) -> int:
        """Requests admitted that no ``http.in`` node has taken yet."""
        return sum(e.queue.qsize() for e in self.endpoints.values())

    def answer_all(self, status: int, body: bytes) -> int:
        """Answer every request still waiting (the run ended); return how many there were."""
        left = list(self.pending)
        return sum(self.answer(rid, status, body) for rid in left)


def _resolve(future: asyncio.Future[Answer], answer: Answer) -> None:
    if not future.done():
        future.set_result(answer)


def run_serving(hub: ServingHub) -> contextvars.Token[ServingHub | None]:
    """Make ``hub`` what :func:`serving_hub` returns in this context (a run's task)."""
    return _SERVING.set(hub)
