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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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
        "required": set(),
        "defaults": {"estimator": None, "steps": None, "options": {}, "target": None,
                     "features": None},
    },
    "ml.transform": {
        "inputs": {"data": ("DataFrame", "stream"), "model": ("Model", "latest")},
        "outputs": {"data": "DataFrame"},
        "required": set(),
        "defaults": {"passthrough": []},
    },
    "ml.predict": {
        "inputs": {"data": ("DataFrame", "stream"), "model": ("Model", "latest")},
        "outputs": {"data": "DataFrame"},
        "required": set(),
        "defaults": {"column": "prediction", "probabilities": False},
    },
    "ml.score": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"metrics": "Metrics", "confusion": "DataFrame"},
        "required": {"target"},
        "defaults": {"prediction": "prediction", "task": "auto", "metrics": None,
                     "name": None},
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


def test_fit_with_unknown_option_is_a_problem_at_validation() -> None:
    [problem] = param_problems("ml.fit", {"estimator": LOGREG, "target": "target",
                                          "options": {"no_such_option": 1}})
    assert problem.param == "options"
    assert "no_such_option" in problem.message
    assert "LogisticRegression" in problem.message


def test_fit_with_a_bad_option_value_is_an_error_record_at_run_time(
        iris: pd.DataFrame) -> None:
    """A value scikit-learn refuses only once it sees the data is reported per message."""
    out = run_component("ml.fit", {"data": [iris]},
                        {"estimator": "sklearn.decomposition.PCA",
                         "options": {"n_components": 50}})
    assert out["model"] == []
    [record] = out.errors
    assert "n_components" in record.message


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


def test_predict_on_data_missing_a_feature_says_which_in_plain_words(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    out = run_component("ml.predict", {"data": [iris.drop(columns="petal width (cm)")],
                                       "model": [iris_model]})
    [record] = out.errors
    assert record.error == "KeyError"
    # as written, not in the quotes str() of a KeyError puts around its argument
    assert record.message == ("the model needs feature column(s) ['petal width (cm)'], "
                              "which the data lacks")


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
    assert set(result) == {"name", "accuracy", "f1_macro", "rows"}
    assert result["name"] == "node"  # the node's id, by default
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
    assert set(result) == {"name", "r2", "mae", "rows"}
    assert result["rows"] == len(test)
    assert result["r2"] == pytest.approx(metrics.r2_score(test["target"], scored["prediction"]))
    assert result["mae"] == pytest.approx(
        metrics.mean_absolute_error(test["target"], scored["prediction"]))


def test_score_values_are_plain_numbers(iris: pd.DataFrame,
                                        iris_model: LogisticRegression) -> None:
    [result] = run_component("ml.score", {"data": [predicted(iris_model, iris)]},
                             {"target": "target"})["metrics"]
    assert type(result["rows"]) is int
    assert all(type(v) is float for k, v in result.items() if k not in ("rows", "name"))


def test_score_computes_the_metrics_asked_for() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "guess": [1.5, 2.0, 2.0, 5.0]})
    out = run_component("ml.score", {"data": [frame]},
                        {"target": "y", "prediction": "guess",
                         "metrics": ["mse", "rmse", "mae"]})
    [result] = out["metrics"]
    assert result.pop("name") == "node"
    assert result == pytest.approx({"mse": 0.5625, "rmse": 0.75, "mae": 0.625, "rows": 4})
    assert list(result) == ["mse", "rmse", "mae", "rows"]


def test_score_classification_metrics_on_labels() -> None:
    frame = pd.DataFrame({"y": ["a", "a", "b", "b"], "prediction": ["a", "b", "b", "b"]})
    [result] = run_component("ml.score", {"data": [frame]},
                             {"target": "y", "metrics": ["accuracy", "precision_macro",
                                                         "recall_macro"]})["metrics"]
    assert result.pop("name") == "node"
    assert result == pytest.approx({"accuracy": 0.75, "precision_macro": (1 + 2 / 3) / 2,
                                    "recall_macro": 0.75, "rows": 4})


def test_score_emits_one_result_per_frame() -> None:
    frames = [pd.DataFrame({"t": [1, 0], "prediction": [1, 1]}),
              pd.DataFrame({"t": [1, 1, 0], "prediction": [1, 1, 0]})]
    out = run_component("ml.score", {"data": frames}, {"target": "t", "metrics": ["accuracy"]})
    assert out["metrics"] == [{"name": "node", "accuracy": 0.5, "rows": 2},
                              {"name": "node", "accuracy": 1.0, "rows": 3}]


def test_score_without_the_recorded_task_takes_whole_float_guesses_for_regression() -> None:
    frame = pd.DataFrame({"target": [151., 75., 141., 206.],
                          "prediction": [150., 80., 141., 200.]})
    out = run_component("ml.score", {"data": [frame]}, {"target": "target"})
    [result] = out["metrics"]
    assert set(result) == {"name", "r2", "mae", "rows"}
    assert result["r2"] == metrics.r2_score(frame["target"], frame["prediction"])
    assert out["confusion"] == []


def test_score_without_the_recorded_task_keeps_float_labels_a_classification() -> None:
    frame = pd.DataFrame({"t": [0., 1., 1., 0.], "prediction": [0., 1., 0., 0.]})
    out = run_component("ml.score", {"data": [frame]}, {"target": "t"})
    [result] = out["metrics"]
    assert result["accuracy"] == 0.75
    assert len(out["confusion"]) == 1


@pytest.mark.parametrize(("task", "keys"), [("regression", {"r2", "mae"}),
                                            ("classification", {"accuracy", "f1_macro"})])
def test_score_task_can_be_set(task: str, keys: set[str]) -> None:
    frame = pd.DataFrame({"t": [1, 2, 3, 4], "prediction": [1, 2, 2, 4]})
    scored = frame.copy()
    scored.attrs["edgewise.task"] = "classification" if task == "regression" else "regression"
    out = run_component("ml.score", {"data": [scored]}, {"target": "t", "task": task})
    [result] = out["metrics"]
    assert set(result) == {"name", "rows", *keys}
    assert (out["confusion"] == []) == (task == "regression")


def test_score_with_a_missing_column_is_an_error_record() -> None:
    frame = pd.DataFrame({"t": [1, 0], "pred": [1, 1]})
    out = run_component("ml.score", {"data": [frame]}, {"target": "t"})
    [record] = out.errors
    assert "'prediction'" in record.message


def test_score_refuses_an_unknown_metric_at_validation() -> None:
    problems = param_problems("ml.score", {"target": "t", "metrics": ["accuracy", "auc"]})
    assert len(problems) == 1
    assert problems[0].param == "metrics"


def test_score_adds_the_name_when_given() -> None:
    frame = pd.DataFrame({"t": [1, 0], "prediction": [1, 1]})
    [result] = run_component("ml.score", {"data": [frame]},
                             {"target": "t", "metrics": ["accuracy"], "name": "holdout"}
                             )["metrics"]
    assert result == {"name": "holdout", "accuracy": 0.5, "rows": 2}


def test_score_suggests_the_closest_scorer_name() -> None:
    [problem] = param_problems("ml.score", {"target": "t", "metrics": ["balanced_acuracy"]})
    assert "did you mean 'balanced_accuracy'?" in problem.message


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


def scored_with_probabilities(frame: pd.DataFrame) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    train, test = train_test_split(frame, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        train.drop(columns="target"), train["target"])
    out = run_component("ml.predict", {"data": [test], "model": [model]},
                        {"probabilities": True})
    assert out.errors == []
    return model, test, out["data"][0]


@pytest.mark.parametrize(("scorer", "direct"), [
    ("accuracy", lambda y, p, pr: metrics.accuracy_score(y, p)),
    ("balanced_accuracy", lambda y, p, pr: metrics.balanced_accuracy_score(y, p)),
    ("f1", lambda y, p, pr: metrics.f1_score(y, p)),
    ("precision", lambda y, p, pr: metrics.precision_score(y, p)),
    ("roc_auc", lambda y, p, pr: metrics.roc_auc_score(y, pr[:, 1])),
    ("average_precision", lambda y, p, pr: metrics.average_precision_score(y, pr[:, 1])),
    ("neg_log_loss", lambda y, p, pr: -metrics.log_loss(y, pr)),
    ("neg_brier_score", lambda y, p, pr: -metrics.brier_score_loss(y, pr[:, 1])),
])
def test_score_binary_scorers_equal_scikit_learn(cancer: pd.DataFrame, scorer: str,
                                                 direct: Any) -> None:
    model, test, scored = scored_with_probabilities(cancer)
    x, y = test.drop(columns="target"), test["target"]
    [result] = run_component("ml.score", {"data": [scored]},
                             {"target": "target", "metrics": [scorer]})["metrics"]
    assert result[scorer] == direct(y, model.predict(x), model.predict_proba(x))
    assert result[scorer] == metrics.get_scorer(scorer)(model, x, y)


@pytest.mark.parametrize(("scorer", "direct"), [
    ("roc_auc_ovr", lambda y, p, pr: metrics.roc_auc_score(y, pr, multi_class="ovr")),
    ("roc_auc_ovo_weighted", lambda y, p, pr: metrics.roc_auc_score(
        y, pr, multi_class="ovo", average="weighted")),
    ("neg_log_loss", lambda y, p, pr: -metrics.log_loss(y, pr)),
    ("f1_weighted", lambda y, p, pr: metrics.f1_score(y, p, average="weighted")),
    ("jaccard_macro", lambda y, p, pr: metrics.jaccard_score(y, p, average="macro")),
])
def test_score_multiclass_scorers_equal_scikit_learn(iris: pd.DataFrame, scorer: str,
                                                     direct: Any) -> None:
    model, test, scored = scored_with_probabilities(iris)
    x, y = test.drop(columns="target"), test["target"]
    [result] = run_component("ml.score", {"data": [scored]},
                             {"target": "target", "metrics": [scorer]})["metrics"]
    assert result[scorer] == direct(y, model.predict(x), model.predict_proba(x))


def test_score_with_string_labels_finds_their_probability_columns(iris: pd.DataFrame) -> None:
    named = iris.assign(target=iris["target"].map({0: "setosa", 1: "versicolor",
                                                   2: "virginica"}))
    model, test, scored = scored_with_probabilities(named)
    assert [c for c in scored.columns if c.startswith("proba_")] == [
        "proba_setosa", "proba_versicolor", "proba_virginica"]
    x, y = test.drop(columns="target"), test["target"]
    [result] = run_component("ml.score", {"data": [scored]},
                             {"target": "target", "metrics": ["neg_log_loss"]})["metrics"]
    assert result["neg_log_loss"] == -metrics.log_loss(y, model.predict_proba(x))


@pytest.mark.parametrize("scorer", ["r2", "neg_mean_squared_error", "neg_median_absolute_error",
                                    "explained_variance", "neg_max_error"])
def test_score_regression_scorers_equal_scikit_learn(diabetes: pd.DataFrame,
                                                     scorer: str) -> None:
    train, test = train_test_split(diabetes, random_state=0)
    model = LinearRegression().fit(train.drop(columns="target"), train["target"])
    [result] = run_component("ml.score", {"data": [predicted(model, test)]},
                             {"target": "target", "metrics": [scorer]})["metrics"]
    assert result[scorer] == metrics.get_scorer(scorer)(
        model, test.drop(columns="target"), test["target"])


def test_score_of_a_probability_scorer_without_probabilities_is_an_error_record(
        cancer: pd.DataFrame) -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        cancer.drop(columns="target"), cancer["target"])
    out = run_component("ml.score", {"data": [predicted(model, cancer)]},
                        {"target": "target", "metrics": ["roc_auc"]})
    assert out["metrics"] == []
    [record] = out.errors
    assert "roc_auc" in record.message and "probabilities: true" in record.message


def test_score_emits_the_confusion_matrix(iris: pd.DataFrame) -> None:
    train, test = train_test_split(iris, random_state=0)
    model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(
        train.drop(columns="target"), train["target"])
    scored = predicted(model, test)
    [confusion] = run_component("ml.score", {"data": [scored]},
                                {"target": "target"})["confusion"]
    want = metrics.confusion_matrix(test["target"], scored["prediction"])
    np.testing.assert_array_equal(confusion.to_numpy(), want)
    assert list(confusion.index) == list(confusion.columns) == [0, 1, 2]


def test_score_confusion_labels_cover_truth_and_predictions() -> None:
    frame = pd.DataFrame({"y": ["a", "a", "b", "c"], "prediction": ["a", "d", "b", "b"]})
    [confusion] = run_component("ml.score", {"data": [frame]}, {"target": "y"})["confusion"]
    want = pd.DataFrame(metrics.confusion_matrix(frame["y"], frame["prediction"],
                                                 labels=["a", "b", "c", "d"]),
                        index=pd.Index(["a", "b", "c", "d"], name="true"),
                        columns=pd.Index(["a", "b", "c", "d"], name="predicted"))
    pd.testing.assert_frame_equal(confusion, want)


def test_score_of_a_regression_has_no_confusion(diabetes: pd.DataFrame) -> None:
    model = LinearRegression().fit(diabetes.drop(columns="target"), diabetes["target"])
    out = run_component("ml.score", {"data": [predicted(model, diabetes)]},
                        {"target": "target"})
    assert out["confusion"] == [] and len(out["metrics"]) == 1


# -- ml.predict with probabilities ------------------------------------------------------

def test_predict_adds_probability_columns_in_classes_order(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    chunk = iris.iloc[[5, 60, 140, 7]]
    out = run_component("ml.predict", {"data": [chunk], "model": [iris_model]},
                        {"probabilities": True})
    assert out.errors == []
    [scored] = out["data"]
    assert list(scored.index) == [5, 60, 140, 7]
    assert list(scored.columns) == [*iris.columns, "prediction", "proba_0", "proba_1",
                                    "proba_2", "confidence"]
    proba = iris_model.predict_proba(chunk.drop(columns="target"))
    np.testing.assert_array_equal(scored[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)
    np.testing.assert_array_equal(scored["confidence"].to_numpy(), proba.max(axis=1))
    pd.testing.assert_frame_equal(scored[list(iris.columns)], chunk)


def test_predict_probabilities_of_an_empty_chunk(iris: pd.DataFrame,
                                                 iris_model: LogisticRegression) -> None:
    out = run_component("ml.predict", {"data": [iris.iloc[:0]], "model": [iris_model]},
                        {"probabilities": True})
    assert out.errors == []
    [scored] = out["data"]
    assert len(scored) == 0 and "confidence" in scored.columns


def test_predict_probabilities_of_a_model_without_them_is_an_error_record(
        diabetes: pd.DataFrame) -> None:
    model = LinearRegression().fit(diabetes.drop(columns="target"), diabetes["target"])
    out = run_component("ml.predict", {"data": [diabetes], "model": [model]},
                        {"probabilities": True})
    assert out["data"] == []
    [record] = out.errors
    assert "LinearRegression" in record.message and "predict_proba" in record.message


# -- ml.transform -----------------------------------------------------------------------

def test_transform_equals_scikit_learns_pandas_output(iris: pd.DataFrame) -> None:
    features = [c for c in iris.columns if c != "target"]
    model = StandardScaler().fit(iris[features])
    chunk = iris.iloc[[3, 90, 12]]
    out = run_component("ml.transform", {"data": [chunk], "model": [model]},
                        {"passthrough": ["target"]})
    assert out.errors == []
    [frame] = out["data"]
    want = StandardScaler().set_output(transform="pandas").fit(iris[features]).transform(
        chunk[features])
    pd.testing.assert_frame_equal(frame, pd.concat([want, chunk[["target"]]], axis=1))
    assert list(frame.index) == [3, 90, 12]
    assert model.transform(chunk[features]).__class__ is np.ndarray  # the model is untouched


def test_transform_of_sparse_output_names_its_columns() -> None:
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame({"colour": ["red", "blue", "red"], "n": [1, 2, 3]}, index=[7, 3, 5])
    model = OneHotEncoder().fit(frame[["colour"]])
    out = run_component("ml.transform", {"data": [frame], "model": [model]},
                        {"passthrough": ["n"]})
    assert out.errors == []
    want = OneHotEncoder(sparse_output=False).set_output(transform="pandas").fit(
        frame[["colour"]]).transform(frame[["colour"]])
    pd.testing.assert_frame_equal(out["data"][0], pd.concat([want, frame[["n"]]], axis=1))


def test_transform_with_a_fitted_pipeline_from_ml_fit(iris: pd.DataFrame) -> None:
    from sklearn.decomposition import PCA

    [model] = run_component("ml.fit", {"data": [iris]}, {
        "steps": [{"estimator": "sklearn.preprocessing.StandardScaler"},
                  {"estimator": "sklearn.decomposition.PCA", "options": {"n_components": 2}}],
        "features": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)"]})["model"]
    out = run_component("ml.transform", {"data": [iris], "model": [model]})
    features = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)"]
    want = make_pipeline(StandardScaler(), PCA(n_components=2)).set_output(
        transform="pandas").fit(iris[features]).transform(iris[features])
    pd.testing.assert_frame_equal(out["data"][0], want)
    assert list(out["data"][0].columns) == ["pca0", "pca1"]


def test_transform_with_a_model_that_cannot_is_an_error_record(
        iris: pd.DataFrame, iris_model: LogisticRegression) -> None:
    out = run_component("ml.transform", {"data": [iris], "model": [iris_model]})
    assert out["data"] == []
    [record] = out.errors
    assert "LogisticRegression has no transform" in record.message


def test_transform_with_a_missing_passthrough_column_is_an_error_record(
        iris: pd.DataFrame) -> None:
    model = StandardScaler().fit(iris[["sepal length (cm)"]])
    out = run_component("ml.transform", {"data": [iris], "model": [model]},
                        {"passthrough": ["label"]})
    [record] = out.errors
    assert "'label'" in record.message


def test_transform_with_a_pipeline_names_columns_as_scikit_learn_does(
        iris: pd.DataFrame) -> None:
    from sklearn.decomposition import PCA

    features = [c for c in iris.columns if c != "target"]
    [model] = run_component("ml.fit", {"data": [iris]}, {
        "steps": [{"estimator": "sklearn.decomposition.PCA", "options": {"n_components": 3}},
                  {"estimator": "sklearn.preprocessing.StandardScaler"}],
        "features": features})["model"]
    out = run_component("ml.transform", {"data": [iris.iloc[::7]], "model": [model]},
                        {"passthrough": ["target"]})
    assert out.errors == []
    want = make_pipeline(PCA(n_components=3), StandardScaler()).set_output(
        transform="pandas").fit(iris[features]).transform(iris.iloc[::7][features])
    pd.testing.assert_frame_equal(out["data"][0],
                                  pd.concat([want, iris.iloc[::7][["target"]]], axis=1))


# -- rough edges of ml.predict ----------------------------------------------------------

def test_predict_with_a_transformer_says_to_use_transform(iris: pd.DataFrame) -> None:
    scaler = StandardScaler().fit(iris.drop(columns="target"))
    out = run_component("ml.predict", {"data": [iris], "model": [scaler]})
    [record] = out.errors
    assert ("the model (StandardScaler) has no predict; use ml.transform for a transformer"
            in record.message)


@pytest.mark.parametrize("column", ["confidence", "proba_0"])
def test_predict_column_clashing_with_probability_columns_is_a_problem(column: str) -> None:
    [problem] = param_problems("ml.predict", {"column": column, "probabilities": True})
    assert f"column '{column}' would be overwritten" in problem.message
    assert param_problems("ml.predict", {"column": column}) == []
