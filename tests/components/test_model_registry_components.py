"""The registry half of the ``model`` family: model.register and model.get, in real flows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import components.model_registry
import runtime
from components._model_label import model_label, registry_tag
from runtime import Batch, Run, component, record_run
from runtime.models import ModelRegistry, registry_root
from runtime.runs import Lineage, RunStore, replay
from runtime.testing import memory_source, run_component
from tests.flowkit import node, run_guarded, write_flow

# The family's entry point is read from the installed distribution; until it is reinstalled
# with this module's entry point, add the module to this process's registry (a no-op after).
runtime.default_registry().add_module(components.model_registry)

FAMILY_MODULE = "components.model_registry"
CONTRACT: dict[str, dict[str, Any]] = {
    "model.register": {
        "inputs": {"model": ("Model", "stream"), "metrics": ("Any", "latest")},
        "outputs": {"event": "DataFrame", "model": "Model"},
        "required": {"name"},
        "defaults": {"alias": None, "registry": ".edgewise/models", "why": ""},
    },
    "model.get": {
        "inputs": {},
        "outputs": {"model": "Model"},
        "required": {"name"},
        "defaults": {"alias": "champion", "registry": ".edgewise/models", "follow": True,
                     "poll_seconds": 0.5},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)

DEADLINE = 20.0


@pytest.fixture(scope="module")
def iris_x() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame.drop(columns="target")


def collect(run: Run) -> dict[str, list[tuple[int, Any]]]:
    """Every message the run emits, as ``(id, value)`` per output port."""
    seen: dict[str, list[tuple[int, Any]]] = {}

    def produced(port: str, batch: Batch) -> None:
        seen.setdefault(port, []).extend((e.id, e.value) for e in batch)

    run.hooks.add("produced", produced)
    return seen


TRAIN_NODES = [
    node("load", "dataset.load", name="iris"),
    node("split", "ml.split", target="target", test_size=0.25, stratify=True),
    node("fit", "ml.fit", estimator="sklearn.linear_model.LogisticRegression",
         options={"max_iter": 500}, target="target"),
    node("predict", "ml.predict"),
    node("score", "ml.score", target="target"),
    node("reg", "model.register", name="iris", alias="champion", why="first model"),
    node("out", "debug"),
]
TRAIN_EDGES = ["load.data->split.data", "split.train->fit.data", "fit.model->predict.model",
               "split.test->predict.data", "predict.data->score.data",
               "fit.model->reg.model", "score.metrics->reg.metrics", "reg.event->out.data"]


def train(workspace: Path) -> tuple[Any, dict[str, list[tuple[int, Any]]]]:
    """Run the training flow in ``workspace``, kept; returns the recorder and the messages."""
    path = write_flow(workspace, TRAIN_NODES, TRAIN_EDGES, name="train.json")
    run = Run(runtime.plan(path))
    seen = collect(run)
    recorder = record_run(run, workspace, links={"flow_file": str(path)})
    assert run_guarded(run).status == "ok"
    return recorder, seen


def test_a_registered_model_keeps_its_metrics_source_and_alias(tmp_path: Path) -> None:
    recorder, seen = train(tmp_path)
    registry = ModelRegistry(registry_root(tmp_path))
    (fit_id, fitted), = seen["fit.model"]
    (_, metrics), = seen["score.metrics"]
    version = registry.version("iris", 1)
    assert version.metrics == metrics
    assert version.source == {"run": recorder.run_id, "message": fit_id, "node": "fit",
                              "port": "model", "registered_by": "reg",
                              "flow": str(tmp_path / "train.json")}
    assert version.features == list(fitted.feature_names_in_)
    assert registry.aliases("iris") == {"champion": 1}
    move, = registry.log("iris")
    assert (move.by, move.why) == (f"node:reg run {recorder.run_id}", "first model")
    (_, event), = seen["reg.event"]
    expected = pd.DataFrame([{"name": "iris", "version": 1, "alias": "champion", **{
        k: v for k, v in metrics.items() if k != "name"}}], index=[1])
    pd.testing.assert_frame_equal(event, expected)
    assert registry_tag(fitted) is None  # the upstream model was not changed


def test_the_emitted_model_is_the_same_estimator_named_by_its_version(tmp_path: Path) -> None:
    _, seen = train(tmp_path)
    (_, fitted), = seen["fit.model"]
    (message, emitted), = seen["reg.model"]
    assert model_label(emitted, message) == "iris:1"
    assert emitted.get_params() == fitted.get_params()
    np.testing.assert_array_equal(emitted.coef_, fitted.coef_)


def test_trained_on_the_registered_source_finds_the_training_rows(tmp_path: Path) -> None:
    _, seen = train(tmp_path)
    source = ModelRegistry(registry_root(tmp_path)).version("iris", 1).source
    assert source is not None
    store = RunStore(tmp_path / ".edgewise" / "runs" / source["run"])
    assert store.message(source["message"]).origin == f"{source['node']}.{source['port']}"
    _facts, rows = Lineage(store).trained_on(source["message"])
    (_, train_rows), = seen["split.train"]
    pd.testing.assert_frame_equal(rows[train_rows.columns], train_rows)


def score_flow(workspace: Path, rows: list[pd.DataFrame], *, follow: bool,
               registry: str = "") -> Path:
    params: dict[str, Any] = {"name": "iris", "follow": follow, "poll_seconds": 0.05}
    if registry:
        params["registry"] = registry
    return write_flow(workspace, [node("get", "model.get", **params),
                                  node("rows", "t.rows"), node("predict", "ml.predict"),
                                  node("out", "debug")],
                      ["get.model->predict.model", "rows.data->predict.data",
                       "predict.data->out.data"], name="score.json")


def test_model_get_in_another_flow_predicts_exactly_what_the_original_does(
        tmp_path: Path, iris_x: pd.DataFrame) -> None:
    _, seen = train(tmp_path / "train")
    (_, fitted), = seen["fit.model"]
    path = score_flow(tmp_path / "score", [iris_x], follow=False,
                      registry="../train/.edgewise/models")
    registry = runtime.default_registry().with_components(memory_source("t.rows", [iris_x]))
    result = runtime.run_flow(path, registry=registry,
                              capture=["predict.data", "get.model", "get.error"])
    assert result.status == "ok"
    (model,) = result.values("get.model")
    assert registry_tag(model) == ("iris", 1)
    (predicted,) = result.values("predict.data")
    pd.testing.assert_frame_equal(predicted, iris_x.assign(prediction=fitted.predict(iris_x)))


def test_model_get_without_follow_reports_an_alias_that_points_nowhere(tmp_path: Path,
                                                                        iris_x: Any) -> None:
    ModelRegistry(registry_root(tmp_path)).register(
        LogisticRegression(max_iter=300).fit(iris_x, np.arange(150) % 3), "iris")
    path = score_flow(tmp_path, [iris_x], follow=False)
    registry = runtime.default_registry().with_components(memory_source("t.rows", [iris_x]))
    result = runtime.run_flow(path, registry=registry, capture=["get.error", "get.model"])
    assert result.values("get.model") == []
    (error,) = result.values("get.error")
    assert "alias 'champion' of model 'iris' points to no version yet" in error.message


def test_model_get_without_follow_reports_an_unknown_model(tmp_path: Path, iris_x: Any) -> None:
    path = score_flow(tmp_path, [iris_x], follow=False)
    registry = runtime.default_registry().with_components(memory_source("t.rows", [iris_x]))
    result = runtime.run_flow(path, registry=registry, capture=["get.error"])
    (error,) = result.values("get.error")
    assert "no model 'iris'" in error.message


class Gate:
    """A source of data frames that emits the next one only when the test opens the gate."""

    def __init__(self, frames: list[pd.DataFrame]) -> None:
        self.frames = frames
        self.opened = threading.Semaphore(0)

        @component("t.gated", outputs={"data": "DataFrame"}, threaded=True)
        def gated() -> Iterator[pd.DataFrame | None]:
            """Emit each frame once the gate lets it through."""
            for frame in self.frames:
                while not self.opened.acquire(timeout=0.02):
                    yield None
                yield frame

        self.spec = gated


def wait_for(what: str, check: Any) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"waited {DEADLINE} s for {what}")


def test_an_alias_moved_while_the_flow_runs_switches_the_scorer_to_the_new_version(
        tmp_path: Path, iris_x: pd.DataFrame) -> None:
    y = load_iris().target
    first = LogisticRegression(max_iter=500).fit(iris_x, y)
    second = LogisticRegression(max_iter=500).fit(iris_x, 2 - y)  # predicts other labels
    registry = ModelRegistry(registry_root(tmp_path))
    registry.register(first, "iris")
    registry.register(second, "iris")
    registry.set_alias("iris", "champion", 1, by="test", why="start")
    gate = Gate([iris_x.iloc[:50], iris_x.iloc[50:100], iris_x.iloc[100:]])
    path = write_flow(tmp_path, [node("get", "model.get", name="iris", poll_seconds=0.05),
                                 node("rows", "t.gated"), node("predict", "ml.predict"),
                                 node("out", "debug")],
                      ["get.model->predict.model", "rows.data->predict.data",
                       "predict.data->out.data"], name="follow.json")
    run = Run(runtime.plan(path, registry=runtime.default_registry().with_components(
        gate.spec)))
    seen = collect(run)
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=run.run()), daemon=True)
    thread.start()
    try:
        wait_for("the first model", lambda: seen.get("get.model"))
        gate.opened.release()
        wait_for("the first predictions", lambda: seen.get("predict.data"))
        registry.set_alias("iris", "champion", 2, by="test", why="promote")
        wait_for("the second model", lambda: len(seen.get("get.model", [])) == 2)
        gate.opened.release()
        wait_for("the second predictions", lambda: len(seen.get("predict.data", [])) == 2)
        registry.set_alias("iris", "champion", 2, by="test", why="same version again")
        registry.set_alias("iris", "other", 1, by="test", why="another alias")
        registry.set_alias("iris", "champion", 1, by="test", why="roll back")
        wait_for("the third model", lambda: len(seen.get("get.model", [])) >= 3)
        gate.opened.release()
        # the rows end, so does the scorer, and model.get, which feeds nothing else, with it
        thread.join(DEADLINE)
    finally:
        run.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert box["result"].status == "ok"
    # moves that leave the champion where it is emit nothing
    assert [registry_tag(m) for _, m in seen["get.model"]] == [("iris", 1), ("iris", 2),
                                                               ("iris", 1)]
    (_, before), (_, after), (_, back) = seen["predict.data"]
    pd.testing.assert_frame_equal(
        before, iris_x.iloc[:50].assign(prediction=first.predict(iris_x.iloc[:50])))
    pd.testing.assert_frame_equal(
        after, iris_x.iloc[50:100].assign(prediction=second.predict(iris_x.iloc[50:100])))
    pd.testing.assert_frame_equal(
        back, iris_x.iloc[100:].assign(prediction=first.predict(iris_x.iloc[100:])))


def test_model_get_following_waits_for_a_model_not_registered_yet(
        tmp_path: Path, iris_x: pd.DataFrame) -> None:
    path = write_flow(tmp_path, [node("get", "model.get", name="iris", poll_seconds=0.05),
                                 node("out", "debug")], ["get.model->out.data"])
    run = Run(runtime.plan(path))
    seen = collect(run)
    thread = threading.Thread(target=run.run, daemon=True)
    thread.start()
    try:
        registry = ModelRegistry(registry_root(tmp_path))
        model = LogisticRegression(max_iter=300).fit(iris_x, load_iris().target)
        registry.register(model, "iris")
        registry.set_alias("iris", "champion", 1, by="test", why="late")
        wait_for("the model", lambda: seen.get("get.model"))
    finally:
        run.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert run.result is not None and run.result.nodes["get"].errors == 0


@pytest.mark.parametrize(("component_id", "params", "wanted"), [
    ("model.register", {"name": "../x"}, "cannot name a model"),
    ("model.register", {"name": "iris", "alias": "3"}, "cannot be an alias"),
    ("model.get", {"name": "a/b"}, "cannot name a model"),
    ("model.get", {"name": "iris", "alias": "../champion"}, "cannot be an alias"),
    ("model.get", {"name": "iris", "poll_seconds": 0}, "greater than 0"),
])
def test_bad_names_are_found_by_validation(component_id: str, params: dict[str, Any],
                                           wanted: str) -> None:
    problems = param_problems(component_id, params)
    assert any(wanted in p.message for p in problems), problems


def test_a_registry_that_is_a_file_is_found_by_validation(tmp_path: Path) -> None:
    (tmp_path / "reg").write_text("x", "utf-8")
    path = write_flow(tmp_path, [node("get", "model.get", name="iris", registry="reg")])
    problems = [p for p in runtime.validate(path) if p.param]
    assert any("is not a folder" in p.message for p in problems), problems


def test_the_default_registry_is_the_flow_files_workspace(tmp_path: Path) -> None:
    path = write_flow(tmp_path / "w", [node("get", "model.get", name="iris")])
    planned = runtime.plan(path)
    params = planned.nodes["get"].params
    assert Path(params.registry) == registry_root((tmp_path / "w").resolve())


def test_closing_model_get_ends_it_at_once_and_leaves_no_thread(tmp_path: Path,
                                                                 iris_x: Any) -> None:
    registry = ModelRegistry(registry_root(tmp_path))
    registry.register(LogisticRegression(max_iter=300).fit(iris_x, load_iris().target), "iris")
    registry.set_alias("iris", "champion", 1, by="test", why="")
    threads = threading.active_count()
    params = components.model_registry.GetParams.model_validate(
        {"name": "iris", "poll_seconds": 0.05}, context={"base_dir": tmp_path})
    source = components.model_registry.get.target(params=params)
    model = wait_for("the model", lambda: next(m for m in source if m is not None))
    assert registry_tag(model) == ("iris", 1)
    assert next(source) is None  # following: it waits, handing control back
    source.close()  # what the engine does to a source whose consumers have all ended
    with pytest.raises(StopIteration):
        next(source)
    assert threading.active_count() == threads


def test_a_replay_registers_inside_its_own_run_folder_not_in_the_workspace(
        tmp_path: Path) -> None:
    recorder, _ = train(tmp_path)
    result, replayed = replay(recorder.store, "reg", tmp_path)
    assert result.status == "ok"
    assert [v.version for v in ModelRegistry(registry_root(tmp_path)).versions("iris")] == [1]
    inside = ModelRegistry(replayed.folder / "outputs" / "reg" / "models")
    assert [v.version for v in inside.versions("iris")] == [1]
    assert inside.version("iris", 1).source["run"] == replayed.run_id


def test_registering_a_model_from_model_get_keeps_no_old_version_tag(
        tmp_path: Path, iris_x: Any) -> None:
    from components._model_label import tag_model

    model = LogisticRegression(max_iter=300).fit(iris_x, load_iris().target)
    tagged = tag_model(model, "old", 7)
    out = run_component("model.register", {"model": [tagged]},
                        {"name": "iris", "registry": str(tmp_path)})
    assert out.errors == []
    (emitted,) = out["model"]
    assert registry_tag(emitted) == ("iris", 1) and registry_tag(tagged) == ("old", 7)
    assert registry_tag(ModelRegistry(tmp_path).load("iris", 1)) is None
    source = ModelRegistry(tmp_path).version("iris", 1).source
    assert source is not None and source["run"] is None  # the run was not kept
    assert isinstance(source["message"], int) and source["registered_by"]
