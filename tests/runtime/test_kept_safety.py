"""A kept run may come from someone else: its models load only if they hold known data types.

A tampered model file names ``builtins.eval`` (or another code-running callable) and must be
refused by every reader, with a message, before anything in it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tampering import tamper

from runtime import Run, plan
from runtime._record import RunStore, record_run
from runtime._record.safeload import UnsafeModelError, dump_model, load_model, refused_types
from runtime._registry import component, default_registry

ESTIMATORS = ["sklearn.linear_model.LogisticRegression", "sklearn.linear_model.Ridge",
              "sklearn.ensemble.RandomForestClassifier",
              "sklearn.ensemble.GradientBoostingClassifier",
              "sklearn.ensemble.HistGradientBoostingClassifier",
              "sklearn.neighbors.KNeighborsClassifier", "sklearn.svm.SVC",
              "sklearn.tree.DecisionTreeClassifier"]
CODE_RUNNERS = ["builtins.eval", "builtins.exec", "builtins.getattr", "builtins.__import__",
                "builtins.compile", "builtins.open", "os.system", "subprocess.Popen",
                "numpy.load", "numpy.memmap", "numpy.lib.npyio.NpzFile", "pickle.loads",
                "sklearn.utils.all_estimators", "scipy.io.loadmat", "builtins.object"]


@component("testing.scaled_model", inputs={"data": "DataFrame"}, outputs={"model": "Model"})
def scaled_model(data: pd.DataFrame) -> Any:
    """Fit a Pipeline of StandardScaler and LogisticRegression on the iris columns."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = [c for c in data.columns if c != "target"]
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
        data[features], data["target"])


def model_flow(estimators: list[str]) -> dict[str, Any]:
    """iris -> one ml.fit per estimator, and a scaled pipeline; every model kept."""
    nodes: list[dict[str, Any]] = [{"id": "load", "component": "dataset.load",
                                    "params": {"name": "iris"}},
                                   {"id": "pipe", "component": "testing.scaled_model"}]
    edges = [{"source": "load.data", "target": "pipe.data"}]
    for i, name in enumerate(estimators):
        options = {"max_iter": 1000} if name.endswith("LogisticRegression") else {}
        nodes.append({"id": f"fit{i}", "component": "ml.fit",
                      "params": {"estimator": name, "target": "target", "options": options}})
        edges.append({"source": "load.data", "target": f"fit{i}.data"})
    return {"edgewise": 1, "name": "models", "nodes": nodes, "edges": edges}


def record(flow: dict[str, Any], workspace: Path) -> RunStore:
    registry = default_registry().with_components(scaled_model)
    run = Run(plan(flow, registry=registry, base_dir=workspace))
    recorder = record_run(run, workspace)
    result = run.run()
    assert result.status == "ok", result.to_json()
    return recorder.store


def edgewise(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", *map(str, args)], cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return record(model_flow(ESTIMATORS), tmp_path_factory.mktemp("models"))


@pytest.mark.parametrize("index", range(len(ESTIMATORS)))
def test_models_the_components_make_load_back_from_a_kept_run(kept: RunStore,
                                                               index: int) -> None:
    from sklearn.datasets import load_iris

    [message] = kept.messages(f"fit{index}.model")
    model = kept.value(message.id)
    frame = load_iris(as_frame=True).frame
    again = type(model)().fit(frame.drop(columns="target"), frame["target"])

    assert f"{type(model).__module__}.{type(model).__name__}".startswith("sklearn.")
    assert type(model).__name__ == ESTIMATORS[index].rsplit(".", 1)[1]
    np.testing.assert_array_equal(model.predict(frame.drop(columns="target")),
                                  again.predict(frame.drop(columns="target")))


def test_a_pipeline_with_a_scaler_loads_back_from_a_kept_run(kept: RunStore) -> None:
    [message] = kept.messages("pipe.model")

    model = kept.value(message.id)

    assert [type(step).__name__ for _, step in model.steps] == ["StandardScaler",
                                                                 "LogisticRegression"]


@pytest.mark.parametrize("name", CODE_RUNNERS)
def test_no_code_running_callable_is_trusted(name: str) -> None:
    assert refused_types([name, "builtins.dict", "sklearn.tree._tree.Tree"]) == [name]


def test_dump_model_gives_loadable_bytes_and_nothing_refused(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    data, refused = dump_model(fitted)
    path = tmp_path / "model.skops"
    path.write_bytes(data)

    assert refused == []
    np.testing.assert_array_equal(load_model(path, "the model").predict([[0.5], [2.5]]),
                                  fitted.predict([[0.5], [2.5]]))


def test_dump_model_names_the_types_load_model_would_refuse() -> None:
    import functools

    data, refused = dump_model({"f": functools.partial(int, "7")})

    assert isinstance(data, bytes) and data
    assert refused == ["functools.partial"]


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, Path]:
    """A kept iris run whose LogisticRegression would call builtins.eval on load."""
    workspace = tmp_path_factory.mktemp("tampered")
    store = record(model_flow(["sklearn.linear_model.LogisticRegression"]), workspace)
    [message] = store.messages("fit0.model")
    marker = workspace / "marker.txt"
    tamper(store.values_dir / f"{message.id}.skops", marker)
    return store, marker


def test_a_tampered_model_is_refused_by_the_store(tampered: tuple[RunStore, Path]) -> None:
    store, marker = tampered
    [message] = store.messages("fit0.model")

    with pytest.raises(UnsafeModelError, match=r"names builtins\.eval.*runs code") as caught:
        store.value(message.id)

    assert f"model of message {message.id}" in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize(("module", "name"), [("builtins", "exec"), ("os", "system"),
                                              ("numpy", "load"), ("builtins", "getattr")])
def test_other_code_running_callables_are_refused_too(tmp_path: Path, kept: RunStore,
                                                      module: str, name: str) -> None:
    [message] = kept.messages("fit0.model")
    copy = tmp_path / "model.skops"
    copy.write_bytes((kept.values_dir / f"{message.id}.skops").read_bytes())
    tamper(copy, tmp_path / "marker.txt", module, name)
    from runtime._record.safeload import load_model

    with pytest.raises(UnsafeModelError, match=f"names {module}.{name}"):
        load_model(copy, "the model")
    assert not (tmp_path / "marker.txt").exists()


def test_a_damaged_model_file_is_refused_with_a_message(tmp_path: Path) -> None:
    from runtime._record.safeload import load_model

    broken = tmp_path / "model.skops"
    broken.write_bytes(b"not a zip file")

    with pytest.raises(UnsafeModelError, match="cannot be read as a skops file"):
        load_model(broken, "the model")


def test_inspect_refuses_a_tampered_model_and_runs_nothing(
        tampered: tuple[RunStore, Path]) -> None:
    store, marker = tampered

    result = edgewise("inspect", store.folder, "fit0.model", "--message", "0",
                      cwd=store.folder)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "builtins.eval" in result.stderr and "not loaded" in result.stderr
    assert not marker.exists()


def test_diff_refuses_a_tampered_model_and_runs_nothing(
        tampered: tuple[RunStore, Path]) -> None:
    store, marker = tampered

    result = edgewise("diff", store.folder, store.folder, cwd=store.folder)

    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert "builtins.eval" in result.stdout + result.stderr
    assert "not loaded" in result.stdout + result.stderr
    assert not marker.exists()


def test_replay_refuses_a_tampered_model_before_running_anything(
        tampered: tuple[RunStore, Path]) -> None:
    store, marker = tampered
    flow = store.flow()
    flow["nodes"].append({"id": "use", "component": "stream.identity"})
    flow["edges"].append({"source": "fit0.model", "target": "use.data"})
    (store.folder / "edited.json").write_text(json.dumps(flow), encoding="utf-8")
    runs = store.folder.parent

    result = edgewise("replay", store.folder, "--from", "use", "--flow",
                      store.folder / "edited.json", cwd=store.folder)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "builtins.eval" in result.stderr and "not loaded" in result.stderr
    assert [p.name for p in runs.iterdir()] == [store.id]
    assert not marker.exists()


def test_the_tampered_kept_model_really_runs_its_payload_if_trusted_blindly(
        tampered: tuple[RunStore, Path], tmp_path: Path) -> None:
    # What the allow-list guards against: the same file, loaded trusting what it lists.
    import shutil

    import skops.io

    store, marker = tampered
    [message] = store.messages("fit0.model")
    copy = tmp_path / "copy.skops"
    shutil.copy(store.values_dir / f"{message.id}.skops", copy)
    blind_marker = tmp_path / "blind.txt"
    tamper(copy, blind_marker)  # a second payload, writing a marker of this test's own
    skops.io.load(copy, trusted=skops.io.get_untrusted_types(file=copy))
    assert blind_marker.read_text() == "ran"
    assert not marker.exists()


def test_two_threads_asking_for_the_allow_list_at_once_both_get_it() -> None:
    # Two nodes registering (or saving) models at the same moment: scikit-learn lists its
    # estimators by importing its modules, which two threads at once could break.
    from runtime._record import safeload

    safeload._trusted_types.cache_clear()
    answers: list[frozenset[str]] = []
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            answers.append(safeload.trusted_types())
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(answers) == 4 and len(set(answers)) == 1
    assert "sklearn.linear_model._logistic.LogisticRegression" in answers[0]
