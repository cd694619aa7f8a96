"""The ``dataset`` family: dataset.load."""

from __future__ import annotations

import socket
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from sklearn import datasets

import runtime
from runtime.testing import run_component

FAMILY_MODULE = "components.dataset"
CONTRACT: dict[str, dict[str, Any]] = {
    "dataset.load": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": {"name"},
        "defaults": {"n_samples": None, "n_features": None, "n_informative": None,
                     "n_redundant": None, "n_classes": None, "n_targets": None,
                     "noise": None, "random_state": 0},
    },
}

# (rows, feature columns) of each data set bundled with scikit-learn.
SHAPES = {
    "iris": (150, 4),
    "wine": (178, 13),
    "breast_cancer": (569, 30),
    "diabetes": (442, 10),
    "digits": (1797, 64),
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        msg = "network access attempted during a test"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_load_emits_one_frame_with_a_target_column_offline(name: str) -> None:
    out = run_component("dataset.load", params={"name": name})
    assert out.errors == []
    assert out.result.status == "ok"
    [frame] = out["data"]
    rows, features = SHAPES[name]
    assert frame.shape == (rows, features + 1)
    assert "target" in frame.columns
    assert frame["target"].notna().all()
    assert list(frame.index) == list(range(rows))


def test_load_keeps_scikit_learn_feature_names() -> None:
    [frame] = run_component("dataset.load", params={"name": "iris"})["data"]
    assert list(frame.columns) == ["sepal length (cm)", "sepal width (cm)",
                                   "petal length (cm)", "petal width (cm)", "target"]
    assert sorted(frame["target"].unique()) == [0, 1, 2]


@pytest.mark.parametrize("params", [{}, {"name": "titanic"}])
def test_load_refuses_a_missing_or_unknown_name_at_validation(params: dict[str, Any]) -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "t",
        "nodes": [{"id": "load", "component": "dataset.load", "params": params}],
        "edges": []})
    problems = runtime.validate(flow)
    assert [(p.node, p.param) for p in problems] == [("load", "name")]


@pytest.mark.usefixtures("no_network")
def test_load_linnerud_is_scikit_learns_frame() -> None:
    [frame] = run_component("dataset.load", params={"name": "linnerud"})["data"]
    pd.testing.assert_frame_equal(frame, datasets.load_linnerud(as_frame=True).frame)
    assert list(frame.columns) == ["Chins", "Situps", "Jumps", "Weight", "Waist", "Pulse"]


def generated(params: dict[str, Any]) -> pd.DataFrame:
    out = run_component("dataset.load", params=params)
    assert out.errors == []
    [frame] = out["data"]
    return frame


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("options", [
    {},
    {"n_samples": 500, "n_features": 8, "n_informative": 3, "n_redundant": 1, "n_classes": 3,
     "random_state": 7},
])
def test_make_classification_equals_scikit_learn(options: dict[str, Any]) -> None:
    frame = generated({"name": "make_classification", **options})
    x, y = datasets.make_classification(**{"random_state": 0, **options})
    assert frame.shape == (x.shape[0], x.shape[1] + 1)
    assert list(frame.columns) == [f"feature_{i}" for i in range(x.shape[1])] + ["target"]
    np.testing.assert_array_equal(frame.drop(columns="target").to_numpy(), x)
    np.testing.assert_array_equal(frame["target"].to_numpy(), y)
    assert frame["target"].dtype == y.dtype
    assert list(frame.index) == list(range(len(x)))


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("options", [
    {},
    {"n_samples": 300, "n_features": 5, "n_informative": 2, "noise": 0.5, "random_state": 3},
])
def test_make_regression_equals_scikit_learn(options: dict[str, Any]) -> None:
    frame = generated({"name": "make_regression", **options})
    x, y = datasets.make_regression(**{"random_state": 0, **options})
    expected = pd.DataFrame(x, columns=[f"feature_{i}" for i in range(x.shape[1])])
    expected["target"] = y
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)


def test_make_regression_with_several_targets() -> None:
    frame = generated({"name": "make_regression", "n_samples": 20, "n_features": 4,
                       "n_targets": 3})
    _x, y = datasets.make_regression(n_samples=20, n_features=4, n_targets=3, random_state=0)
    assert list(frame.columns[-3:]) == ["target_0", "target_1", "target_2"]
    np.testing.assert_array_equal(frame[["target_0", "target_1", "target_2"]].to_numpy(), y)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first = generated({"name": "make_classification", "random_state": 1})
    pd.testing.assert_frame_equal(first, generated({"name": "make_classification",
                                                    "random_state": 1}))
    assert not first.equals(generated({"name": "make_classification", "random_state": 2}))


@pytest.mark.parametrize(("params", "param", "words"), [
    ({"name": "iris", "n_samples": 50}, "n_samples", "applies only to the generated sets"),
    ({"name": "linnerud", "random_state": 1}, "random_state", "the linnerud data set is fixed"),
    ({"name": "diabetes", "noise": 0.1}, "noise", "applies only to the generated sets"),
    ({"name": "make_regression", "n_classes": 3}, "n_classes",
     "applies only to make_classification, not to make_regression"),
    ({"name": "make_classification", "noise": 1.0}, "noise", "applies only to make_regression"),
    ({"name": "make_classification", "n_samples": 0}, "n_samples", "greater than 0"),
    ({"name": "make_classification", "n_features": 3}, "n_features",
     "needs n_features of at least 4"),
    ({"name": "make_classification", "n_classes": 5}, "n_informative",
     "5 classes need n_informative of at least 4"),
    ({"name": "make_classification", "n_samples": 10**9}, "n_samples",
     "less than or equal to 10000000"),
    ({"name": "make_regression", "n_features": 10**6}, "n_features",
     "less than or equal to 10000"),
    ({"name": "make_regression", "n_targets": 10**6}, "n_targets",
     "less than or equal to 10000"),
    ({"name": "make_classification", "n_classes": 10**6, "n_informative": 30}, "n_classes",
     "less than or equal to 1000"),
    ({"name": "make_classification", "n_samples": 5_000_000}, "n_samples",
     "5,000,000 rows of 21 columns (features and target) are 105,000,000 values, more than "
     "the 100,000,000 a generated set may hold; ask for at most 4,761,904 rows"),
    ({"name": "make_regression", "n_samples": 1_000_000, "n_targets": 2}, "n_samples",
     "1,000,000 rows of 102 columns"),
])
def test_settings_that_do_not_apply_or_cannot_work_are_validation_problems(
        params: dict[str, Any], param: str, words: str) -> None:
    [problem] = param_problems("dataset.load", params)
    assert problem.param == param
    assert words in problem.message


def test_settings_that_work_are_not_problems() -> None:
    assert param_problems("dataset.load", {"name": "make_classification", "n_features": 4,
                                           "n_classes": 3, "n_informative": 3,
                                           "n_redundant": 1}) == []
    assert param_problems("dataset.load", {"name": "make_regression", "n_samples": 990_099,
                                           "n_targets": 1}) == []
    assert param_problems("dataset.load", {"name": "make_classification",
                                           "n_samples": 10_000_000, "n_features": 9}) == []
