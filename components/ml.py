"""The ``ml`` family: split, fit, predict and score with scikit-learn on DataFrames."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from runtime import Params, component, latest

if TYPE_CHECKING:
    import pandas as pd

TASK_ATTR = "edgewise.task"
Metric = Literal["accuracy", "f1_macro", "precision_macro", "recall_macro", "r2", "mae", "mse",
                 "rmse"]
CLASSIFIER_METRICS: list[Metric] = ["accuracy", "f1_macro"]
REGRESSOR_METRICS: list[Metric] = ["r2", "mae"]


def _require(data: pd.DataFrame, column: str, what: str) -> None:
    if column not in data.columns:
        msg = (f"{what} column '{column}' is not in the data; columns: "
               f"{', '.join(map(str, data.columns))}")
        raise KeyError(msg)


class SplitParams(Params):
    """Settings of ``ml.split``."""

    target: str = Field(description="The label column (used for stratification).")
    test_size: float = Field(default=0.25, gt=0, lt=1,
                             description="Fraction of the rows that go to 'test'.")
    random_state: int = Field(default=0, description="Seed, so that splits are reproducible.")
    stratify: bool = Field(default=False,
                           description="Keep the label proportions equal in both parts.")


@component("ml.split", inputs={"data": "DataFrame"},
           outputs={"train": "DataFrame", "test": "DataFrame"}, params=SplitParams,
           threaded=True)
def split(data: pd.DataFrame, *, params: SplitParams) -> dict[str, pd.DataFrame]:
    """Split rows into train and test with scikit-learn's train_test_split; row ids are kept."""
    from sklearn.model_selection import train_test_split

    _require(data, params.target, "target")
    train, test = train_test_split(
        data, test_size=params.test_size, random_state=params.random_state,
        stratify=data[params.target] if params.stratify else None)
    return {"train": train, "test": test}


def estimator_class(name: str) -> type[Any]:
    """Import a scikit-learn estimator class by its dotted name, refusing anything else."""
    module_name, _, class_name = name.rpartition(".")
    if not (module_name == "sklearn" or module_name.startswith("sklearn.")):
        msg = f"'{name}' is not inside scikit-learn; only sklearn.* estimators are accepted"
        raise ValueError(msg)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        msg = f"no module '{module_name}' in scikit-learn"
        raise ValueError(msg) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not callable(getattr(cls, "fit", None)):
        msg = f"'{name}' is not a scikit-learn estimator class"
        raise ValueError(msg)
    return cls


class FitParams(Params):
    """Settings of ``ml.fit``."""

    estimator: str = Field(
        description="Dotted name of a scikit-learn estimator class, e.g. "
                    "'sklearn.linear_model.LogisticRegression'.")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="Keyword arguments for the estimator.")
    target: str = Field(description="The label column to learn.")
    features: list[str] | None = Field(
        default=None, min_length=1,
        description="Feature columns; leave empty for every column but the target.")

    @field_validator("estimator")
    @classmethod
    def _known(cls, name: str) -> str:
        estimator_class(name)
        return name


@component("ml.fit", inputs={"data": "DataFrame"}, outputs={"model": "Model"}, params=FitParams,
           threaded=True)
def fit(data: pd.DataFrame, *, params: FitParams) -> Any:
    """Fit a scikit-learn estimator on each DataFrame received; emit the fitted model."""
    cls = estimator_class(params.estimator)
    _require(data, params.target, "target")
    features = params.features if params.features is not None else [
        c for c in data.columns if c != params.target]
    for column in features:
        _require(data, column, "feature")
    try:
        model = cls(**params.options)
    except TypeError as exc:
        msg = f"bad options for {params.estimator}: {exc}"
        raise ValueError(msg) from exc
    model.fit(data[features], data[params.target])
    return model


class PredictParams(Params):
    """Settings of ``ml.predict``."""

    column: str = Field(default="prediction", description="Name of the column to add.")


@component("ml.predict",
           inputs={"data": "DataFrame", "model": latest("Model", "The latest fitted model.")},
           outputs={"data": "DataFrame"}, params=PredictParams, threaded=True)
def predict(data: pd.DataFrame, model: Any, *, params: PredictParams) -> pd.DataFrame:
    """Score every DataFrame with the latest model; output the rows with a prediction column.

    The model input keeps its latest value, so a newly fitted model replaces the old one
    while data keeps flowing.
    """
    from sklearn.base import is_classifier

    features = getattr(model, "feature_names_in_", None)
    if features is not None:
        missing = [f for f in features if f not in data.columns]
        if missing:
            msg = f"the model needs feature column(s) {missing}, which the data lacks"
            raise KeyError(msg)
        inputs = data[list(features)]
    else:
        inputs = data
    predicted = model.predict(inputs) if len(data) else []
    out = data.assign(**{params.column: predicted})
    out.attrs[TASK_ATTR] = "classification" if is_classifier(model) else "regression"
    return out


class ScoreParams(Params):
    """Settings of ``ml.score``."""

    target: str = Field(description="The column with the true labels or values.")
    prediction: str = Field(default="prediction", description="The column with predictions.")
    metrics: list[Metric] | None = Field(
        default=None, description="Metrics to compute; by default accuracy and f1_macro for "
                                  "classifiers, r2 and mae for regressors.")


def _task(data: pd.DataFrame, column: str) -> str:
    task = data.attrs.get(TASK_ATTR)
    if task in ("classification", "regression"):
        return str(task)
    values = data[column]
    if values.dtype.kind == "f" and not (values.dropna() % 1 == 0).all():
        return "regression"
    return "classification"


@component("ml.score", inputs={"data": "DataFrame"}, outputs={"metrics": "Metrics"},
           params=ScoreParams, threaded=True)
def score(data: pd.DataFrame, *, params: ScoreParams) -> dict[str, float | int]:
    """Compare predictions with the truth; emit a dict of metric name to value, plus rows."""
    from sklearn import metrics as m

    _require(data, params.target, "target")
    _require(data, params.prediction, "prediction")
    y, p = data[params.target], data[params.prediction]
    chosen = params.metrics or (CLASSIFIER_METRICS if _task(data, params.prediction)
                                == "classification" else REGRESSOR_METRICS)
    funcs = {
        "accuracy": lambda: m.accuracy_score(y, p),
        "f1_macro": lambda: m.f1_score(y, p, average="macro"),
        "precision_macro": lambda: m.precision_score(y, p, average="macro", zero_division=0),
        "recall_macro": lambda: m.recall_score(y, p, average="macro", zero_division=0),
        "r2": lambda: m.r2_score(y, p),
        "mae": lambda: m.mean_absolute_error(y, p),
        "mse": lambda: m.mean_squared_error(y, p),
        "rmse": lambda: m.root_mean_squared_error(y, p),
    }
    result: dict[str, float | int] = {name: float(funcs[name]()) for name in chosen}
    result["rows"] = len(data)
    return result
