"""Estimator specs: pipelines and nested estimators in ml.fit, checked at validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import param_problems
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import BaggingClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from runtime.testing import run_component

SCALER = {"estimator": "sklearn.preprocessing.StandardScaler"}
LOGREG = {"estimator": "sklearn.linear_model.LogisticRegression", "options": {"max_iter": 500}}
TREE = "sklearn.tree.DecisionTreeClassifier"


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame.sample(frac=1, random_state=1)  # row ids out of order


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


def fitted(data: pd.DataFrame, params: dict[str, Any]) -> Any:
    out = run_component("ml.fit", {"data": [data]}, params)
    assert out.errors == []
    [model] = out["model"]
    return model


def problems_of(params: dict[str, Any]) -> list[str]:
    return [p.message for p in param_problems("ml.fit", params)]


# -- building ---------------------------------------------------------------------------

def test_steps_build_a_pipeline_named_as_make_pipeline_names_it(iris: pd.DataFrame) -> None:
    model = fitted(iris, {"steps": [SCALER, LOGREG], "target": "target"})
    assert isinstance(model, Pipeline)
    assert list(model.named_steps) == ["standardscaler", "logisticregression"]
    x, y = iris.drop(columns="target"), iris["target"]
    plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    np.testing.assert_array_equal(model.predict_proba(x), plain.predict_proba(x))
    np.testing.assert_array_equal(model[-1].coef_, plain[-1].coef_)


def test_an_option_that_is_an_estimator_is_built(iris: pd.DataFrame) -> None:
    model = fitted(iris, {
        "estimator": "sklearn.ensemble.BaggingClassifier", "target": "target",
        "options": {"estimator": {"estimator": TREE, "options": {"max_depth": 2}},
                    "n_estimators": 5, "random_state": 0}})
    x, y = iris.drop(columns="target"), iris["target"]
    plain = BaggingClassifier(estimator=DecisionTreeClassifier(max_depth=2), n_estimators=5,
                              random_state=0).fit(x, y)
    assert model.estimator.get_params() == plain.estimator.get_params()
    np.testing.assert_array_equal(model.predict_proba(x), plain.predict_proba(x))


def test_a_column_transformer_takes_name_estimator_columns_lists() -> None:
    frame = pd.DataFrame({"colour": ["red", "blue", "red", "green", "blue", "red"] * 5,
                          "size": np.arange(30, dtype=float),
                          "label": [0, 1, 0, 1, 1, 0] * 5}, index=range(100, 130))
    ct = {"estimator": "sklearn.compose.ColumnTransformer", "options": {"transformers": [
        ["onehot", {"estimator": "sklearn.preprocessing.OneHotEncoder"}, ["colour"]],
        ["scale", SCALER, ["size"]]]}}
    model = fitted(frame, {"steps": [ct, LOGREG], "target": "label"})
    x, y = frame[["colour", "size"]], frame["label"]
    plain = make_pipeline(ColumnTransformer([("onehot", OneHotEncoder(), ["colour"]),
                                             ("scale", StandardScaler(), ["size"])]),
                          LogisticRegression(max_iter=500)).fit(x, y)
    assert [t[0] for t in model[0].transformers] == ["onehot", "scale"]
    assert list(model[0].get_feature_names_out()) == list(plain[0].get_feature_names_out())
    np.testing.assert_array_equal(model.predict_proba(x), plain.predict_proba(x))


def test_a_stacking_classifier_takes_name_estimator_lists(cancer: pd.DataFrame) -> None:
    model = fitted(cancer, {
        "estimator": "sklearn.ensemble.StackingClassifier", "target": "target",
        "options": {"estimators": [["tree", {"estimator": TREE, "options": {"max_depth": 3,
                                                                          "random_state": 0}}],
                                   ["lr", {"steps": [SCALER, LOGREG]}]],
                    "final_estimator": LOGREG}})
    x, y = cancer.drop(columns="target"), cancer["target"]
    plain = StackingClassifier(
        estimators=[("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
                    ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)))],
        final_estimator=LogisticRegression(max_iter=500)).fit(x, y)
    np.testing.assert_array_equal(model.predict_proba(x), plain.predict_proba(x))


def test_a_transformer_fits_without_a_target(iris: pd.DataFrame) -> None:
    model = fitted(iris, {"estimator": "sklearn.preprocessing.StandardScaler",
                          "features": ["sepal length (cm)", "petal width (cm)"]})
    plain = StandardScaler().fit(iris[["sepal length (cm)", "petal width (cm)"]])
    np.testing.assert_array_equal(model.mean_, plain.mean_)
    np.testing.assert_array_equal(model.scale_, plain.scale_)
    everything = fitted(iris, {"estimator": "sklearn.preprocessing.StandardScaler"})
    assert list(everything.feature_names_in_) == list(iris.columns)


# -- validation -------------------------------------------------------------------------

def test_an_option_name_typo_is_a_problem_suggesting_the_name() -> None:
    [message] = problems_of({**LOGREG, "options": {"max_iters": 10}, "target": "t"})
    assert "options.max_iters" in message
    assert "did you mean 'max_iter'?" in message


def test_a_step_option_typo_names_its_path() -> None:
    [message] = problems_of({"steps": [SCALER, {**LOGREG, "options": {"max_iters": 5}}],
                             "target": "t"})
    assert "steps[1].options.max_iters" in message
    assert "did you mean 'max_iter'?" in message


def test_a_deeply_nested_option_typo_names_its_path() -> None:
    ct = {"estimator": "sklearn.compose.ColumnTransformer", "options": {"transformers": [
        ["scale", {"estimator": "sklearn.preprocessing.StandardScaler",
                   "options": {"with_means": False}}, ["a"]]]}}
    [message] = problems_of({"steps": [ct, LOGREG], "target": "t"})
    assert "steps[0].options.transformers[0][1].options.with_means" in message
    assert "did you mean 'with_mean'?" in message


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "sklearn.nope.Model",
                                  "sklearn.linear_model.NoSuchModel"])
def test_only_sklearn_classes_are_accepted_at_any_depth(name: str) -> None:
    nested = {"estimator": "sklearn.ensemble.BaggingClassifier",
              "options": {"estimator": {"estimator": name}}}
    for params in ({"steps": [SCALER, {"estimator": name}]}, nested):
        [message] = problems_of({**params, "target": "t"})
        assert name in message


def test_an_unknown_estimator_in_a_step_names_the_step() -> None:
    [message] = problems_of({"steps": [SCALER, {"estimator": "sklearn.linear_model.Logit"}],
                             "target": "t"})
    assert "steps[1].estimator" in message


def test_neither_estimator_nor_steps_is_a_problem() -> None:
    [problem] = param_problems("ml.fit", {"target": "t"})
    assert problem.param == "steps"
    assert "'estimator'" in problem.message and "'steps'" in problem.message


def test_both_estimator_and_steps_is_a_problem() -> None:
    [message] = problems_of({**LOGREG, "steps": [SCALER, LOGREG], "target": "t"})
    assert "not both" in message


def test_options_beside_steps_is_a_problem() -> None:
    [message] = problems_of({"steps": [SCALER, LOGREG], "options": {"C": 1.0}, "target": "t"})
    assert "inside each step" in message


def test_a_predictor_before_the_last_step_is_a_problem() -> None:
    [message] = problems_of({"steps": [LOGREG, SCALER], "target": "t"})
    assert "steps[0]" in message and "last step" in message


def test_an_option_value_scikit_learn_refuses_is_a_problem() -> None:
    [message] = problems_of({**LOGREG, "options": {"C": "big"}, "target": "t"})
    assert "'C'" in message


def test_a_missing_required_option_is_a_problem() -> None:
    [message] = problems_of({"estimator": "sklearn.compose.ColumnTransformer"})
    assert "transformers" in message


def test_a_predictor_without_target_is_a_problem() -> None:
    [problem] = param_problems("ml.fit", {"steps": [SCALER, LOGREG]})
    assert problem.param == "target"
    assert "LogisticRegression" in problem.message


def test_valid_specs_have_no_problems() -> None:
    assert problems_of({"steps": [SCALER, LOGREG], "target": "t"}) == []
    assert problems_of({"estimator": "sklearn.preprocessing.StandardScaler"}) == []


def test_a_clusterer_fits_without_a_target(iris: pd.DataFrame) -> None:
    from sklearn.cluster import KMeans

    features = [c for c in iris.columns if c != "target"]
    model = fitted(iris, {"estimator": "sklearn.cluster.KMeans",
                          "options": {"n_clusters": 3, "random_state": 0},
                          "features": features})
    plain = KMeans(n_clusters=3, random_state=0).fit(iris[features])
    np.testing.assert_array_equal(model.cluster_centers_, plain.cluster_centers_)


# -- options that would let a flow run code or touch files ------------------------------

MEMORY_PIPELINE = {
    "estimator": "sklearn.pipeline.Pipeline",
    "options": {"steps": [["scale", SCALER], ["lr", LOGREG]], "memory": "/tmp/cache"},
}


def test_memory_is_refused_because_cached_fits_are_pickles() -> None:
    [message] = problems_of({**MEMORY_PIPELINE, "target": "target"})
    assert "options.memory" in message
    assert "pickle" in message
    assert "runs code" in message


@pytest.mark.parametrize("name", ["sklearn.cluster.AgglomerativeClustering",
                                  "sklearn.cluster.FeatureAgglomeration",
                                  "sklearn.cluster.OPTICS"])
def test_memory_is_refused_on_every_class_that_has_it(name: str) -> None:
    [message] = problems_of({"estimator": name, "options": {"memory": "cache"}})
    assert "'memory' is refused" in message


def test_memory_is_refused_at_any_depth() -> None:
    bagged = {"estimator": "sklearn.ensemble.BaggingClassifier",
              "options": {"estimator": MEMORY_PIPELINE}}
    [message] = problems_of({"steps": [SCALER, bagged], "target": "target"})
    assert "steps[1].options.estimator.options.memory" in message
    assert "pickle" in message


def test_memory_none_is_allowed() -> None:
    spec = {**MEMORY_PIPELINE, "options": {**MEMORY_PIPELINE["options"], "memory": None}}
    assert problems_of({**spec, "target": "target"}) == []


def test_memory_in_a_nested_search_grid_is_refused() -> None:
    search = {"estimator": "sklearn.model_selection.GridSearchCV",
              "options": {"estimator": {"steps": [SCALER, LOGREG]},
                          "param_grid": {"memory": ["/tmp/cache"]}}}
    [message] = problems_of({**search, "target": "target"})
    assert "options.param_grid.memory" in message and "pickle" in message


@pytest.mark.parametrize("value", ["filename", "file"])
def test_a_vectorizer_may_not_open_files_the_data_names(value: str) -> None:
    [message] = problems_of({"estimator": "sklearn.feature_extraction.text.CountVectorizer",
                             "options": {"input": value}})
    assert "'input' is refused" in message and "read any file" in message
    assert problems_of({"estimator": "sklearn.feature_extraction.text.CountVectorizer",
                        "options": {"input": "content"}}) == []


def test_a_flow_fitting_with_memory_is_refused_by_validate() -> None:
    import runtime

    flow = {"edgewise": 1, "name": "mem", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
        {"id": "fit", "component": "ml.fit",
         "params": {**MEMORY_PIPELINE, "target": "target"}}],
        "edges": [{"source": "load.data", "target": "fit.data"}]}
    [problem] = runtime.validate(flow)
    assert problem.node == "fit" and "'memory' is refused" in problem.message


@pytest.mark.parametrize(("name", "meant"), [
    ("sklearn.linear_model.LogisticRegresion", "sklearn.linear_model.LogisticRegression"),
    ("sklearn.linear_modle.LogisticRegression", "sklearn.linear_model"),
])
def test_a_misspelled_estimator_gets_a_did_you_mean(name: str, meant: str) -> None:
    [message] = problems_of({"estimator": name, "target": "t"})
    assert f"did you mean '{meant}'?" in message
    [message] = problems_of({"steps": [SCALER, {"estimator": name}], "target": "t"})
    assert "steps[1].estimator" in message and f"did you mean '{meant}'?" in message


def test_every_scikit_learn_class_with_a_memory_option_is_refused_it() -> None:
    import inspect

    from sklearn.utils import all_estimators

    with_memory = [f"{cls.__module__.split('._')[0]}.{name}" for name, cls in all_estimators()
                   if "memory" in inspect.signature(cls.__init__).parameters]
    assert len(with_memory) >= 4
    for name in with_memory:
        messages = problems_of({"estimator": name, "options": {"memory": "cache"}})
        assert any("'memory' is refused" in m for m in messages), name
