"""Run.drain: sources end first, what is in flight reaches the sinks, a timeout stops hard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from runtime import Run, RunResult, component
from runtime.testing import MemorySink
from tests.flowkit import make_run

WAIT = 20.0


class Feed:
    """A waiting source: emits what tests put in, yields None while it waits."""

    def __init__(self) -> None:
        self.items: list[int] = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.spec = component("test.feed", outputs={"data": "int"}, threaded=True)(self.run)

    def run(self) -> Iterator[int | None]:
        """Emit what was put in; wait (yielding None) for more, until closed."""
        try:
            while True:
                with self.lock:
                    taken, self.items = self.items, []
                yield from taken
                if not taken:
                    self.closed.wait(0.05)
                    yield None
        finally:
            self.closed.set()


class Hold:
    """A slow sink-side node: holds every message until opened (or a few seconds pass)."""

    def __init__(self, hold_seconds: float = WAIT) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.hold_seconds = hold_seconds

        def hold(data: Any) -> Any:
            """Pass on each message once opened."""
            self.entered.set()
            self.open.wait(self.hold_seconds)
            return data

        self.spec = component("test.hold", inputs={"data": "int"}, outputs={"data": "int"},
                              threaded=True)(hold)


def start(run: Run) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", run.run()), daemon=True)
    thread.start()
    return thread, box


def ended(thread: threading.Thread, box: dict[str, Any]) -> RunResult:
    thread.join(WAIT)
    if thread.is_alive():
        pytest.fail("the run did not end")
    result: RunResult = box["result"]
    return result


def flow(feed: Feed, hold: Hold, sink: MemorySink) -> Run:
    run = make_run({"feed": "test.feed", "hold": "test.hold", "sink": "testing.sink"},
                   ["feed.data->hold.data", "hold.data->sink.data"],
                   [feed.spec, hold.spec, sink.spec])
    sink.watch(run, ["hold.data->sink.data"])
    return run


def test_a_drain_ends_a_waiting_source_and_lets_every_message_in_flight_through() -> None:
    feed, hold, sink = Feed(), Hold(), MemorySink()
    run = flow(feed, hold, sink)
    feed.items = list(range(5))
    thread, box = start(run)
    assert hold.entered.wait(WAIT)
    run.drain(timeout=WAIT)
    assert feed.closed.wait(WAIT)  # the source's generator was closed while work was held
    hold.open.set()
    result = ended(thread, box)
    assert result.status == "ok"
    # what the source had emitted when it was closed all got through; it emitted no more
    emitted = result.edges["feed.data->hold.data"]
    assert emitted >= 1
    assert sink.values == list(range(emitted))
    assert result.undone == {}


def test_a_drain_that_times_out_stops_the_run_and_says_what_was_left() -> None:
    feed, hold, sink = Feed(), Hold(hold_seconds=3.0), MemorySink()
    run = flow(feed, hold, sink)
    feed.items = list(range(5))
    thread, box = start(run)
    assert hold.entered.wait(WAIT)
    run.drain(timeout=0.05)
    result = ended(thread, box)
    assert result.status == "stopped"
    assert result.exit_code == 1
    assert sum(result.undone.values()) >= 1
    assert set(result.undone) <= {"hold", "sink"}
    # the message 'hold' held when the stop came was finished and counted on its edge; the
    # sink, stopped too, never got it, and counts it as undone
    sent = result.edges.get("hold.data->sink.data", 0)
    assert sent >= 1
    assert result.undone.get("sink", 0) == sent - result.nodes["sink"].fired
    assert len(sink.values) + sum(result.undone.values()) <= 5


def test_a_drain_asked_before_the_run_starts_ends_it_at_once() -> None:
    feed, hold, sink = Feed(), Hold(), MemorySink()
    run = flow(feed, hold, sink)
    run.drain(timeout=WAIT)
    result = ended(*start(run))
    assert result.status == "ok"
    assert sink.values == []
    assert result.nodes["feed"].state == "done"
