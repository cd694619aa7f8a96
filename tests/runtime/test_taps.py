"""Edge taps: live statistics, node states, throttled snapshots, display nodes, hooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import runtime
from runtime import (
    LiveStats,
    Run,
    RunOptions,
    RunResult,
    Snapshot,
    component,
)
from runtime.engines import HOOK_NAMES, Hooks
from runtime.testing import memory_source
from tests.flowkit import make_run, run_guarded

# -- helpers ----------------------------------------------------------------------------


def ticking_source(component_id: str, count: int, pause: float) -> runtime.ComponentSpec:
    """A threaded source that emits ``count`` integers, ``pause`` seconds apart."""

    def tick() -> Iterator[int]:
        for i in range(count):
            time.sleep(pause)
            yield i

    tick.__doc__ = "Emit integers slowly."
    return component(component_id, outputs={"data": "int"}, threaded=True)(tick)


@component("t.fragile", inputs={"data": "Any"}, outputs={"data": "Any"})
def fragile(data: int) -> int:
    """Fail on odd values."""
    if data % 2:
        msg = f"odd value {data}"
        raise ValueError(msg)
    return data


# -- statistics per edge and node ---------------------------------------------------------


def test_stats_count_messages_per_edge() -> None:
    run = make_run({"s": ("stream.range", {"count": 250}), "a": "stream.identity",
                    "b": "stream.count", "c": "stream.count"},
                   ["s.data->a.data", "s.data->b.data", "a.data->c.data"], [],
                   RunOptions(batch_size=16))
    stats = run.stats
    result = run_guarded(run)
    snap = stats.snapshot()
    assert {e: v["count"] for e, v in snap["edges"].items()} == {
        "s.data->a.data": 250, "s.data->b.data": 250, "a.data->c.data": 250}
    assert {e: v["count"] for e, v in snap["edges"].items()} == result.edges
    assert {n: v["fired"] for n, v in snap["nodes"].items()} == {
        n: r.fired for n, r in result.nodes.items()}


def test_stats_count_rows_of_dataframe_edges_only() -> None:
    frames = [pd.DataFrame({"x": range(n)}) for n in (2, 3, 5)]
    typed = memory_source("t.typed", frames, "DataFrame")
    untyped = memory_source("t.untyped", frames)
    numbers = memory_source("t.numbers", [1, 2, 3], "int")
    run = make_run({"typed": "t.typed", "untyped": "t.untyped", "numbers": "t.numbers",
                    "n1": "stream.count", "n2": "stream.count", "n3": "stream.count"},
                   ["typed.data->n1.data", "untyped.data->n2.data", "numbers.data->n3.data"],
                   [typed, untyped, numbers])
    stats = run.stats
    run_guarded(run)
    edges = stats.snapshot()["edges"]
    assert edges["typed.data->n1.data"]["rows"] == 10
    assert edges["untyped.data->n2.data"]["rows"] == 10  # an Any edge carrying DataFrames
    assert edges["numbers.data->n3.data"]["rows"] is None
    assert edges["typed.data->n1.data"]["count"] == 3


def test_stats_preview_the_last_value_of_each_edge() -> None:
    frames = [pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [7, 8, 9], "y": ["a", "b", "c"]})]
    src = memory_source("t.frames", frames, "DataFrame")
    run = make_run({"s": "t.frames", "n": "stream.count", "z": "stream.identity",
                    "z2": "stream.identity"},
                   ["s.data->n.data", "n.count->z.data", "z.data->z2.data"], [src])
    stats = run.stats
    assert stats.snapshot()["edges"]["s.data->n.data"]["preview"] is None  # nothing yet
    run_guarded(run)
    edges = stats.snapshot()["edges"]
    frame_preview = edges["s.data->n.data"]["preview"]
    assert frame_preview == runtime.preview(frames[1])
    assert frame_preview["shape"] == [3, 2]
    assert edges["n.count->z.data"]["preview"] == runtime.preview(2)
    json.dumps(stats.snapshot())


def test_node_states_go_from_idle_to_running_to_done_or_failed() -> None:
    seen: dict[str, str] = {}
    holder: dict[str, Run] = {}

    @component("t.look", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
    def look(data: Any) -> Any:
        if not seen:
            seen.update({n: info["state"] for n, info in holder["run"].stats.nodes.items()})
        return data

    run = make_run({"s": ("stream.range", {"count": 4}), "look": "t.look", "f": "t.fragile",
                    "n": "stream.count"},
                   ["s.data->look.data", "look.data->f.data", "f.data->n.data"],
                   [look, fragile])
    holder["run"] = run
    before = run.stats.snapshot()
    assert {n: v["state"] for n, v in before["nodes"].items()} == dict.fromkeys(
        ("s", "look", "f", "n"), "idle")
    result = run_guarded(run)
    # while 'look' worked on its first message, nothing downstream had started yet
    assert seen["look"] == "running"
    assert seen["f"] == "idle" and seen["n"] == "idle"
    after = run.stats.snapshot()["nodes"]
    assert {n: v["state"] for n, v in after.items()} == {
        "s": "done", "look": "done", "f": "failed", "n": "done"}
    assert after["f"]["errors"] == 2 and after["look"]["errors"] == 0
    assert after["f"]["fired"] == 4
    assert result.nodes["f"].state == "failed"


def test_taps_do_not_change_what_a_run_does() -> None:
    def once(watch: bool) -> RunResult:
        run = make_run({"s": ("stream.range", {"count": 3000}), "f": "t.fragile",
                        "n": "stream.count"}, ["s.data->f.data", "f.data->n.data"], [fragile])
        if watch:
            run.subscribe(lambda snap: None)
        return run_guarded(run)

    plain, watched = once(False), once(True)
    assert plain.status == watched.status == "errors"
    assert plain.edges == watched.edges
    assert {n: (r.fired, r.errors) for n, r in plain.nodes.items()} == {
        n: (r.fired, r.errors) for n, r in watched.nodes.items()}


def test_live_stats_can_be_attached_and_detached_by_hand() -> None:
    run = make_run({"s": ("stream.range", {"count": 10}), "n": "stream.count"},
                   ["s.data->n.data"], [])
    stats = LiveStats(run.plan)
    detach = stats.attach(run.hooks)
    run_guarded(run)
    assert stats.snapshot()["edges"]["s.data->n.data"]["count"] == 10
    assert stats.snapshot()["final"] is True
    detach()
    assert all(not getattr(run.hooks, name) for name in HOOK_NAMES)


# -- subscriptions ---------------------------------------------------------------------


def test_subscription_delivers_at_most_ten_snapshots_a_second() -> None:
    run = make_run({"s": "t.tick", "n": "stream.count"}, ["s.data->n.data"],
                   [ticking_source("t.tick", 24, 0.04)])
    snaps: list[Snapshot] = []
    run.subscribe(snaps.append, interval=0.001)  # asks for more than allowed
    started = time.monotonic()
    result = run_guarded(run)
    elapsed = time.monotonic() - started
    assert result.status == "ok"
    assert snaps, "the subscriber got nothing, not even the final snapshot"
    live = [s for s in snaps if not s["final"]]
    assert len(live) <= elapsed * 10 + 1
    assert len(snaps) == len(live) + 1
    # while messages flow, a snapshot reports a rate
    rates = [s["edges"]["s.data->n.data"]["rate"] for s in live
             if "s.data->n.data" in s["edges"]]
    assert any(r > 0 for r in rates), rates
    json.dumps(snaps)


def test_subscription_interval_can_be_longer() -> None:
    run = make_run({"s": "t.tick", "n": "stream.count"}, ["s.data->n.data"],
                   [ticking_source("t.tick", 20, 0.04)])
    snaps: list[Snapshot] = []
    run.subscribe(snaps.append, interval=0.3)
    started = time.monotonic()
    run_guarded(run)
    elapsed = time.monotonic() - started
    live = [s for s in snaps if not s["final"]]
    assert len(live) <= elapsed / 0.3 + 1


def test_the_final_snapshot_is_flagged_and_holds_every_edge_and_node() -> None:
    run = make_run({"s": ("stream.range", {"count": 5}), "f": "t.fragile",
                    "n": "stream.count", "idle": "stream.count"},
                   ["s.data->f.data", "f.data->n.data", "f.error->idle.data"], [fragile])
    snaps: list[Snapshot] = []
    run.subscribe(snaps.append)
    result = run_guarded(run)
    final = snaps[-1]
    assert final["final"] is True
    assert [s["final"] for s in snaps[:-1]] == [False] * (len(snaps) - 1)
    assert set(final["edges"]) == set(run.plan.edge_ids)
    assert set(final["nodes"]) == set(run.plan.nodes)
    assert final["edges"]["s.data->f.data"]["count"] == 5
    assert final["edges"]["f.error->idle.data"]["count"] == 2
    assert final["nodes"]["f"] == {"state": "failed", "fired": 5, "errors": 2}
    assert final["nodes"]["n"]["state"] == "done"
    assert {n: v["fired"] for n, v in final["nodes"].items()} == {
        n: r.fired for n, r in result.nodes.items()}
    json.dumps(final)


def test_live_snapshots_show_running_nodes_and_only_what_changed() -> None:
    run = make_run({"s": "t.tick", "n": "stream.count"}, ["s.data->n.data"],
                   [ticking_source("t.tick", 10, 0.05)])
    snaps: list[Snapshot] = []
    run.subscribe(snaps.append)
    run_guarded(run)
    live = [s for s in snaps if not s["final"]]
    assert live, "no live snapshot during a run of half a second"
    assert all(s["edges"] or s["nodes"] for s in live)  # empty snapshots are not sent
    states = {v["state"] for s in live for v in s["nodes"].values()}
    assert "running" in states
    counts = [s["edges"]["s.data->n.data"]["count"] for s in snaps
              if "s.data->n.data" in s["edges"]]
    assert counts == sorted(counts) and counts[-1] == 10


def test_two_subscribers_each_see_the_changes() -> None:
    run = make_run({"s": "t.tick", "n": "stream.count"}, ["s.data->n.data"],
                   [ticking_source("t.tick", 8, 0.08)])
    first: list[Snapshot] = []
    second: list[Snapshot] = []
    run.subscribe(first.append)
    run.subscribe(second.append)
    run_guarded(run)
    for snaps in (first, second):
        live_edges = {e for s in snaps if not s["final"] for e in s["edges"]}
        assert live_edges == {"s.data->n.data"}, "a subscriber missed the live changes"


def test_a_subscriber_sees_error_counts_while_the_run_goes_on() -> None:
    @component("t.fail_all", inputs={"data": "Any"}, outputs={"data": "Any"})
    def fail_all(data: Any) -> Any:
        msg = "nope"
        raise RuntimeError(msg)

    run = make_run({"s": "t.tick", "f": "t.fail_all"}, ["s.data->f.data"],
                   [ticking_source("t.tick", 8, 0.05), fail_all])
    snaps: list[Snapshot] = []
    run.subscribe(snaps.append)
    run_guarded(run)
    errors = [s["nodes"]["f"]["errors"] for s in snaps if "f" in s["nodes"]]
    assert errors == sorted(errors) and errors[-1] == 8
    live_states = [s["nodes"]["f"] for s in snaps if not s["final"] and "f" in s["nodes"]]
    assert any(v["state"] == "failed" and 0 < v["errors"] for v in live_states), live_states
    assert snaps[-1]["nodes"]["f"]["state"] == "failed"
    assert run.stats.last_errors["f"].message == "nope"


# -- display nodes ---------------------------------------------------------------------


def test_on_display_gets_the_batches_that_reach_debug_nodes() -> None:
    run = make_run({"s": ("stream.range", {"count": 30}), "show": "debug",
                    "dbl": "stream.identity", "show2": "debug", "n": "stream.count"},
                   ["s.data->show.data", "s.data->dbl.data", "dbl.data->show2.data",
                    "s.data->n.data"], [], RunOptions(batch_size=8))
    shown: dict[str, list[Any]] = {}
    run.on_display(lambda node, batch: shown.setdefault(node, []).extend(batch.values))
    result = run_guarded(run)
    assert result.status == "ok"
    assert shown == {"show": list(range(30)), "show2": list(range(30))}


def test_on_display_without_debug_nodes_is_never_called() -> None:
    run = make_run({"s": ("stream.range", {"count": 3}), "n": "stream.count"},
                   ["s.data->n.data"], [])
    calls: list[Any] = []
    run.on_display(lambda node, batch: calls.append(node))
    run_guarded(run)
    assert calls == []


# -- hooks -----------------------------------------------------------------------------


def test_the_hook_names_are_a_closed_set() -> None:
    assert HOOK_NAMES == ("node_started", "produced", "emitted", "fired", "failed",
                          "node_ended", "run_ended")


def test_hooks_refuse_unknown_names() -> None:
    hooks = Hooks()
    with pytest.raises(ValueError, match="unknown hook 'on_send'") as info:
        hooks.add("on_send", lambda *args: None)
    for name in HOOK_NAMES:
        assert name in str(info.value)
    with pytest.raises(AttributeError):
        hooks.on_send = []  # type: ignore[attr-defined]


def test_hooks_can_be_detached() -> None:
    hooks = Hooks()
    calls: list[tuple[Any, ...]] = []
    detach = hooks.add("fired", lambda *args: calls.append(args))
    hooks.call("fired", "n", 3)
    detach()
    hooks.call("fired", "n", 4)
    detach()  # twice is harmless
    assert calls == [("n", 3)]


def test_every_hook_point_is_called_during_a_run() -> None:
    run = make_run({"s": ("stream.range", {"count": 4}), "f": "t.fragile",
                    "n": "stream.count"}, ["s.data->f.data", "f.data->n.data"], [fragile])
    calls: dict[str, list[tuple[Any, ...]]] = {name: [] for name in HOOK_NAMES}
    for name in HOOK_NAMES:
        run.hooks.add(name, lambda *args, _n=name: calls[_n].append(args))
    result = run_guarded(run)
    assert {n for (n,) in calls["node_started"]} == {"s", "f", "n"}
    assert {e for e, _batch in calls["emitted"]} == set(run.plan.edge_ids)
    # f.error has no edge, yet what f put out on it is produced
    assert {p for p, _batch in calls["produced"]} == {"s.data", "f.data", "f.error",
                                                      "n.count"}
    assert sum(c for node, c in calls["fired"] if node == "f") == 4
    assert [(node, rec.message) for node, rec in calls["failed"]] == [
        ("f", "odd value 1"), ("f", "odd value 3")]
    assert sorted(calls["node_ended"]) == [("f", "failed"), ("n", "done"), ("s", "done")]
    assert calls["run_ended"] == [(result,)]


def test_produced_is_called_once_per_batch_even_on_a_port_with_many_edges() -> None:
    run = make_run({"s": ("stream.range", {"count": 5}), "a": "stream.count",
                    "b": "stream.count"}, ["s.data->a.data", "s.data->b.data"], [])
    produced: list[tuple[str, Any]] = []
    emitted: list[tuple[str, Any]] = []
    run.hooks.add("produced", lambda port, batch: produced.append((port, batch)))
    run.hooks.add("emitted", lambda edge, batch: emitted.append((edge, batch)))
    run_guarded(run)
    from_s = [batch for port, batch in produced if port == "s.data"]
    assert sum(len(b.values) for b in from_s) == 5
    assert len([e for e, _b in emitted if e.startswith("s.data")]) == 2 * len(from_s)
    assert sorted(p for p, _b in produced if p.startswith(("a.", "b."))) == ["a.count",
                                                                               "b.count"]


def test_hooks_are_called_on_the_event_loop_thread_even_for_threaded_nodes() -> None:
    # LiveStats and other observers are not thread-safe: they are read by snapshots on
    # the event loop, so every hook must be called from that one thread.
    @component("t.fragile_threaded", inputs={"data": "Any"}, outputs={"data": "Any"},
               threaded=True)
    def fragile_threaded(data: int) -> int:
        return fragile(data)

    run = make_run({"s": ("stream.range", {"count": 4}), "f": "t.fragile_threaded",
                    "n": "stream.count"}, ["s.data->f.data", "f.data->n.data"],
                   [fragile_threaded])
    threads: dict[str, set[int]] = {name: set() for name in HOOK_NAMES}
    for name in HOOK_NAMES:
        run.hooks.add(name, lambda *args, _n=name: threads[_n].add(threading.get_ident()))
    run_guarded(run)
    loop_thread = threads["run_ended"]
    assert len(loop_thread) == 1 and threads["failed"], "hooks were not called"
    off_loop = sorted(name for name, ids in threads.items() if ids != loop_thread)
    assert off_loop == [], f"hooks called off the event loop thread: {off_loop}"


def test_a_failing_observer_does_not_stop_the_run() -> None:
    import runtime

    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "observed",
        "nodes": [{"id": "r", "component": "stream.range", "params": {"count": 50}},
                  {"id": "c", "component": "stream.count"}],
        "edges": [{"source": "r.data", "target": "c.data"}]})
    run = runtime.Run(runtime.plan(flow))

    def broken(edge: str, batch: object) -> None:
        msg = "observer bug"
        raise RuntimeError(msg)

    run.hooks.add("emitted", broken)
    result = run.run()
    assert result.status == "ok"
    assert result.edges["r.data->c.data"] == 50
    assert run.hooks.errors and "observer bug" in run.hooks.errors[0]
