"""The diff compares a scorer's ``model_message`` column by the message it names, not its id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import runtime
from runtime import CONTEXT_TAG, call_context, component, latest, record_run
from runtime.runs import RunStore, diff_runs, list_runs, replay
from runtime.testing import memory_source
from tests.flowkit import make_run, run_guarded


@component("dn.answer", inputs={"data": "Any", "model": latest()},
           outputs={"data": "DataFrame"}, tags=[CONTEXT_TAG])
def answer(data: Any, model: Any) -> Any:
    """A row per message, naming the id of the model message it was answered with."""
    context = call_context()
    assert context is not None
    return pd.DataFrame({"x": [data], "model": [model],
                         "model_message": [context.inputs["model"]]})


SPECS = [answer, memory_source("dn.rows", [1, 2, 3]), memory_source("dn.one", ["m"]),
         memory_source("dn.two", ["m", "m"])]
REGISTRY = runtime.default_registry().with_components(*SPECS)


def recorded(workspace: Path, models: str) -> RunStore:
    run = make_run({"rows": "dn.rows", "model": models, "s": "dn.answer"},
                   ["rows.data->s.data", "model.data->s.model"], SPECS)
    recorder = record_run(run, workspace)
    assert run_guarded(run).status == "ok"
    [store] = [r for r in list_runs(workspace) if r.id == recorder.run_id]
    return store


def answered(store: RunStore) -> pd.DataFrame:
    return pd.concat([store.value(m.id) for m in store.messages("s.data")])


def edge(report: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [e for e in report["edges"] if e["edge"] == name]
    return found


def test_the_same_model_message_under_another_id_is_no_change(tmp_path: Path) -> None:
    store = recorded(tmp_path, "dn.one")
    _result, recorder = replay(store, "s", tmp_path, registry=REGISTRY)
    again = recorder.store
    [model] = store.messages("model.data")
    [stand_in] = again.messages("replay_model_data.data")
    assert set(answered(store)["model_message"]) == {model.id}
    assert set(answered(again)["model_message"]) == {stand_in.id}
    shown = edge(diff_runs(store, again), "s.data")
    assert shown["values"] == "identical" and not shown["changed"], shown["reasons"]


def test_a_row_answered_by_another_model_message_is_a_change(tmp_path: Path) -> None:
    once = recorded(tmp_path, "dn.one")
    twice = recorded(tmp_path, "dn.two")  # the rows fire with the second of two models
    [_first, second] = twice.messages("model.data")
    assert set(answered(twice)["model_message"]) == {second.id}
    shown = edge(diff_runs(once, twice), "s.data")
    assert shown["changed"]
    assert any("'model_message' differs on 3 of 3 rows" in r for r in shown["reasons"])
