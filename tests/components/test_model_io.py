"""The ``model`` family: model.save and model.load (skops files, loaded only when safe)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io
from contract import contract_tests, one_node_flow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tampering import tamper

import runtime
from runtime.testing import run_component

FAMILY_MODULE = "components.model_io"
CONTRACT: dict[str, dict[str, Any]] = {
    "model.save": {
        "inputs": {"model": ("Model", "stream")},
        "outputs": {},
        "required": {"path"},
        "defaults": {},
    },
    "model.load": {
        "inputs": {},
        "outputs": {"model": "Model"},
        "required": {"path"},
        "defaults": {},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame


def fitted(kind: str, iris: pd.DataFrame) -> Any:
    x, y = iris.drop(columns="target"), iris["target"]
    if kind == "logistic":
        return LogisticRegression(max_iter=1000).fit(x, y)
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(x, y)


def save(model: Any, path: Path) -> runtime.RunResult:
    return run_component("model.save", {"model": [model]}, {"path": str(path)}).result


def load(path: Path) -> Any:
    out = run_component("model.load", params={"path": str(path)})
    assert out.errors == [], out.errors
    [model] = out["model"]
    return model


@pytest.mark.parametrize("kind", ["logistic", "pipeline"])
def test_save_then_load_gives_identical_predictions(tmp_path: Path, iris: pd.DataFrame,
                                                    kind: str) -> None:
    model = fitted(kind, iris)
    path = tmp_path / "model.skops"
    assert save(model, path).status == "ok"
    back = load(path)
    x = iris.drop(columns="target")
    assert type(back) is type(model)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skops"]


def test_saved_file_is_what_skops_dump_writes(tmp_path: Path, iris: pd.DataFrame) -> None:
    model = fitted("pipeline", iris)
    path = tmp_path / "model.skops"
    save(model, path)
    plain = tmp_path / "plain.skops"
    skops.io.dump(model, plain)
    x = iris.drop(columns="target")
    untrusted = skops.io.get_untrusted_types(file=plain)
    assert skops.io.get_untrusted_types(file=path) == untrusted
    np.testing.assert_array_equal(skops.io.load(path, trusted=untrusted).predict_proba(x),
                                  skops.io.load(plain, trusted=untrusted).predict_proba(x))


def test_save_keeps_the_last_of_several_models(tmp_path: Path, iris: pd.DataFrame) -> None:
    path = tmp_path / "model.skops"
    out = run_component("model.save", {"model": [fitted("logistic", iris),
                                                 fitted("pipeline", iris)]},
                        {"path": str(path)})
    assert out.result.status == "ok"
    assert type(load(path)).__name__ == "Pipeline"


def test_save_with_no_model_reports_it_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(b"an earlier model")
    out = run_component("model.save", {"model": []}, {"path": str(path)})
    assert out.result.status == "errors"
    [error] = out.errors
    assert f"no model arrived, so {path} was not written; it is left as it was" in (
        error.message)
    assert path.read_bytes() == b"an earlier model"


def test_save_refuses_what_model_load_would_refuse(tmp_path: Path, iris: pd.DataFrame) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(b"an earlier model")
    out = run_component("model.save", {"model": [fitted("logistic", iris),
                                                 {"f": functools.partial(max, 1)}]},
                        {"path": str(path)})
    assert out.result.status == "errors"
    first, at_end = out.errors
    assert "functools.partial" in first.message and "model.load refuses" in first.message
    assert f"{path} was not written" in at_end.message
    assert path.read_bytes() == b"an earlier model"


def test_save_to_a_device_is_a_validation_problem(tmp_path: Path) -> None:
    problems = runtime.validate(one_node_flow("model.save", {"path": "/dev/null"}),
                                base_dir=tmp_path)
    assert [p.param for p in problems if p.param] == ["path"]


@pytest.mark.parametrize("path", ["nope.skops", "a\x00b.skops"])
def test_load_missing_or_impossible_path_is_a_validation_problem(tmp_path: Path,
                                                                 path: str) -> None:
    problems = runtime.validate(one_node_flow("model.load", {"path": path}), base_dir=tmp_path)
    assert [(p.node, p.param) for p in problems] == [("n", "path")]


@pytest.fixture
def tampered(tmp_path: Path, iris: pd.DataFrame) -> tuple[Path, Path]:
    path = tmp_path / "model.skops"
    save(fitted("logistic", iris), path)
    marker = tmp_path / "marker.txt"
    tamper(path, marker)
    return path, marker


def test_the_tampered_file_really_runs_its_payload_when_trusted(
        tampered: tuple[Path, Path]) -> None:
    # What model.load guards against: loading the file trusting what it lists runs code.
    path, marker = tampered
    skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    assert marker.read_text() == "ran"


def test_load_refuses_a_tampered_file_by_name_and_runs_nothing(
        tampered: tuple[Path, Path]) -> None:
    path, marker = tampered
    out = run_component("model.load", params={"path": str(path)})
    assert out.result.status == "errors"
    assert out["model"] == []
    [error] = out.errors
    assert error.component == "model.load"
    assert error.error == "UntrustedModelError"
    assert f"{path} names builtins.eval" in error.message
    assert "not loaded" in error.message
    assert not marker.exists()


@pytest.mark.parametrize(("module", "name"), [("builtins", "exec"), ("os", "system"),
                                              ("numpy", "load")])
def test_load_refuses_other_code_runners(tampered: tuple[Path, Path], module: str,
                                         name: str) -> None:
    path, marker = tampered
    tamper(path, marker, module, name)
    out = run_component("model.load", params={"path": str(path)})
    [error] = out.errors
    assert f"{module}.{name}" in error.message
    assert not marker.exists()


def test_load_a_file_that_is_not_a_model_is_an_error_record(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_text("not a zip")
    out = run_component("model.load", params={"path": str(path)})
    [error] = out.errors
    assert "is not a readable skops model file" in error.message


def test_a_flow_fits_saves_and_a_second_flow_loads_and_predicts(tmp_path: Path,
                                                                iris: pd.DataFrame) -> None:
    fit = runtime.Flow.model_validate({
        "edgewise": 1, "name": "fit",
        "nodes": [{"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
                  {"id": "fit", "component": "ml.fit",
                   "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                              "options": {"max_iter": 1000}, "target": "target"}},
                  {"id": "save", "component": "model.save", "params": {"path": "m.skops"}}],
        "edges": [{"source": "load.data", "target": "fit.data"},
                  {"source": "fit.model", "target": "save.model"}]})
    assert runtime.run_flow(fit, base_dir=tmp_path).status == "ok"
    model = load(tmp_path / "m.skops")
    x = iris.drop(columns="target")
    expected = LogisticRegression(max_iter=1000).fit(x, iris["target"]).predict(x)
    np.testing.assert_array_equal(model.predict(x), expected)
