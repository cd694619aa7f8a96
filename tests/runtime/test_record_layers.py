"""Recording is an observer on the hooks: api knows nothing of it, and it knows nothing of api."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression

from runtime import Run, plan
from runtime._engine import RunOptions
from runtime._hooks import Hooks
from runtime._local import LocalEngine
from runtime._previews import is_model, preview
from runtime._record import Recorder, RunStore, record_run
from runtime._record.diff import diff_runs
from runtime._record.replay import replay
from runtime._registry import default_registry
from runtime.testing import memory_source

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
ABOVE_RECORD = ("runtime._api", "runtime.cli", "runtime._calling", "runtime.testing", "editor",
                "components")


def imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_api_does_not_import_record() -> None:
    assert not [m for m in imported(RUNTIME / "_api.py") if m.startswith("runtime._record")]


def test_no_record_module_imports_a_layer_above_the_engine() -> None:
    paths = sorted((RUNTIME / "_record").glob("*.py"))
    assert len(paths) > 5
    for path in paths:
        upward = [m for m in imported(path)
                  if m == "runtime" or m.startswith(ABOVE_RECORD)]
        assert upward == [], path.name


def numbers_flow(values: list[Any]) -> tuple[dict[str, Any], Any]:
    source = memory_source("testing.numbers", values, "Any")
    flow = {"edgewise": 1, "name": "t",
            "nodes": [{"id": "s", "component": "testing.numbers"},
                      {"id": "twice", "component": "stream.identity"}],
            "edges": [{"source": "s.data", "target": "twice.data"}]}
    return flow, default_registry().with_components(source)


def test_the_engines_run_ended_hook_finishes_a_recording(tmp_path: Path) -> None:
    flow, registry = numbers_flow([1, 2, 3])
    checked = plan(flow, registry=registry, base_dir=tmp_path)
    hooks = Hooks()
    recorder = Recorder(checked, tmp_path)
    recorder.attach(hooks)

    result = asyncio.run(LocalEngine().execute(checked, hooks, RunOptions(), asyncio.Event()))

    manifest = recorder.store.manifest()
    assert result.status == "ok"
    assert manifest["status"] == "ok"
    assert manifest["recording"]["messages_indexed"] == 6
    assert [recorder.store.value(m.id) for m in recorder.store.messages("twice.data")] == [1, 2, 3]
    assert hooks.errors == []


def test_record_run_keeps_a_run_and_reports_its_folder(tmp_path: Path) -> None:
    flow, registry = numbers_flow(["a", "b"])
    run = Run(plan(flow, registry=registry, base_dir=tmp_path))

    recorder = record_run(run, tmp_path, links={"started_by": "test"})
    run.run()

    store = RunStore(recorder.folder)
    assert store.manifest()["started_by"] == "test"
    assert store.status() == "ok"
    assert [store.value(m.id) for m in store.messages("s.data")] == ["a", "b"]
    assert recorder.failure is None


def test_replay_runs_from_inside_a_running_event_loop(tmp_path: Path) -> None:
    frames = [pd.DataFrame({"a": [1, 2]}, index=[10, 11]), pd.DataFrame({"a": [3]}, index=[12])]
    source = memory_source("testing.frames", frames, "DataFrame")
    flow = {"edgewise": 1, "name": "t",
            "nodes": [{"id": "s", "component": "testing.frames"},
                      {"id": "q", "component": "frame.query", "params": {"expr": "a > 1"}}],
            "edges": [{"source": "s.data", "target": "q.data"}]}
    registry = default_registry().with_components(source)
    run = Run(plan(flow, registry=registry, base_dir=tmp_path))
    original = record_run(run, tmp_path).store
    run.run()

    async def in_a_notebook() -> Any:
        return replay(original, "q", tmp_path, registry=registry)

    result, recorder = asyncio.run(in_a_notebook())

    assert result.status == "ok"
    kept = [recorder.store.value(m.id) for m in recorder.store.messages("q.data")]
    pd.testing.assert_frame_equal(kept[0], frames[0].query("a > 1"))
    pd.testing.assert_frame_equal(kept[1], frames[1])
    assert diff_runs(original, recorder.store)["first_changed"] == []


class ParamsOnly:
    """Has params like an estimator but cannot be fitted: not a model."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"deep": deep}


def test_what_is_a_model_is_decided_once(tmp_path: Path) -> None:
    model = LogisticRegression(C=0.5).fit([[0.0], [1.0]], [0, 1])
    flow, registry = numbers_flow([model, ParamsOnly(), LogisticRegression])
    run = Run(plan(flow, registry=registry, base_dir=tmp_path))
    store = record_run(run, tmp_path).store
    run.run()

    first, second, third = store.messages("s.data")
    assert [is_model(v) for v in (model, ParamsOnly(), LogisticRegression)] == \
        [True, False, False]
    assert (first.kept, first.preview and first.preview["kind"]) == ("model", "model")
    assert preview(ParamsOnly())["kind"] != "model"
    assert second.kept is None
    assert third.kept is None
    reasons = store.manifest()["recording"]["ports"]["s.data"]["why_not_kept"]
    assert reasons == {"not storable (ParamsOnly)": 1, "not storable (type)": 1}


def test_every_name_a_run_store_reader_needs_is_importable_from_record() -> None:
    import runtime._record

    namespace: dict[str, Any] = {}
    exec("from runtime._record import *", namespace)  # noqa: S102 - the import under test

    assert len(runtime._record.__all__) == len(set(runtime._record.__all__))
    for name in runtime._record.__all__:
        value = namespace[name]
        if callable(value):  # a constant (PSI_BINS) has no module of its own
            assert value.__module__.startswith("runtime._record."), name
    assert {"RunStore", "list_runs", "Lineage", "diff_runs", "run_edges", "scorer",
            "plan_replay", "run_replay", "record_run"} <= set(runtime._record.__all__)
