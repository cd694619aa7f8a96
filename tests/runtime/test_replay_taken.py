"""A node fed by several stream edges is replayed in the order it took their messages.

Message ids do not give that order: a threaded chain hands out ids as it makes messages and
delivers a slice of its work at once, after messages that other nodes made meanwhile (the
label stream of the supervised example, read and paced in one worker, does this under load).
Here the delay is forced: ``hold`` makes its first message, then waits, inside the same worker
call, until ``late``'s message (made after it) has reached ``m``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime import RunOptions, component, record_run
from runtime._record.schedule import recorded_schedule
from runtime.runs import RunStore, diff_runs, list_runs, plan_replay, replay
from tests.flowkit import make_run, run_guarded

DEADLINE = 30  # seconds; only a hang comes near it
MADE = threading.Event()  # hold made its first message
ARRIVED = threading.Event()  # late's message was handed to m


@pytest.fixture(autouse=True)
def _released() -> Iterator[None]:
    """Never leave a component of this module waiting for the next test."""
    yield
    MADE.set()
    ARRIVED.set()


@component("rt.three", outputs={"data": "Any"}, threaded=True)
def three() -> Iterator[str]:
    """s1, s2, s3 (threaded: read by ``hold`` in its own worker)."""
    yield from ("s1", "s2", "s3")


@component("rt.hold", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def hold(data: Any) -> Any:
    """Pass each message on; before the second, wait until ``late``'s message went out."""
    if data == "s2":
        MADE.set()
        ARRIVED.wait(DEADLINE)
    return data


@component("rt.late", outputs={"data": "Any"}, threaded=True)
def late() -> Iterator[str]:
    """One message, made once ``hold`` has made its first; it frees ``hold`` once handed on."""
    MADE.wait(DEADLINE)
    yield "c"  # a threaded source hands each message on before it is asked for the next
    ARRIVED.set()


SPECS = [three, hold, late]
REGISTRY = runtime.default_registry().with_components(*SPECS)
NODES = {"three": "rt.three", "hold": "rt.hold", "late": "rt.late", "m": "stream.identity"}
EDGES = ["three.data->hold.data", "hold.data->m.data", "late.data->m.data"]


def recorded(workspace: Path, options: RunOptions | None = None) -> RunStore:
    """The flow, run and kept."""
    MADE.clear()
    ARRIVED.clear()
    run = make_run(NODES, EDGES, SPECS, options)
    recorder = record_run(run, workspace)
    assert run_guarded(run, timeout=DEADLINE).status == "ok"
    [store] = [r for r in list_runs(workspace) if r.id == recorder.run_id]
    return store


def taken(store: RunStore) -> list[Any]:
    """What ``m`` passed on, in order: the order it took its messages in."""
    return [store.value(m.id) for m in store.messages("m.data")]


def test_a_recorded_merge_keeps_the_order_it_took_its_messages_in(tmp_path: Path) -> None:
    store = recorded(tmp_path)
    runs = store.manifest()["nodes"]["m"]["taken"]
    names = {"hold.data": ["s1", "s2", "s3"], "late.data": ["c"]}
    assert [v for origin, first, count in runs
            for v in names[origin][first:first + count]] == taken(store)
    assert sorted(taken(store)) == ["c", "s1", "s2", "s3"]
    assert "taken" not in store.manifest()["nodes"]["hold"]  # one edge: its order is given


def test_a_replayed_merge_takes_its_messages_in_the_recorded_order(tmp_path: Path) -> None:
    store = recorded(tmp_path)
    # m took late's message first, though hold's first message has the lower id
    result, recorder = replay(store, "m", tmp_path, registry=REGISTRY)
    assert result.status == "ok"
    assert taken(recorder.store) == taken(store)
    [edge] = [e for e in diff_runs(store, recorder.store)["edges"] if e["edge"] == "m.data"]
    assert edge["values"] == "identical" and not edge["changed"], edge["reasons"]


def test_the_schedule_names_the_recorded_order_and_falls_back_to_ids_without_it(
        tmp_path: Path) -> None:
    store = recorded(tmp_path)
    plan = plan_replay(store, "m", tmp_path, registry=REGISTRY)
    assert plan.sub_flow is not None
    stand_ins = {o: f"replay_{o.replace('.', '_')}.data" for o in plan.inputs}
    checked = runtime.plan(plan.sub_flow, registry=plan.registry)

    def order() -> list[tuple[str, int]]:
        schedule = recorded_schedule(RunStore(store.folder), checked, stand_ins)
        assert schedule is not None
        return [(origin, k) for origin, first, count in schedule.nodes["m"].order
                for k in range(first, first + count)]

    names = {stand_ins["hold.data"]: ["s1", "s2", "s3"], stand_ins["late.data"]: ["c"]}
    assert [names[origin][k] for origin, k in order()] == taken(store)
    # a run kept before the order was noted: the order the messages were made in
    manifest = json.loads((store.folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["nodes"]["m"]["taken"]
    (store.folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    made = sorted((m.id, stand_ins[origin], m.position) for origin in ("hold.data", "late.data")
                  for m in store.messages(origin))
    assert order() == [(origin, k) for _id, origin, k in made]


def test_a_run_that_is_not_kept_notes_no_order() -> None:
    MADE.clear()
    ARRIVED.clear()
    result = run_guarded(make_run(NODES, EDGES, SPECS), timeout=DEADLINE)
    assert result.status == "ok" and result.nodes["m"].taken is None
