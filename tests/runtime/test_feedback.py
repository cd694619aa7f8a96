"""Loops through a ``latest`` input (feedback edges): accepted, run to their end, never stuck."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import runtime
from runtime import FlowInvalidError, RunOptions, component, default_registry, latest
from runtime.testing import memory_source
from tests.flowkit import make_flow, make_run, run_guarded


@component("fb.scale", inputs={"data": "Any", "factor": latest()}, outputs={"data": "Any"})
def scale(data: Any, factor: Any) -> Any:
    """The message times the latest factor."""
    return (data, factor)


@component("fb.every", inputs={"data": "Any"}, outputs={"factor": "Any"})
def every(data: Any) -> Any:
    """A new factor for every message scored: the loop's feedback."""
    return data[0] + 1


@component("fb.count", outputs={"data": "Any"})
def count() -> Iterator[int]:
    """0 to 299, one message at a time (one batch each with a batch size of 1)."""
    yield from range(300)


@component("fb.slow", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def slow(data: Any) -> Any:
    """Pass the message on, from a worker thread."""
    return data


@component("fb.fan", inputs={"data": "Any"}, outputs={"factor": "Any"}, threaded=True)
def fan(data: Any) -> Iterator[Any]:
    """Three factors back for every message: more feedback than the scorer takes in."""
    for _ in range(3):
        yield data[0]


CLOSED = threading.Event()


@component("fb.forever", outputs={"data": "Any"}, threaded=True)
def forever() -> Iterator[Any]:
    """A source that runs until it is stopped, like ``model.get`` following an alias."""
    try:
        yield 1
        while True:
            time.sleep(0.01)
            yield None
    finally:
        CLOSED.set()


SPECS = [scale, every, slow, fan, forever, count, memory_source("fb.one", [1])]
LOOP = {"count": "fb.count", "one": "fb.one", "s": "fb.scale", "e": "fb.every"}
LOOP_EDGES = ["count.data->s.data", "one.data->s.factor", "s.data->e.data",
              "e.factor->s.factor"]


def plan(nodes: dict[str, Any], edges: list[str]) -> runtime.Plan:
    return runtime.plan(make_flow(nodes, edges),
                        registry=default_registry().with_components(*SPECS))


def test_a_loop_through_a_latest_input_is_a_feedback_edge_and_a_stream_loop_is_refused() -> None:
    assert plan(LOOP, LOOP_EDGES).feedback == {"e.factor->s.factor"}
    with pytest.raises(FlowInvalidError, match="must pass through a 'latest' input"):
        plan({"count": "fb.count", "a": "stream.identity", "b": "stream.identity"},
             ["count.data->a.data", "a.data->b.data", "b.data->a.data"])


def test_the_editor_may_draw_a_feedback_edge_but_not_a_stream_loop() -> None:
    registry = default_registry().with_components(*SPECS)
    flow = make_flow(LOOP, LOOP_EDGES[:-1])
    assert runtime.connection_problem(flow, "e.factor", "s.factor", registry=registry) is None
    assert "s.factor" in runtime.fitting_ports(flow, "e.factor", "out", registry)
    assert "e.factor" in runtime.fitting_ports(flow, "s.factor", "in", registry)
    refused = runtime.connection_problem(flow, "e.factor", "s.data", registry=registry)
    assert refused is not None and refused.code == "cycle"


@pytest.mark.parametrize("fuse", [True, False])
def test_a_loop_runs_to_its_end_even_when_every_queue_is_full(fuse: bool) -> None:
    # One message per batch, one batch per queue, three messages sent back for each one
    # scored: the loop's queues fill up. A feedback edge that waited for room would hang
    # (scorer waits for m, m for e, e for the scorer).
    nodes = {"count": "fb.count", "one": "fb.one", "s": "fb.scale", "m": "fb.slow",
             "e": "fb.fan"}
    edges = ["count.data->s.data", "one.data->s.factor", "s.data->m.data",
             "m.data->e.data", "e.factor->s.factor"]
    run = make_run(nodes, edges, SPECS, RunOptions(batch_size=1, queue_batches=1, fuse=fuse))
    result = run_guarded(run, timeout=60)
    assert result.status == "ok"
    assert result.edges["s.data->m.data"] == 300
    assert result.edges["e.factor->s.factor"] == 900  # sent back, after the scorer ended too
    assert result.nodes["s"].fired == 300


def test_what_a_feedback_edge_carries_is_used_by_later_messages() -> None:
    run = make_run(LOOP, LOOP_EDGES, SPECS, RunOptions(batch_size=1))
    scored: list[Any] = []
    run.hooks.add("emitted", lambda edge, batch: scored.extend(
        batch.values) if edge == "s.data->e.data" else None)
    assert run_guarded(run).status == "ok"
    factors = [factor for _data, factor in scored]
    assert factors[0] == 1 and max(factors) > 1  # the loop's factors reached the scorer
    assert factors == sorted(factors)  # a newer factor replaces the older, never the reverse
    assert [data for data, _factor in scored] == list(range(300))


def test_messages_that_only_a_feedback_edge_could_complete_end_as_an_error_not_a_hang() -> None:
    nodes = {"count": "fb.count", "s": "fb.scale", "e": "fb.every"}
    run = make_run(nodes, ["count.data->s.data", "s.data->e.data", "e.factor->s.factor"], SPECS)
    result = run_guarded(run, timeout=30)
    assert result.status == "errors"
    assert result.first_error is not None
    assert "never received a value" in result.first_error.message


def test_a_source_that_runs_until_stopped_ends_with_the_nodes_it_feeds() -> None:
    CLOSED.clear()
    nodes = {"count": "fb.count", "f": "fb.forever", "s": "fb.scale"}
    run = make_run(nodes, ["count.data->s.data", "f.data->s.factor"], SPECS)
    result = run_guarded(run, timeout=30)
    assert result.status == "ok"
    assert result.nodes["s"].fired == 300
    assert CLOSED.is_set()  # its generator was closed, so it released what it held


def test_a_stop_counts_what_waits_on_a_feedback_edge_as_undone_at_its_target() -> None:
    # A feedback edge never makes its sender wait: what finds the target's inbox full waits
    # on the edge. Each batch was counted on the edge when sent, so a stop that drops them
    # counts them as undone at the target, as it counts what waits in the inbox.
    from runtime._chain import FEEDBACK_END
    from runtime._delivery import FeedbackEdge
    from runtime._messages import Batch

    class Target:
        def __init__(self) -> None:
            self.inbox: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
            self.stranded = 0

    async def main() -> tuple[int, int, int]:
        target = Target()
        edge = FeedbackEdge(target)
        for values in ([1], [2, 3], [4, 5, 6]):
            edge.send(("factor", Batch("e.factor", list(values), [], values)))
        edge.send(("factor", FEEDBACK_END))  # an edge's end is no message
        await asyncio.sleep(0)
        edge.cancel()
        await asyncio.sleep(0)
        return target.inbox.qsize(), target.stranded, len(edge.waiting)

    assert asyncio.run(main()) == (1, 5, 0)  # one batch put; 2 + 3 messages dropped
