"""Replaying a loop exactly: each stream message fires with the latest value its record names.

The value may come round a live feedback edge; the scorer waits for it. A value that never
comes ends the wait with an error record once the run has gone quiet, not with a hang. A node
fed by several stream edges takes their messages in the recorded order.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

import runtime
from runtime import Params, RunOptions, RunResult, component, latest, record_run
from runtime._record.schedule import recorded_schedule
from runtime._schedule import LatestSchedule, NodeSchedule
from runtime.runs import RunStore, list_runs, plan_replay, replay
from runtime.testing import memory_source
from tests.flowkit import flow_doc, make_run, run_guarded

DEADLINE = 60  # seconds; only a hang comes near it
RELEASED = threading.Event()
GATE = {"open": True}


@component("rl.scale", inputs={"data": "Any", "factor": latest()}, outputs={"data": "Any"})
def scale(data: Any, factor: Any) -> Any:
    """The message with the factor it was fired with."""
    return (data, factor)


@component("rl.next", inputs={"data": "Any"}, outputs={"factor": "Any"})
def following(data: Any) -> Any:
    """A new factor for every message scored: 1000 more than the message."""
    return data[0] + 1000


@component("rl.count", outputs={"data": "Any"})
def count() -> Iterator[int]:
    """0 to 99."""
    yield from range(100)


class GateParams(Params):
    """Settings of rl.gate."""

    at: int = Field(default=30, description="The message that makes the one factor.")


@component("rl.gate", inputs={"data": "Any"}, outputs={"factor": "Any"}, params=GateParams,
           threaded=True)
def gate(data: Any, params: GateParams) -> Iterator[Any]:
    """One factor, when message ``at`` is scored and the gate is open; it releases the rest.

    It takes its time: a replay that fed the stream without waiting for it would score
    later messages with the old factor meanwhile.
    """
    if data[0] == params.at and GATE["open"]:
        time.sleep(0.2)
        yield 7
        RELEASED.set()


@component("rl.halves", outputs={"data": "Any"}, threaded=True)
def halves() -> Iterator[int]:
    """0 to 30, then (once the gate made its factor) 31 to 79."""
    yield from range(31)
    RELEASED.wait(DEADLINE)
    time.sleep(0.05)  # the factor reaches the scorer first, as a rule (the record says)
    yield from range(31, 80)


SPECS = [scale, following, count, gate, halves, memory_source("rl.zero", [0])]
REGISTRY = runtime.default_registry().with_components(*SPECS)
LOOP = {"count": "rl.count", "zero": "rl.zero", "s": "rl.scale", "e": "rl.next"}
LOOP_EDGES = ["count.data->s.data", "zero.data->s.factor", "s.data->e.data",
              "e.factor->s.factor"]


def scheduled_run(runs: list[tuple[int, dict[str, tuple[str, int]]]],
                  ) -> tuple[RunResult, list[Any]]:
    """The loop, with the scorer's messages from ``count`` fired as ``runs`` say."""
    calls = {"count.data": runs}
    schedule = LatestSchedule({"s": NodeSchedule(calls=calls)})
    run = make_run(LOOP, LOOP_EDGES, SPECS, RunOptions(batch_size=1, schedule=schedule))
    scored: list[Any] = []
    run.hooks.add("emitted", lambda edge, batch: scored.extend(
        batch.values) if edge == "s.data->e.data" else None)
    return run_guarded(run, timeout=DEADLINE), scored


def test_a_scheduled_message_fires_with_the_named_value_whenever_it_arrives() -> None:
    # Messages 0 to 49 fire with the first factor even when the loop's came before them;
    # message 50 waits for the loop's eleventh factor (made from message 10).
    result, scored = scheduled_run([(0, {"factor": ("zero.data", 0)}),
                                    (50, {"factor": ("e.factor", 10)}), (51, {})])
    assert result.status == "ok"
    assert scored[:50] == [(k, 0) for k in range(50)]
    assert scored[50] == (50, 1010)
    assert [data for data, _factor in scored] == list(range(100))


def test_a_scheduled_value_that_never_comes_ends_as_an_error_record_not_a_hang() -> None:
    result, scored = scheduled_run([(60, {"factor": ("e.factor", 500)}), (61, {})])
    assert result.status == "errors"
    assert result.nodes["s"].errors == 1 and result.nodes["s"].fired == 99
    assert result.first_error is not None
    assert result.first_error.node == "s"
    assert "expected message 501 of e.factor on input 'factor'" in result.first_error.message
    assert "never produced" in result.first_error.message
    assert 60 not in [data for data, _factor in scored]


GATED = {"halves": "rl.halves", "zero": "rl.zero", "s": "rl.scale", "e": "rl.gate"}
GATED_EDGES = ["halves.data->s.data", "zero.data->s.factor", "s.data->e.data",
               "e.factor->s.factor"]


def recorded_gate(workspace: Path) -> tuple[RunStore, int]:
    """A kept run in which message 30 made a factor; the first message that fired with it.

    Which message that is depends on timing (31, as a rule); the record keeps it.
    """
    GATE["open"] = True
    RELEASED.clear()
    run = make_run(GATED, GATED_EDGES, SPECS, RunOptions(batch_size=1))
    recorder = record_run(run, workspace)
    assert run_guarded(run, timeout=DEADLINE).status == "ok"
    [store] = [r for r in list_runs(workspace) if r.id == recorder.run_id]
    factors = [store.value(m.id)[1] for m in store.messages("s.data")]
    switch = factors.index(7)
    assert switch > 30 and factors == [0] * switch + [7] * (80 - switch)
    return store, switch


def scored(store: RunStore) -> list[Any]:
    """What the scorer emitted, in order (pairs read back as lists)."""
    return [store.value(m.id) for m in store.messages("s.data")]


def replayed(store: RunStore, workspace: Path, **options: Any) -> tuple[RunResult, RunStore]:
    """Replay ``s`` in a thread; fail, instead of hanging, if it does not end."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(replay, store, "s", workspace, registry=REGISTRY, **options)
        try:
            result, recorder = future.result(DEADLINE)
        except concurrent.futures.TimeoutError:
            pytest.fail(f"the replay did not end within {DEADLINE} s")
    return result, recorder.store


def test_the_schedule_read_from_the_record_is_a_run_per_value_used(tmp_path: Path) -> None:
    store, switch = recorded_gate(tmp_path)
    plan = plan_replay(store, "s", tmp_path, registry=REGISTRY)
    assert plan.exact and plan.sub_flow is not None
    stand_ins = {o: f"replay_{o.replace('.', '_')}.data" for o in plan.inputs}
    checked = runtime.plan(plan.sub_flow, registry=plan.registry)
    schedule = recorded_schedule(store, checked, stand_ins)
    assert schedule is not None
    assert schedule.nodes["s"].calls == {"replay_halves_data.data": [
        (0, {"factor": ("replay_zero_data.data", 0)}), (switch, {"factor": ("e.factor", 0)})]}
    assert schedule.nodes["s"].shown["replay_zero_data.data"] == "zero.data"


def test_a_replay_whose_scorer_had_one_value_throughout_needs_no_schedule(
        tmp_path: Path) -> None:
    run = make_run(LOOP, LOOP_EDGES[:-1], SPECS)  # no loop: the factor is the first one
    recorder = record_run(run, tmp_path)
    assert run_guarded(run).status == "ok"
    [store] = list_runs(tmp_path)
    plan = plan_replay(store, "s", tmp_path, registry=REGISTRY)
    stand_ins = {o: f"replay_{o.replace('.', '_')}.data" for o in plan.inputs}
    assert plan.sub_flow is not None and recorder.run_id == store.id
    checked = runtime.plan(plan.sub_flow, registry=plan.registry)
    assert recorded_schedule(store, checked, stand_ins) is None


def test_a_replay_of_a_loop_gives_each_message_the_recorded_loop_value(tmp_path: Path) -> None:
    store, _switch = recorded_gate(tmp_path)
    result, again = replayed(store, tmp_path)
    assert result.status == "ok"
    assert scored(again) == scored(store)


def test_a_replay_whose_loop_never_makes_the_recorded_value_ends_with_an_error_record(
        tmp_path: Path) -> None:
    store, switch = recorded_gate(tmp_path)
    GATE["open"] = False  # the replayed loop goes otherwise: no factor comes round
    result, again = replayed(store, tmp_path)
    assert result.status == "errors" and result.nodes["s"].errors == 1
    [error] = [again.value(m.id) for m in again.messages("s.error")]
    assert "expected message 1 of e.factor on input 'factor'" in error.message
    assert "never produced" in error.message
    assert len(error.inputs) == 80 - switch  # the messages the record answered with it
    assert scored(again) == [[k, 0] for k in range(switch)]


def test_a_replay_of_an_edited_loop_is_a_what_if_and_waits_for_nothing(tmp_path: Path) -> None:
    store, _switch = recorded_gate(tmp_path)
    edited = flow_doc({**GATED, "e": ("rl.gate", {"at": 1000})}, GATED_EDGES)
    result, again = replayed(store, tmp_path, flow=edited, trust=True)
    assert result.status == "ok"
    assert scored(again) == [[k, 0] for k in range(80)]


@component("rl.letters", outputs={"data": "Any"}, threaded=True)
def letters() -> Iterator[str]:
    """a to j, slowly: left alone, the digits would all come first."""
    for letter in "abcdefghij":
        time.sleep(0.01)
        yield letter


@component("rl.digits", outputs={"data": "Any"})
def digits() -> Iterator[int]:
    """0 to 9, at once."""
    yield from range(10)


def merged_run(order: list[tuple[str, int, int]]) -> list[Any]:
    schedule = LatestSchedule({"m": NodeSchedule(order=order)})
    run = make_run({"a": "rl.letters", "b": "rl.digits", "m": "stream.identity"},
                   ["a.data->m.data", "b.data->m.data"], [letters, digits],
                   RunOptions(batch_size=1, schedule=schedule))
    taken: list[Any] = []
    run.hooks.add("produced", lambda origin, batch: taken.extend(
        batch.values) if origin == "m.data" else None)
    assert run_guarded(run, timeout=DEADLINE).status == "ok"
    return taken


def test_merged_edges_are_taken_in_the_recorded_order_whatever_order_they_come_in() -> None:
    order = [(origin, k, 1) for k in range(10) for origin in ("a.data", "b.data")]
    assert merged_run(order) == [x for pair in zip("abcdefghij", range(10), strict=True)
                                 for x in pair]


def test_a_recorded_message_that_never_comes_holds_the_others_only_until_the_end() -> None:
    order = [("b.data", 0, 1), ("x.data", 0, 1), ("a.data", 0, 10), ("b.data", 1, 9)]
    taken = merged_run(order)
    assert taken == [0, *"abcdefghij", *range(1, 10)]
