"""The model registry store: versions, concurrent writers, atomicity, the alias log, names."""

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
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import runtime
from runtime.models import (
    AliasMove,
    DamagedModelError,
    ModelLookupError,
    ModelNameError,
    ModelRegistry,
    ModelRegistryError,
    registry_root,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="module")
def model(iris: tuple[pd.DataFrame, pd.Series]) -> LogisticRegression:
    return LogisticRegression(max_iter=500, C=0.5).fit(*iris)


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(registry_root(tmp_path))


def test_the_registry_lives_in_the_workspace_and_numbers_versions_from_one(
        tmp_path: Path, registry: ModelRegistry, model: Any) -> None:
    assert registry.root == tmp_path / ".edgewise" / "models"
    assert registry.names() == []
    first = registry.register(model, "iris", metrics={"accuracy": np.float64(0.96)})
    second = registry.register(model, "iris")
    assert (first.version, second.version) == (1, 2)
    assert registry.names() == ["iris"]
    assert [v.version for v in registry.versions("iris")] == [1, 2]
    assert sorted(os.listdir(registry.root / "iris" / "1")) == ["meta.json", "model.skops"]


def test_meta_holds_the_estimator_params_features_metrics_time_and_source(
        registry: ModelRegistry, model: Any) -> None:
    source = {"run": "r1", "message": 7, "node": "fit", "port": "model",
              "registered_by": "reg", "flow": "train.json"}
    made = registry.register(model, "iris", metrics={"accuracy": np.float64(0.96), "rows": 38},
                             source=source)
    meta = json.loads((made.folder / "meta.json").read_text("utf-8"))
    assert meta["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert meta["params"]["C"] == 0.5 and meta["params"]["max_iter"] == 500
    assert meta["features"] == list(model.feature_names_in_)
    assert meta["metrics"] == {"accuracy": 0.96, "rows": 38}
    assert meta["source"] == source
    assert meta["created"].endswith("+00:00")
    assert registry.version("iris", 1) == made


def test_a_pipeline_names_its_steps_by_class_in_json(registry: ModelRegistry,
                                                      iris: Any) -> None:
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(*iris)
    made = registry.register(pipe, "pipe")
    steps = made.params["steps"]
    assert [s[1]["estimator"] for s in steps] == [
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.linear_model._logistic.LogisticRegression"]
    json.dumps(made.to_json())


def test_a_loaded_version_predicts_exactly_what_the_original_does(
        registry: ModelRegistry, model: Any, iris: Any) -> None:
    registry.register(model, "iris")
    loaded = registry.load("iris", 1)
    assert loaded is not model
    np.testing.assert_array_equal(loaded.predict(iris[0]), model.predict(iris[0]))
    np.testing.assert_array_equal(loaded.predict_proba(iris[0]), model.predict_proba(iris[0]))


def test_a_tampered_skops_file_is_refused_by_the_safe_load_rule(
        registry: ModelRegistry, model: Any) -> None:
    made = registry.register(model, "iris")
    made.model_file.write_bytes(b"not a skops file")
    with pytest.raises(runtime.UnsafeModelError, match="cannot be read as a skops file"):
        registry.load("iris", 1)


def test_threads_registering_at_once_get_distinct_versions(
        registry: ModelRegistry, model: Any) -> None:
    got: list[int] = []
    start = threading.Barrier(6)

    def write() -> None:
        start.wait()
        for _ in range(3):
            got.append(registry.register(model, "iris").version)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == list(range(1, 19))
    assert [v.version for v in registry.versions("iris")] == list(range(1, 19))


WRITER = """
import sys
from pathlib import Path
from sklearn.linear_model import LinearRegression
from runtime.models import ModelRegistry
model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
registry = ModelRegistry(Path(sys.argv[1]))
print(*[registry.register(model, "line").version for _ in range(4)])
"""


def test_processes_registering_at_once_get_distinct_versions(registry: ModelRegistry) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(registry.root)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0]
    got = sorted(int(v) for out in outs for v in out.split())
    assert got == list(range(1, 13))


def test_a_half_written_version_is_never_listed_and_its_number_is_not_reused(
        registry: ModelRegistry, model: Any) -> None:
    registry.register(model, "iris")
    crashed = registry.root / "iris" / "2"
    crashed.mkdir()
    (crashed / "model.skops").write_bytes(b"half")  # the writer died before meta.json
    assert [v.version for v in registry.versions("iris")] == [1]
    with pytest.raises(ModelLookupError, match="has no version 2; its versions are 1"):
        registry.version("iris", 2)
    assert registry.register(model, "iris").version == 3
    assert [v.version for v in registry.versions("iris")] == [1, 3]


def test_an_unreadable_meta_is_a_clear_error(registry: ModelRegistry, model: Any) -> None:
    made = registry.register(model, "iris")
    (made.folder / "meta.json").write_text("{not json", "utf-8")
    listed = registry.versions("iris")
    assert listed[0].damage is not None and "meta.json cannot be read" in listed[0].damage
    with pytest.raises(DamagedModelError, match="version 1 of model 'iris' is damaged"):
        registry.version("iris", 1)
    with pytest.raises(DamagedModelError):
        registry.set_alias("iris", "champion", 1, by="t", why="")


def test_aliases_come_from_the_log_and_every_move_is_appended(
        registry: ModelRegistry, model: Any) -> None:
    for _ in range(3):
        registry.register(model, "iris")
    assert registry.aliases("iris") == {}
    assert registry.resolve("iris", "champion") is None
    first = registry.set_alias("iris", "champion", 1, by="cli:ann", why="first")
    registry.set_alias("iris", "challenger", 3, by="node:reg run r1", why="newer")
    registry.set_alias("iris", "champion", 2, by="cli:bob", why="better")
    assert first == AliasMove(first.time, "champion", None, 1, "cli:ann", "first")
    assert registry.aliases("iris") == {"champion": 2, "challenger": 3}
    assert registry.resolve("iris", "champion") == 2
    log = registry.log("iris")
    assert [(m.alias, m.from_version, m.to_version, m.by, m.why) for m in log] == [
        ("champion", None, 1, "cli:ann", "first"),
        ("challenger", None, 3, "node:reg run r1", "newer"),
        ("champion", 1, 2, "cli:bob", "better")]
    assert all(m.time.endswith("+00:00") for m in log)
    lines = registry.log_path("iris").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [m.to_json() for m in log]
    assert registry.log_damage("iris") == []


def test_the_log_is_only_ever_appended_to(registry: ModelRegistry, model: Any) -> None:
    registry.register(model, "iris")
    registry.register(model, "iris")
    path = registry.log_path("iris")
    registry.set_alias("iris", "champion", 1, by="t", why="a")
    before = path.read_bytes()
    registry.set_alias("iris", "champion", 2, by="t", why="b")
    assert path.read_bytes().startswith(before)


def test_concurrent_moves_each_record_the_version_they_replaced(
        registry: ModelRegistry, model: Any) -> None:
    for _ in range(2):
        registry.register(model, "iris")
    start = threading.Barrier(4)

    def move(version: int) -> None:
        start.wait()
        for _ in range(5):
            registry.set_alias("iris", "champion", version, by="t", why="")

    threads = [threading.Thread(target=move, args=(1 + i % 2,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log = registry.log("iris")
    assert len(log) == 20
    assert [m.from_version for m in log[1:]] == [m.to_version for m in log[:-1]]


def test_a_damaged_last_line_is_reported_not_fatal_and_the_next_move_is_read(
        registry: ModelRegistry, model: Any) -> None:
    for _ in range(3):
        registry.register(model, "iris")
    registry.set_alias("iris", "champion", 1, by="t", why="")
    path = registry.log_path("iris")
    with open(path, "ab") as handle:
        handle.write(b'{"time": "2026-01-01T00:00:00+00:00", "alias": "champ')  # a crash
    assert registry.aliases("iris") == {"champion": 1}
    damage = registry.log_damage("iris")
    assert len(damage) == 1 and damage[0].startswith("the last line of")
    move = registry.set_alias("iris", "champion", 3, by="t", why="after the crash")
    assert move.from_version == 1
    assert registry.aliases("iris") == {"champion": 3}
    assert [m.to_version for m in registry.log("iris")] == [1, 3]
    assert registry.log_damage("iris")[0].startswith("line 2 of")


def test_moving_to_a_missing_version_names_the_versions_there_are(
        registry: ModelRegistry, model: Any) -> None:
    registry.register(model, "iris")
    registry.register(model, "iris")
    with pytest.raises(ModelLookupError, match=r"no version 7; its versions are 1, 2"):
        registry.set_alias("iris", "champion", 7, by="t", why="")
    assert not registry.log_path("iris").exists()


def test_unknown_models_versions_and_aliases_are_clear_errors(
        registry: ModelRegistry, model: Any) -> None:
    with pytest.raises(ModelLookupError, match="no model 'iris'.*the registry is empty"):
        registry.versions("iris")
    registry.register(model, "iris")
    with pytest.raises(ModelLookupError, match="no model 'wine'.*the registry has iris"):
        registry.aliases("wine")
    with pytest.raises(ModelLookupError, match="no version 4"):
        registry.load("iris", 4)
    assert registry.resolve("iris", "challenger") is None
    assert isinstance(ModelLookupError("x"), runtime.UsageError | LookupError)


@pytest.mark.parametrize("name", ["../x", "..", ".", "a/b", "", "-x", ".hidden", "a\x00b",
                                  "x" * 101, "/abs"])
def test_names_that_could_leave_the_registry_are_refused(
        registry: ModelRegistry, model: Any, name: str) -> None:
    with pytest.raises(ModelNameError, match="cannot name a model"):
        registry.register(model, name)
    with pytest.raises(ModelNameError):
        registry.versions(name)
    assert not registry.root.exists() or registry.names() == []


@pytest.mark.parametrize("alias", ["3", "../champion", "", "champion!", "a b"])
def test_bad_aliases_are_refused(registry: ModelRegistry, model: Any, alias: str) -> None:
    registry.register(model, "iris")
    with pytest.raises(ModelNameError, match="cannot be an alias"):
        registry.set_alias("iris", alias, 1, by="t", why="")


def test_a_model_holding_code_is_not_registered(registry: ModelRegistry) -> None:
    with pytest.raises(ModelRegistryError, match="would refuse to load"):
        registry.register(FunctionHolder(), "bad")
    assert registry.names() == []


class FunctionHolder:
    """Not a scikit-learn model: skops would have to import this class to load it."""
