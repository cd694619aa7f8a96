"""A component tagged ``call-context`` learns the run and message ids of each call's inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import runtime
from runtime import CONTEXT_TAG, Batch, MadeFrom, call_context, component, latest, record_run
from runtime.testing import memory_source
from tests.flowkit import make_run, run_guarded

SEEN: list[runtime.CallContext | None] = []


@component("cc.where", inputs={"data": "Any", "model": latest()}, outputs={"data": "Any"},
           tags=[CONTEXT_TAG])
def where(data: Any, model: Any)->Any:
    """Note the context of each call."""
    SEEN.append(call_context())
    return (data, model)


@component("cc.plain", inputs={"data": "Any"}, outputs={"data": "Any"})
def plain_node(data: Any)->Any:
    """A component without the tag: it gets no context."""
    SEEN.append(call_context())
    return data


@component("cc.tagged", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True,
           tags=[CONTEXT_TAG])
def tagged(data: Any)->Any:
    """One stream input, threaded: the context is set in the worker thread."""
    SEEN.append(call_context())
    return data


SPECS = [where, plain_node, tagged, memory_source("cc.rows", [10, 20, 30]),
         memory_source("cc.model", ["m"])]


def emitted_ids(run: runtime.Run)->dict[str, list[int]]:
    ids: dict[str, list[int]] = {}

    def emitted(edge: str, batch: Batch)->None:
        ids.setdefault(batch.origin, []).extend(batch.ids)

    run.hooks.add("emitted", emitted)
    return ids


def test_each_call_names_the_messages_it_was_made_of()->None:
    SEEN.clear()
    run = make_run({"rows": "cc.rows", "model": "cc.model", "w": "cc.where"},
                   ["rows.data->w.data", "model.data->w.model"], SPECS)
    ids = emitted_ids(run)
    assert run_guarded(run).status == "ok"
    model_id = ids["model.data"][0]
    assert [c.inputs if c else None for c in SEEN] == [
        {"data": i, "model": model_id} for i in ids["rows.data"]]
    assert {(c.node, c.run_id) for c in SEEN if c} == {("w", None)}
    assert call_context() is None  # only inside a call


def test_a_kept_run_gives_its_id_and_untagged_components_get_nothing(tmp_path: Path)->None:
    SEEN.clear()
    run = make_run({"rows": "cc.rows", "t": "cc.tagged", "p": "cc.plain"},
                   ["rows.data->t.data", "t.data->p.data"], SPECS)
    ids = emitted_ids(run)
    recorder = record_run(run, tmp_path)
    assert run_guarded(run).status == "ok"
    tagged_seen, plain_seen = SEEN[:3], SEEN[3:]
    assert [c.inputs if c else None for c in tagged_seen] == [
        {"data": i} for i in ids["rows.data"]]
    assert {c.run_id for c in tagged_seen if c} == {recorder.run_id}
    assert plain_seen == [None, None, None]


@component("cc.window", inputs={"data": "Any"}, outputs={"data": "Any"}, tags=[CONTEXT_TAG])
class Window:
    """Sum every two messages; the sum is made from both."""

    def __init__(self) -> None:
        self.held: list[tuple[int, Any]] = []

    def __call__(self, data: Any) -> Any:
        where = call_context()
        assert where is not None
        self.held.append((where.inputs["data"], data))
        if len(self.held) < 2:
            return None
        (first, a), (second, b) = self.held
        self.held = []
        return MadeFrom(a + b, (first, second))


def test_a_value_made_from_several_messages_has_them_all_as_parents() -> None:
    run = make_run({"rows": "cc.rows", "w": "cc.window"}, ["rows.data->w.data"],
                   [*SPECS, Window])
    made: list[tuple[Any, Any]] = []
    run.hooks.add("produced", lambda origin, batch: made.extend(
        (batch.values[i], batch.parents[i]) for i in range(len(batch)))
        if origin == "w.data" else None)
    ids = emitted_ids(run)
    assert run_guarded(run).status == "ok"
    first, second, _third = ids["rows.data"]
    assert made == [(30, (first, second))]  # the value itself, unwrapped, and both parents
