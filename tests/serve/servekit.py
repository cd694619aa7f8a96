"""Serving flows in tests: a FlowServer on 127.0.0.1 in a thread, and test components.

``serving(nodes, edges, ...)`` starts a flow's server on a free port and always stops it.
``GATE`` holds every message in ``test.gate`` until a test opens it, so that requests can be
kept in flight on purpose (for overload, timeouts and drains) without timing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd

import runtime
from runtime import FlowServer, ServeOutcome, component, default_registry
from tests.flowkit import Edges, Nodes, make_flow

GATE = threading.Event()
WAIT = 20.0


@component("test.gate", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           threaded=True)
def gate(data: pd.DataFrame) -> pd.DataFrame:
    """Pass every DataFrame on once GATE is open."""
    if not GATE.wait(WAIT):
        msg = "the test never opened the gate"
        raise TimeoutError(msg)
    return data


@component("test.check", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"})
def check(data: pd.DataFrame) -> pd.DataFrame:
    """Refuse rows with a negative x; pass the others on."""
    if (data["x"] < 0).any():
        msg = f"x must not be negative, got {data['x'].min()}"
        raise ValueError(msg)
    return data


@component("test.table", outputs={"data": "DataFrame"})
def table() -> pd.DataFrame:
    """A lookup table: x from 0 to 99 and its label."""
    return pd.DataFrame({"x": range(100), "label": [f"L{x}" for x in range(100)]})


SPECS = [gate, check, table]


class Served:
    """A FlowServer running on its own event loop in a thread."""

    def __init__(self, server: FlowServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.outcome: ServeOutcome | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def call(self, coro: Any, timeout: float = WAIT) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        """Start the loop, the flow and the HTTP server."""
        self.thread.start()
        self.call(self.server.start())

    def stop(self, drain_timeout: float = 10.0) -> ServeOutcome:
        """Drain and stop (once); return how it ended."""
        if self.outcome is None:
            self.outcome = self.call(self.server.stop(drain_timeout), WAIT + drain_timeout)
        return self.outcome

    def close(self) -> None:
        """Stop the server if a test did not, and the loop."""
        try:
            if self.server.run_task is not None:
                GATE.set()
                self.stop(5.0)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(WAIT)
            self.loop.close()


@contextlib.contextmanager
def serving(nodes: Nodes, edges: Edges, *, token: str | None = None) -> Iterator[Served]:
    """Serve the flow on 127.0.0.1 (a free port) for the ``with`` block; stop it after."""
    GATE.clear()
    registry = default_registry().with_components(*SPECS)
    checked = runtime.plan(make_flow(nodes, edges), registry=registry)
    served = Served(FlowServer(checked, host="127.0.0.1", port=0, token=token, name="t"))
    try:
        served.start()
        yield served
    finally:
        served.close()
        GATE.clear()
