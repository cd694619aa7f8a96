"""The ``ml`` evaluations: ml.cross_validate, ml.search and ml.evaluate, against scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_validate,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from runtime.testing import run_component

FAMILY_MODULE = "components.ml_eval"
FOLDS = {"cv": 5, "shuffle": False, "random_state": 0}
CONTRACT: dict[str, dict[str, Any]] = {
    "ml.cross_validate": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"folds": "DataFrame", "summary": "Metrics"},
        "required": {"target"},
        "defaults": {"estimator": None, "steps": None, "options": {}, "features": None,
                     "metrics": None, **FOLDS},
    },
    "ml.search": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"model": "Model", "results": "DataFrame", "best": "Metrics"},
        "required": {"target", "grid"},
        "defaults": {"estimator": None, "steps": None, "options": {}, "features": None,
                     "metric": None, "n_iter": None, **FOLDS},
    },
    "ml.evaluate": {
        "inputs": {"data": ("DataFrame", "stream"), "test": ("DataFrame", "latest")},
        "outputs": {"table": "DataFrame", "best": "Model", "predictions": "DataFrame"},
        "required": {"target", "estimators"},
        "defaults": {"features": None, "metrics": None, **FOLDS},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)

SCALER = {"estimator": "sklearn.preprocessing.StandardScaler"}
LOGREG = {"estimator": "sklearn.linear_model.LogisticRegression"}
SCALED_LOGREG = {"steps": [SCALER, LOGREG]}


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


def xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    return frame.drop(columns="target"), frame["target"]


def only(out: Any, port: str) -> Any:
    assert out.errors == []
    [value] = out[port]
    return value


# -- ml.cross_validate ------------------------------------------------------------------

@pytest.mark.parametrize("settings", [
    {},
    {"metrics": ["accuracy", "roc_auc", "neg_log_loss"]},
    {"metrics": ["balanced_accuracy"], "cv": 3, "shuffle": True, "random_state": 7},
])
def test_cross_validate_equals_scikit_learn(cancer: pd.DataFrame,
                                            settings: dict[str, Any]) -> None:
    out = run_component("ml.cross_validate", {"data": [cancer]},
                        {**SCALED_LOGREG, "target": "target", **settings})
    folds, summary = only(out, "folds"), only(out, "summary")
    x, y = xy(cancer)
    cv: Any = settings.get("cv", 5)
    if settings.get("shuffle"):
        cv = StratifiedKFold(cv, shuffle=True, random_state=settings["random_state"])
    want = cross_validate(make_pipeline(StandardScaler(), LogisticRegression()), x, y,
                          cv=cv, scoring=settings.get("metrics"))
    names = settings.get("metrics") or ["score"]
    assert list(folds.columns) == ["fold", *[f"test_{n}" for n in names], "fit_time",
                                   "score_time"]
    assert list(folds["fold"]) == list(range(len(want["fit_time"])))
    for name in names:
        np.testing.assert_array_equal(folds[f"test_{name}"].to_numpy(), want[f"test_{name}"])
        assert summary[f"{name}_mean"] == float(np.mean(want[f"test_{name}"]))
        assert summary[f"{name}_std"] == float(np.std(want[f"test_{name}"]))
    assert set(summary) == {f"{n}_{s}" for n in names for s in ("mean", "std")}


def test_cross_validate_a_regressor_uses_kfold() -> None:
    diabetes = load_diabetes(as_frame=True).frame
    out = run_component("ml.cross_validate", {"data": [diabetes]},
                        {"estimator": "sklearn.linear_model.Ridge", "target": "target",
                         "metrics": ["r2", "neg_mean_absolute_error"], "shuffle": True,
                         "random_state": 3})
    folds = only(out, "folds")
    want = cross_validate(Ridge(), *xy(diabetes), scoring=["r2", "neg_mean_absolute_error"],
                          cv=KFold(5, shuffle=True, random_state=3))
    np.testing.assert_array_equal(folds["test_r2"].to_numpy(), want["test_r2"])


def test_cross_validate_refuses_an_unknown_scorer_with_a_suggestion() -> None:
    [problem] = param_problems("ml.cross_validate", {**LOGREG, "target": "t",
                                                     "metrics": ["roc_acu"]})
    assert problem.param == "metrics"
    assert "did you mean 'roc_auc'?" in problem.message


def test_cross_validate_checks_the_estimator_options() -> None:
    [problem] = param_problems("ml.cross_validate", {"steps": [SCALER, {
        **LOGREG, "options": {"max_iters": 3}}], "target": "t"})
    assert "steps[1].options.max_iters" in problem.message


def test_cross_validate_with_a_missing_target_is_an_error_record(iris: pd.DataFrame) -> None:
    out = run_component("ml.cross_validate", {"data": [iris]}, {**LOGREG, "target": "label"})
    [record] = out.errors
    assert "'label'" in record.message


# -- ml.search --------------------------------------------------------------------------

def test_search_equals_grid_search_cv(cancer: pd.DataFrame) -> None:
    grid = {"logisticregression__C": [0.01, 0.1, 1.0]}
    out = run_component("ml.search", {"data": [cancer]},
                        {**SCALED_LOGREG, "target": "target", "grid": grid,
                         "metric": "roc_auc"})
    model, results, best = only(out, "model"), only(out, "results"), only(out, "best")
    x, y = xy(cancer)
    want = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), grid,
                        scoring="roc_auc", cv=5).fit(x, y)
    assert best == {"params": want.best_params_, "score": want.best_score_}
    timing = [c for c in results.columns if c.endswith("_time")]
    pd.testing.assert_frame_equal(results.drop(columns=timing),
                                  pd.DataFrame(want.cv_results_).drop(columns=timing))
    np.testing.assert_array_equal(model.predict_proba(x), want.best_estimator_.predict_proba(x))
    assert model.get_params()["logisticregression__C"] == want.best_params_[
        "logisticregression__C"]


def test_search_randomized_with_n_iter(iris: pd.DataFrame) -> None:
    grid = {"max_depth": [1, 2, 3, 4, 5], "min_samples_leaf": [1, 5, 10]}
    out = run_component("ml.search", {"data": [iris]},
                        {"estimator": "sklearn.tree.DecisionTreeClassifier",
                         "options": {"random_state": 0}, "target": "target", "grid": grid,
                         "n_iter": 4, "random_state": 11})
    results, best = only(out, "results"), only(out, "best")
    want = RandomizedSearchCV(DecisionTreeClassifier(random_state=0), grid, n_iter=4,
                              random_state=11, cv=5).fit(*xy(iris))
    assert len(results) == 4
    assert list(results["params"]) == list(want.cv_results_["params"])
    assert best == {"params": want.best_params_, "score": want.best_score_}


def test_search_over_estimators_in_the_grid(iris: pd.DataFrame) -> None:
    grid = {"kneighborsclassifier": [{"estimator": "sklearn.neighbors.KNeighborsClassifier",
                                      "options": {"n_neighbors": k}} for k in (1, 15)]}
    out = run_component("ml.search", {"data": [iris]},
                        {"steps": [SCALER, {"estimator":
                                            "sklearn.neighbors.KNeighborsClassifier"}],
                         "target": "target", "grid": grid})
    best = only(out, "best")
    want = GridSearchCV(make_pipeline(StandardScaler(), KNeighborsClassifier()),
                        {"kneighborsclassifier": [KNeighborsClassifier(n_neighbors=1),
                                                  KNeighborsClassifier(n_neighbors=15)]},
                        cv=5).fit(*xy(iris))
    assert best["score"] == want.best_score_
    assert (best["params"]["kneighborsclassifier"].n_neighbors
            == want.best_params_["kneighborsclassifier"].n_neighbors)


def test_search_grid_names_are_checked_with_a_suggestion() -> None:
    [problem] = param_problems("ml.search", {**SCALED_LOGREG, "target": "t",
                                             "grid": {"logisticregression__c": [1.0]}})
    assert problem.param == "grid"
    assert "did you mean 'logisticregression__C'?" in problem.message
    [problem] = param_problems("ml.search", {**LOGREG, "target": "t",
                                             "grid": [{"C": [1.0]}, {"max_iters": [5]}]})
    assert "grid[1]" in problem.message and "did you mean 'max_iter'?" in problem.message
    assert param_problems("ml.search", {**SCALED_LOGREG, "target": "t",
                                        "grid": {"logisticregression__C": [1.0]}}) == []


# -- ml.evaluate ------------------------------------------------------------------------

CONTESTANTS = [
    {"name": "logreg", **SCALED_LOGREG},
    {"name": "tree", "estimator": "sklearn.tree.DecisionTreeClassifier",
     "options": {"max_depth": 3, "random_state": 0}},
    {"name": "knn", "estimator": "sklearn.neighbors.KNeighborsClassifier"},
]


def plain_contestants() -> dict[str, Any]:
    return {"logreg": make_pipeline(StandardScaler(), LogisticRegression()),
            "tree": DecisionTreeClassifier(max_depth=3, random_state=0),
            "knn": KNeighborsClassifier()}


def test_evaluate_cross_validates_every_estimator_on_the_same_folds(
        cancer: pd.DataFrame) -> None:
    shuffled = cancer.sample(frac=1, random_state=2)
    out = run_component("ml.evaluate", {"data": [shuffled]},
                        {"estimators": CONTESTANTS, "target": "target",
                         "metrics": ["accuracy", "roc_auc"]})
    table, best = only(out, "table"), only(out, "best")
    predictions = only(out, "predictions")
    x, y = xy(shuffled)
    folds = StratifiedKFold(5)
    want = {}
    for name, model in plain_contestants().items():
        result = cross_validate(model, x, y, cv=folds, scoring=["accuracy", "roc_auc"])
        want[name] = {m: float(np.mean(result[f"test_{m}"])) for m in ("accuracy", "roc_auc")}
        np.testing.assert_array_equal(predictions[name].to_numpy(),
                                      cross_val_predict(model, x, y, cv=folds))
    winner = max(want, key=lambda n: want[n]["accuracy"])
    expected = pd.DataFrame.from_dict(want, orient="index")
    expected.index.name = "estimator"
    expected["best"] = expected.index == winner
    pd.testing.assert_frame_equal(table, expected)
    assert best.edgewise_name_ == winner
    refit = clone(plain_contestants()[winner]).fit(x, y)
    np.testing.assert_array_equal(best.predict(x), refit.predict(x))
    assert list(predictions.index) == list(shuffled.index)
    pd.testing.assert_frame_equal(predictions[list(shuffled.columns)], shuffled)


def test_evaluate_on_a_test_input(cancer: pd.DataFrame) -> None:
    train, test = train_test_split(cancer, random_state=0)
    out = run_component("ml.evaluate", {"data": [train], "test": [test]},
                        {"estimators": CONTESTANTS, "target": "target",
                         "metrics": ["neg_log_loss", "accuracy"]})
    table, best = only(out, "table"), only(out, "best")
    predictions = only(out, "predictions")
    x, y = xy(train)
    x_test, y_test = xy(test)
    for name, model in plain_contestants().items():
        model.fit(x, y)
        for metric in ("neg_log_loss", "accuracy"):
            assert table.loc[name, metric] == get_scorer(metric)(model, x_test, y_test)
        np.testing.assert_array_equal(predictions[name].to_numpy(), model.predict(x_test))
    assert list(predictions.index) == list(test.index)
    assert best.edgewise_name_ == table["neg_log_loss"].idxmax()
    # the winner flows into ml.predict like any model
    scored = run_component("ml.predict", {"data": [test], "model": [best]})
    assert scored.errors == []


def test_evaluate_default_metric_is_the_estimators_score(iris: pd.DataFrame) -> None:
    out = run_component("ml.evaluate", {"data": [iris]},
                        {"estimators": CONTESTANTS[1:], "target": "target", "cv": 3})
    table = only(out, "table")
    assert list(table.columns) == ["score", "best"]
    want = cross_validate(KNeighborsClassifier(), *xy(iris), cv=3)
    assert table.loc["knn", "score"] == float(np.mean(want["test_score"]))


def test_evaluate_names_must_differ() -> None:
    [problem] = param_problems("ml.evaluate", {"target": "t", "estimators": [
        {"name": "a", **LOGREG}, {"name": "a", **LOGREG}]})
    assert problem.param == "estimators" and "'a'" in problem.message


def test_evaluate_checks_each_estimator() -> None:
    problems = param_problems("ml.evaluate", {"target": "t", "estimators": [
        {"name": "a", **LOGREG, "options": {"max_iters": 1}}, {"name": "b"}]})
    messages = " | ".join(p.message for p in problems)
    assert "did you mean 'max_iter'?" in messages
    assert "estimators.1" in messages


@pytest.mark.parametrize(("component_id", "params"), [
    ("ml.cross_validate", {"estimator": "os.system", "target": "t"}),
    ("ml.search", {"estimator": "os.system", "target": "t", "grid": {"C": [1]}}),
    ("ml.evaluate", {"target": "t", "estimators": [{"name": "a", "estimator": "os.system"}]}),
    ("ml.evaluate", {"target": "t", "estimators": [{"name": "a", "steps": [
        {"estimator": "builtins.eval"}]}]}),
])
def test_every_evaluation_refuses_classes_outside_scikit_learn(
        component_id: str, params: dict[str, Any]) -> None:
    problems = param_problems(component_id, params)
    assert any("only sklearn.* estimators are accepted" in p.message for p in problems)


def test_search_refuses_memory_in_the_grid() -> None:
    [problem] = param_problems("ml.search", {**SCALED_LOGREG, "target": "t",
                                             "grid": {"memory": [None, "/tmp/cache"]}})
    assert "grid.memory: 'memory' is refused" in problem.message
    assert "pickle" in problem.message
    [problem] = param_problems("ml.search", {**SCALED_LOGREG, "target": "t",
                                             "grid": [{"logisticregression__C": [1.0]},
                                                      {"memory": ["cache"]}]})
    assert "grid[1].memory" in problem.message


def test_search_refuses_memory_inside_an_estimator_of_the_grid() -> None:
    piped = {"estimator": "sklearn.pipeline.Pipeline",
             "options": {"steps": [["lr", LOGREG]], "memory": "cache"}}
    [problem] = param_problems("ml.search", {"estimator": "sklearn.ensemble.BaggingClassifier",
                                             "target": "t", "grid": {"estimator": [piped]}})
    assert "'memory' is refused" in problem.message


# -- failures are error records, never NaN scores or a broken best ------------------------

BROKEN = {"name": "broken", "estimator": "sklearn.svm.SVC",
          "options": {"kernel": "precomputed"}}


def no_traceback_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    err = capfd.readouterr().err
    assert "Traceback" not in err and "FitFailedWarning" not in err


def test_evaluate_a_failing_estimator_is_an_error_record_not_the_best(
        iris: pd.DataFrame, capfd: pytest.CaptureFixture[str]) -> None:
    out = run_component("ml.evaluate", {"data": [iris]},
                        {"estimators": [BROKEN, *CONTESTANTS], "target": "target",
                         "metrics": ["accuracy"]})
    [record] = out.errors
    assert record.message.endswith("cross-validating estimator 'broken' (sklearn.svm.SVC) "
                                   "failed: X should be a square kernel matrix")
    assert out["table"] == [] and out["best"] == []
    no_traceback_on_stderr(capfd)


def test_evaluate_a_nan_score_is_an_error_record_naming_the_estimator() -> None:
    tiny = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "target": [1.0, 2.5, 2.9, 4.2]})
    out = run_component("ml.evaluate", {"data": [tiny]},
                        {"estimators": [{"name": "ols", "estimator":
                                         "sklearn.linear_model.LinearRegression"}],
                         "target": "target", "metrics": ["r2"], "cv": 4})
    [record] = out.errors
    assert "estimator 'ols'" in record.message and "scored nan in 'r2'" in record.message
    assert "fold(s) 0, 1, 2, 3" in record.message
    assert out["best"] == []


def test_evaluate_picks_the_folds_by_each_estimators_task(iris: pd.DataFrame) -> None:
    out = run_component("ml.evaluate", {"data": [iris]},
                        {"estimators": [{"name": "ols", "estimator":
                                         "sklearn.linear_model.LinearRegression"},
                                        CONTESTANTS[2]],
                         "target": "target"})
    table = only(out, "table")
    x, y = xy(iris)  # sorted by class: unstratified folds would hold unseen classes
    for name, model in {"ols": LinearRegression(), "knn": KNeighborsClassifier()}.items():
        want = cross_validate(model, x, y, cv=5)  # scikit-learn's own choice of folds
        assert table.loc[name, "score"] == float(np.mean(want["test_score"]))
    assert list(table["best"]) == [False, True]


def test_evaluate_table_marks_the_best(iris: pd.DataFrame) -> None:
    out = run_component("ml.evaluate", {"data": [iris]},
                        {"estimators": CONTESTANTS[1:], "target": "target", "cv": 3})
    table, best = only(out, "table"), only(out, "best")
    assert table["best"].dtype == bool
    assert list(table.index[table["best"]]) == [best.edgewise_name_]


def test_evaluate_a_test_input_missing_a_feature_is_a_clear_error(
        cancer: pd.DataFrame) -> None:
    train, test = train_test_split(cancer, random_state=0)
    out = run_component("ml.evaluate", {"data": [train], "test": [test.drop(
        columns=["mean radius", "mean area"])]},
                        {"estimators": CONTESTANTS[1:], "target": "target"})
    [record] = out.errors
    assert "'test' input lacks feature column(s) ['mean radius', 'mean area']" in (
        record.message)


def test_cross_validate_a_failing_fit_is_a_one_line_error_record(
        iris: pd.DataFrame, capfd: pytest.CaptureFixture[str]) -> None:
    out = run_component("ml.cross_validate", {"data": [iris]},
                        {"estimator": "sklearn.svm.SVC", "options": {"kernel": "precomputed"},
                         "target": "target"})
    [record] = out.errors
    assert record.message.endswith("cross-validating sklearn.svm.SVC failed: "
                                   "X should be a square kernel matrix")
    assert "\n" not in record.message
    assert out["folds"] == [] and out["summary"] == []
    no_traceback_on_stderr(capfd)


@pytest.mark.parametrize("component_id", ["ml.cross_validate", "ml.search"])
def test_a_classification_metric_on_a_regressor_is_a_problem(component_id: str) -> None:
    params: dict[str, Any] = {"estimator": "sklearn.linear_model.Ridge", "target": "t"}
    if component_id == "ml.search":
        params.update(grid={"alpha": [1.0]}, metric="accuracy")
    else:
        params.update(metrics=["r2", "accuracy"])
    [problem] = param_problems(component_id, params)
    assert "metric 'accuracy' needs a classifier's predictions" in problem.message
    assert "Ridge is a regressor" in problem.message


def test_evaluate_checks_metrics_against_each_estimator() -> None:
    [problem] = param_problems("ml.evaluate", {"target": "t", "metrics": ["f1_macro"],
                                               "estimators": [
        {"name": "ridge", "estimator": "sklearn.linear_model.Ridge"}, {"name": "lr", **LOGREG}]})
    assert "estimator 'ridge': metric 'f1_macro' needs a classifier's" in problem.message


def test_search_where_every_fit_fails_is_a_one_line_error_record(
        iris: pd.DataFrame, capfd: pytest.CaptureFixture[str]) -> None:
    out = run_component("ml.search", {"data": [iris]},
                        {"estimator": "sklearn.svm.SVC", "options": {"kernel": "precomputed"},
                         "target": "target", "grid": {"C": [1.0, 2.0]}})
    [record] = out.errors
    assert ("searching the grid of sklearn.svm.SVC failed: X should be a square "
            "kernel matrix") in record.message
    assert "\n" not in record.message
    no_traceback_on_stderr(capfd)


def test_search_checks_each_grid_value_as_scikit_learn_would() -> None:
    [problem] = param_problems("ml.search", {**SCALED_LOGREG, "target": "t",
                                             "grid": {"logisticregression__C": [1.0, -1, "x"]}})
    assert problem.param == "grid"
    assert ("grid.logisticregression__C: value -1: The 'C' parameter of LogisticRegression "
            "must be a float in the range (0.0, inf]. Got -1 instead.") in problem.message
    assert "value 'x'" in problem.message
    assert "value 1.0" not in problem.message


def test_search_checks_grid_values_of_a_list_of_grids_and_plain_estimators() -> None:
    [problem] = param_problems("ml.search", {**LOGREG, "target": "t", "grid": [
        {"C": [0.1]}, {"penalty": ["l3"]}]})
    assert "grid[1].penalty: value 'l3': The 'penalty' parameter" in problem.message
    assert param_problems("ml.search", {**LOGREG, "target": "t", "grid": [
        {"C": [0.1, 10]}, {"penalty": ["l2", None]}]}) == []


@pytest.mark.parametrize("component_id", ["ml.cross_validate", "ml.search", "ml.evaluate"])
def test_a_random_state_without_shuffle_is_a_problem(component_id: str) -> None:
    params: dict[str, Any] = {
        "ml.cross_validate": {**LOGREG, "target": "t"},
        "ml.search": {**LOGREG, "target": "t", "grid": {"C": [1.0]}},
        "ml.evaluate": {"target": "t", "estimators": [{"name": "lr", **LOGREG}]},
    }[component_id]
    [problem] = param_problems(component_id, {**params, "random_state": 3})
    assert problem.param == "random_state"
    assert "random_state is used only with shuffle: true" in problem.message
    assert param_problems(component_id, {**params, "random_state": 3, "shuffle": True}) == []
    assert param_problems(component_id, params) == []


def test_search_with_n_iter_uses_a_random_state_without_shuffle() -> None:
    assert param_problems("ml.search", {**LOGREG, "target": "t", "grid": {"C": [1.0, 2.0]},
                                        "n_iter": 1, "random_state": 3}) == []
