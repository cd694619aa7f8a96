"""A server serves only once its ``http.in`` takes requests, so a drain never waits on start-up.

An ``http.in`` does its start-up work (importing pandas, the first time) in a worker thread,
which nothing can cut short. A server that said it was serving before that work was done
could be asked to drain while it went on, and on a loaded machine overrun its drain timeout
with nothing queued. Here the start-up of ``http.in`` is held on purpose.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import httpx
import pytest

import components.http_io as http_io
import runtime
from runtime import FlowServer
from tests.flowkit import make_flow, node
from tests.serve.servekit import WAIT, Served


def test_start_returns_once_http_in_takes_requests_and_a_drain_then_ends_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hold, entered = threading.Event(), threading.Event()
    real = http_io._hub

    def slow_start(component_id: str) -> Any:
        if component_id == "http.in":  # http.in's start-up, held until the test lets it go
            entered.set()
            hold.wait(WAIT)
        return real(component_id)

    monkeypatch.setattr(http_io, "_hub", slow_start)
    checked = runtime.plan(make_flow([node("in", "http.in", path="/echo"),
                                      node("out", "http.out")], ["in.data->out.data"]))
    served = Served(FlowServer(checked, host="127.0.0.1", port=0))
    served.thread.start()
    try:
        started = asyncio.run_coroutine_threadsafe(served.server.start(), served.loop)
        assert entered.wait(WAIT)
        with pytest.raises(concurrent.futures.TimeoutError):
            started.result(0.5)  # http.in is still starting: the server does not serve yet
        assert served.server.state == "starting"
        hold.set()
        started.result(WAIT)
        answer = httpx.post(f"{served.url}/echo", json={"x": 1}, timeout=WAIT)
        assert (answer.status_code, answer.json()) == (200, [{"x": 1}])
        outcome = served.stop(drain_timeout=WAIT)
        assert outcome.clean and outcome.result.status == "ok"
    finally:
        hold.set()
        served.close()
