"""The ``ml`` family: ml.split, ml.fit, ml.predict and ml.score."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from sklearn import metrics
from sklearn.datasets import load_diabetes, load_iris
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

import runtime
from runtime.testing import MemorySink, run_component

FAMILY_MODULE = "components.ml"
CONTRACT: dict[str, dict[str, Any]] = {
    "ml.split": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"train": "DataFrame", "test": "DataFrame"},
        "required": {"target"},
        "defaults": {"test_size": 0.25, "random_state": 0, "stratify": False},
    },
    "ml.fit": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"model": "Model"},
        "required": {"estimator", "target"},
        "defaults": {"options": {}, "features": None},
    },
    "ml.predict": {
        "inputs": {"data": ("DataFrame", "stream"), "model": ("Model", "latest")},
        "outputs": {"data": "DataFrame"},
        "required": set(),
        "defaults": {"column": "prediction"},
    },
    "ml.score": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"metrics": "Metrics"},
        "required": {"target"},
        "defaults": {"prediction": "prediction", "metrics": None},
    },
}
LOGREG = "sklearn.linear_model.LogisticRegression"



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    frame: pd.DataFrame = load_diabetes(as_frame=True).frame
    return frame


# -- ml.split ---------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {},
    {"test_size": 0.4},
    {"random_state": 42},
    {"stratify": True},
    {"test_size": 0.1, "random_state": 7, "stratify": True},
])
def test_split_matches_train_test_split(iris: pd.DataFrame, params: dict[str, Any]) -> None:
    shuffled = iris.sample(frac=1, random_state=3)  # row ids out of order, to be kept
    out = run_component("ml.split", {"data": [shuffled]}, {"target": "target", **params})
    assert out.errors == []
    [train], [test] = out["train"], out["test"]
    want_train, want_test = train_test_split(
        shuffled, test_size=params.get("test_size", 0.25),
        random_state=params.get("random_state", 0),
        stratify=shuffled["target"] if params.get("stratify") else None)
    assert list(train.index) == list(want_train.index)
    assert list(test.index) == list(want_test.index)
    pd.testing.assert_frame_equal(train, want_train)
    pd.testing.assert_frame_equal(test, want_test)


def test_split_with_stratify_keeps_label_proportions(iris: pd.DataFrame) -> None:
    out = run_component("ml.split", {"data": [iris]},
                        {"target": "target", "test_size": 0.2, "stratify": True})
    [test] = out["test"]
    assert test["target"].value_counts().to_dict() == {0: 10, 1: 10, 2: 10}


def test_split_with_a_missing_target_is_an_error_record(iris: pd.DataFrame) -> None:
    out = run_component("ml.split", {"data": [iris]}, {"target": "label"})
    assert out["train"] == [] and out["test"] == []
    [record] = out.errors
    assert "'label'" in record.message
    assert "target" in record.message


@pytest.mark.parametrize("params", [{"target": "t", "test_size": 0},
                                    {"target": "t", "test_size": 1.5},
                                    {"test_size": 0.3}])
def test_split_bad_params_are_problems(params: dict[str, Any]) -> None:
    problems = param_problems("ml.split", params)
    assert len(problems) == 1


# -- ml.fit -----------------------------------------------------------------------------

@pytest.mark.parametrize("estimator", [
    "os.system",
    "builtins.eval",
    "subprocess.Popen",
    "scipy.stats.rv_continuous",  # a class with a fit method, but not inside sklearn
    "numpy.polynomial.Polynomial",
    "sklearnx.linear_model.LogisticRegression",
    "sklearn.linear_model.NoSuchModel",
    "sklearn.no_such_module.Model",
    "sklearn.base.BaseEstimator",
    "sklearn.linear_model.LogisticRegression.fit",
    "LogisticRegression",
])
def test_fit_refuses_anything_but_an_sklearn_estimator_class_at_validation(
        estimator: str) -> None:
    problems = param_problems("ml.fit", {"estimator": estimator, "target": "target"})
    assert len(problems) == 1
    assert (problems[0].node, problems[0].param) == ("n", "estimator")
    assert estimator in problems[0].message


def test_fit_accepts_an_sklearn_estimator_class() -> None:
    assert param_problems("ml.fit", {"estimator": LOGREG, "target": "target"}) == []


def test_fit_emits_one_fitted_model_per_frame(iris: pd.DataFrame) -> None:
    out = run_component("ml.fit", {"data": [iris, iris.iloc[:100]]},
                        {"estimator": "sklearn.tree.DecisionTreeClassifier",
                         "target": "target"})
    assert out.errors == []
    first, second = out["model"]
    assert isinstance(first, DecisionTreeClassifier)
    assert list(first.classes_) == [0, 1, 2]
    assert list(second.classes_) == [0, 1]


def test_fit_features_default_to_every_column_but_the_target(iris: pd.DataFrame) -> None:
    [model] = run_component("ml.fit", {"data": [iris]},
                            {"estimator": LOGREG, "target": "target",
                             "options": {"max_iter": 500}})["model"]
    assert list(model.feature_names_in_) == [c for c in iris.columns if c != "target"]


def test_fit_uses_the_given_features(iris: pd.DataFrame) -> None:
    features = ["petal width (cm)", "sepal length (cm)"]
    [model] = run_component("ml.fit", {"data": [iris]},
                            {"estimator": LOGREG, "target": "target",
                             "features": features, "options": {"max_iter": 500}})["model"]
    assert list(model.feature_names_in_) == features


def test_fit_passes_options_to_the_estimator(iris: pd.DataFrame) -> None:
    [model] = run_component("ml.fit", {"data": [iris]},
                            {"estimator": LOGREG, "target": "target",
                             "options": {"C": 0.125, "max_iter": 321}})["model"]
    assert model.get_params()["C"] == 0.125
    assert model.get_params()["max_iter"] == 321
    same = LogisticRegression(C=0.125, max_iter=321).fit(iris.drop(columns="target"),
                                                         iris["target"])
    np.testing.assert_allclose(model.coef_, same.coef_)


def test_fit_with_unknown_option_is_an_error_record(iris: pd.DataFrame) -> None:
    out = run_component("ml.fit", {"data": [iris]},
                        {"estimator": LOGREG, "target": "target",
                         "options": {"no_such_option": 1}})
    assert out["model"] == []
    [record] = out.errors
    assert "no_such_option" in record.message
    assert LOGREG in record.message


@pytest.mark.parametrize(("params", "named"), [
    ({"target": "label"}, "label"),
    ({"target": "target", "features": ["petal width (cm)", "colour"]}, "colour"),
])
def test_fit_with_a_missing_column_is_an_error_record_naming_it(
        iris: pd.DataFrame, params: dict[str, Any], named: str) -> None:
    out = run_component("ml.fit", {"data": [iris]}, {"estimator": LOGREG, **params})
    assert out["model"] == []
    [record] = out.errors
    assert f"'{named}'" in record.message


# -- ml.predict -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def iris_model(iris: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(iris.drop(columns="target"), iris["target"])


def test_predict_adds_the_prediction_column_and_keeps_rows(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    chunk = iris.iloc[[5, 60, 140, 7]]
    out = run_component("ml.predict", {"data": [chunk], "model": [iris_model]})
    assert out.errors == []
    [scored] = out["data"]
    assert list(scored.index) == [5, 60, 140, 7]
    assert list(scored.columns) == [*iris.columns, "prediction"]
    pd.testing.assert_frame_equal(scored[list(iris.columns)], chunk)
    expected = iris_model.predict(chunk.drop(columns="target"))
    assert list(scored["prediction"]) == list(expected)


def test_predict_names_the_column_as_asked(iris: pd.DataFrame,
                                           iris_model: LogisticRegression) -> None:
    out = run_component("ml.predict", {"data": [iris.iloc[:3]], "model": [iris_model]},
                        {"column": "species_guess"})
    assert "species_guess" in out["data"][0].columns
    assert "prediction" not in out["data"][0].columns


def test_predict_scores_every_chunk_with_the_one_model(iris: pd.DataFrame,
                                                       iris_model: LogisticRegression) -> None:
    chunks = [iris.iloc[i:i + 40] for i in range(0, 150, 40)]
    out = run_component("ml.predict", {"data": chunks, "model": [iris_model]})
    assert out.errors == []
    scored = pd.concat(out["data"])
    assert list(scored.index) == list(range(150))
    assert list(scored["prediction"]) == list(iris_model.predict(iris.drop(columns="target")))


def test_predict_selects_the_models_features_from_wider_data(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    wide = iris.assign(comment="x", extra=1.0)[["comment", *iris.columns, "extra"]]
    out = run_component("ml.predict", {"data": [wide], "model": [iris_model]})
    assert out.errors == []
    assert list(out["data"][0]["prediction"]) == list(
        iris_model.predict(iris.drop(columns="target")))


def test_predict_without_a_feature_column_is_an_error_record(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    out = run_component("ml.predict", {"data": [iris.drop(columns="petal width (cm)")],
                                       "model": [iris_model]})
    assert out["data"] == []
    [record] = out.errors
    assert "petal width (cm)" in record.message


def test_predict_with_no_model_ever_reports_the_waiting_data(iris: pd.DataFrame) -> None:
    out = run_component("ml.predict", {"data": [iris.iloc[:5], iris.iloc[5:9]], "model": []})
    assert out["data"] == []
    assert out.result.status == "errors"
    [record] = out.errors
    assert "'model'" in record.message
    assert len(record.inputs) == 2


def constant_model(label: str, iris: pd.DataFrame) -> DummyClassifier:
    model = DummyClassifier(strategy="constant", constant=label)
    return model.fit(iris.drop(columns="target"), [label] * 75 + ["other"] * 75)


def test_predict_uses_the_latest_model(iris: pd.DataFrame) -> None:
    """Data after a new model arrives is scored by it; earlier data by the older one."""
    old, new = constant_model("old", iris), constant_model("new", iris)
    script: list[dict[str, Any]] = [
        {"model": old},
        {"data": iris.iloc[0:10]},
        {"data": iris.iloc[10:20]},
        {"model": new},
        {"data": iris.iloc[20:30]},
        {"data": iris.iloc[30:40]},
    ]

    @runtime.component("testing.script", outputs={"data": "DataFrame", "model": "Model"})
    def play() -> Iterator[dict[str, Any]]:
        """Emit models and data on two ports, in script order."""
        yield from script

    sink = MemorySink()
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "latest",
        "nodes": [{"id": "src", "component": "testing.script"},
                  {"id": "predict", "component": "ml.predict"},
                  {"id": "sink", "component": sink.spec.id}],
        "edges": [{"source": "src.data", "target": "predict.data"},
                  {"source": "src.model", "target": "predict.model"},
                  {"source": "predict.data", "target": "sink.data"}]})
    registry = runtime.default_registry().with_components(play, sink.spec)
    # One message per batch, so the engine keeps the script's order across the two ports.
    run = runtime.Run(runtime.plan(flow, registry=registry),
                      options=runtime.RunOptions(batch_size=1))
    sink.watch(run, ["predict.data->sink.data"])
    result = run.run()
    assert result.status == "ok"
    assert result.nodes["predict"].fired == 4
    labels = [(chunk.index[0], set(chunk["prediction"])) for chunk in sink.values]
    assert labels == [(0, {"old"}), (10, {"old"}), (20, {"new"}), (30, {"new"})]


def test_predict_keeps_the_model_for_data_that_arrives_much_later(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    chunks = [iris.iloc[[i]] for i in range(0, 150, 5)]
    out = run_component("ml.predict", {"data": chunks, "model": [iris_model]})
    assert out.errors == []
    assert [list(chunk.index) for chunk in out["data"]] == [[i] for i in range(0, 150, 5)]
    assert out.result.nodes["node"].fired == 30


# -- ml.score ---------------------------------------------------------------------------

def predicted(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    out = run_component("ml.predict", {"data": [frame], "model": [model]})
    assert out.errors == []
    result: pd.DataFrame = out["data"][0]
    return result


def test_score_defaults_to_accuracy_and_f1_macro_for_a_classifier(
        iris: pd.DataFrame) -> None:
    train, test = train_test_split(iris, random_state=0)
    model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(
        train.drop(columns="target"), train["target"])
    scored = predicted(model, test)
    out = run_component("ml.score", {"data": [scored]}, {"target": "target"})
    assert out.errors == []
    [result] = out["metrics"]
    assert set(result) == {"accuracy", "f1_macro", "rows"}
    assert result["rows"] == len(test) == 38
    assert result["accuracy"] == pytest.approx(
        metrics.accuracy_score(test["target"], scored["prediction"]))
    assert result["f1_macro"] == pytest.approx(
        metrics.f1_score(test["target"], scored["prediction"], average="macro"))
    assert result["accuracy"] < 1.0  # a one-split tree cannot get iris all right


def test_score_defaults_to_r2_and_mae_for_a_regressor(diabetes: pd.DataFrame) -> None:
    train, test = train_test_split(diabetes, random_state=0)
    model = LinearRegression().fit(train.drop(columns="target"), train["target"])
    scored = predicted(model, test)
    [result] = run_component("ml.score", {"data": [scored]}, {"target": "target"})["metrics"]
    assert set(result) == {"r2", "mae", "rows"}
    assert result["rows"] == len(test)
    assert result["r2"] == pytest.approx(metrics.r2_score(test["target"], scored["prediction"]))
    assert result["mae"] == pytest.approx(
        metrics.mean_absolute_error(test["target"], scored["prediction"]))


def test_score_values_are_plain_numbers(iris: pd.DataFrame,
                                        iris_model: LogisticRegression) -> None:
    [result] = run_component("ml.score", {"data": [predicted(iris_model, iris)]},
                             {"target": "target"})["metrics"]
    assert type(result["rows"]) is int
    assert all(type(v) is float for k, v in result.items() if k != "rows")


def test_score_computes_the_metrics_asked_for() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "guess": [1.5, 2.0, 2.0, 5.0]})
    out = run_component("ml.score", {"data": [frame]},
                        {"target": "y", "prediction": "guess",
                         "metrics": ["mse", "rmse", "mae"]})
    [result] = out["metrics"]
    assert result == pytest.approx({"mse": 0.5625, "rmse": 0.75, "mae": 0.625, "rows": 4})
    assert list(result) == ["mse", "rmse", "mae", "rows"]


def test_score_classification_metrics_on_labels() -> None:
    frame = pd.DataFrame({"y": ["a", "a", "b", "b"], "prediction": ["a", "b", "b", "b"]})
    [result] = run_component("ml.score", {"data": [frame]},
                             {"target": "y", "metrics": ["accuracy", "precision_macro",
                                                         "recall_macro"]})["metrics"]
    assert result == pytest.approx({"accuracy": 0.75, "precision_macro": (1 + 2 / 3) / 2,
                                    "recall_macro": 0.75, "rows": 4})


def test_score_emits_one_result_per_frame() -> None:
    frames = [pd.DataFrame({"t": [1, 0], "prediction": [1, 1]}),
              pd.DataFrame({"t": [1, 1, 0], "prediction": [1, 1, 0]})]
    out = run_component("ml.score", {"data": frames}, {"target": "t", "metrics": ["accuracy"]})
    assert out["metrics"] == [{"accuracy": 0.5, "rows": 2}, {"accuracy": 1.0, "rows": 3}]


def test_score_with_a_missing_column_is_an_error_record() -> None:
    frame = pd.DataFrame({"t": [1, 0], "pred": [1, 1]})
    out = run_component("ml.score", {"data": [frame]}, {"target": "t"})
    [record] = out.errors
    assert "'prediction'" in record.message


def test_score_refuses_an_unknown_metric_at_validation() -> None:
    problems = param_problems("ml.score", {"target": "t", "metrics": ["accuracy", "auc"]})
    assert len(problems) == 1
    assert problems[0].param == "metrics"
