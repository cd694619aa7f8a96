"""The ``ml`` family: split, fit, transform, predict and score with scikit-learn on DataFrames."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from components._columns import predict_columns
from components._estimators import (
    EstimatorChoice,
    built_from,
    describe,
    feature_columns,
    problem,
    require,
)
from components._scoring import PROBA_PREFIX, TASK_ATTR, check_metrics, score_frame, task_of
from runtime import NEW_ROWS_TAG, Params, component, latest, same_columns

if TYPE_CHECKING:
    import pandas as pd

CLASSIFIER_METRICS = ["accuracy", "f1_macro"]
REGRESSOR_METRICS = ["r2", "mae"]


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
           threaded=True, columns=same_columns("data", "train", "test"),
           column_params={"data": ["target"]})
def split(data: pd.DataFrame, *, params: SplitParams) -> dict[str, pd.DataFrame]:
    """Split rows into train and test with scikit-learn's train_test_split; row ids are kept."""
    from sklearn.model_selection import train_test_split

    require(data, params.target, "target")
    train, test = train_test_split(
        data, test_size=params.test_size, random_state=params.random_state,
        stratify=data[params.target] if params.stratify else None)
    return {"train": train, "test": test}


class FitParams(EstimatorChoice):
    """Settings of ``ml.fit``."""

    target: str | None = Field(
        default=None, validate_default=True,
        description="The label column to learn; leave empty for a transformer (a scaler, "
                    "an encoder), which is fitted on the features alone.")
    features: list[str] | None = Field(
        default=None, min_length=1,
        description="Feature columns; leave empty for every column but the target.")

    @field_validator("target")
    @classmethod
    def _needs_target(cls, target: str | None, info: ValidationInfo) -> str | None:
        if target is None:
            from sklearn.base import is_classifier, is_regressor

            model = built_from(info)
            if model is not None and (is_classifier(model) or is_regressor(model)):
                text = (f"{describe(model)} learns from a target: set 'target' to the "
                        "label column")
                raise problem(text)
        return target


@component("ml.fit", inputs={"data": "DataFrame"}, outputs={"model": "Model"}, params=FitParams,
           threaded=True, column_params={"data": ["target", "features"]})
def fit(data: pd.DataFrame, *, params: FitParams) -> Any:
    """Fit a scikit-learn estimator or pipeline on each DataFrame received; emit the model.

    Give one estimator (``estimator`` and ``options``) or a pipeline (``steps``, each an
    estimator with its options, built with ``make_pipeline``). An option value written
    ``{"estimator": ..., "options": {...}}`` is an estimator too (BaggingClassifier's
    ``estimator``, ColumnTransformer's ``[name, estimator, columns]`` lists). With a
    ``target`` the model learns ``X -> y``; without one (a scaler, an encoder) it is fitted
    on the feature columns alone.
    """
    try:
        model = params.build()
    except ValueError as exc:
        msg = f"bad settings for {params.label()}: {exc}"
        raise ValueError(msg) from exc
    features = feature_columns(data, params.target, params.features)
    if params.target is None:
        model.fit(data[features])
    else:
        model.fit(data[features], data[params.target])
    return model


def _model_inputs(data: pd.DataFrame, model: Any) -> pd.DataFrame:
    features = getattr(model, "feature_names_in_", None)
    if features is None:
        return data
    try:  # the check costs as much as the lookup: look the columns up, and explain a miss
        return data[list(features)]
    except KeyError:
        missing = [f for f in features if f not in data.columns]
        if not missing:
            raise
        msg = f"the model needs feature column(s) {missing}, which the data lacks"
        raise KeyError(msg) from None


def _is_pipeline(model: Any) -> bool:
    from sklearn.pipeline import Pipeline

    return isinstance(model, Pipeline) and len(model) > 1


class TransformParams(Params):
    """Settings of ``ml.transform``."""

    passthrough: list[str] = Field(
        default_factory=list,
        description="Columns of the data to keep, untouched, after the transformed ones.")


@component("ml.transform",
           inputs={"data": "DataFrame",
                   "model": latest("Model", "The latest fitted transformer (or pipeline).")},
           outputs={"data": "DataFrame"}, params=TransformParams, threaded=True,
           column_params={"data": ["passthrough"]})
class Transform:
    """Transform every DataFrame with the latest fitted transformer; row ids are kept.

    The columns are the transformer's output feature names, as scikit-learn gives them with
    ``set_output(transform="pandas")`` (or ``get_feature_names_out()`` for sparse output),
    followed by the ``passthrough`` columns of the input.
    """

    def __init__(self, params: TransformParams) -> None:
        self.params = params
        self._model: Any = None
        self._pandas: Any = None

    def _as_pandas(self, model: Any) -> Any:
        """A copy of the model's last step that outputs DataFrames; the model is untouched.

        Only the last step is copied: the steps before it run as they were fitted, so that
        none sees a DataFrame where it was fitted on an array.
        """
        if model is not self._model:
            import copy

            last = model[-1] if _is_pipeline(model) else model
            self._model, self._pandas = model, None
            if callable(getattr(last, "set_output", None)):
                self._pandas = copy.deepcopy(last).set_output(transform="pandas")
        return self._pandas

    def __call__(self, data: pd.DataFrame, model: Any) -> pd.DataFrame:
        """Transform one DataFrame."""
        import pandas as pd

        if not callable(getattr(model, "transform", None)):
            msg = (f"{type(model).__name__} has no transform; ml.transform needs a fitted "
                   "transformer (a scaler, an encoder, a pipeline ending in one)")
            raise TypeError(msg)
        for column in self.params.passthrough:
            require(data, column, "passthrough")
        inputs = _model_inputs(data, model)
        out: Any = None
        pandas_model = self._as_pandas(model)
        if pandas_model is not None:
            try:
                head = model[:-1].transform(inputs) if _is_pipeline(model) else inputs
                out = pandas_model.transform(head)
            except ValueError as exc:
                if "sparse" not in str(exc):
                    raise
                out = None
            if out is not None and _is_pipeline(model):
                out.columns = list(model.get_feature_names_out())
        if out is None:
            values = model.transform(inputs)
            if hasattr(values, "toarray"):
                values = values.toarray()
            names = getattr(model, "get_feature_names_out", None)
            if not callable(names):
                msg = f"{type(model).__name__} does not name its output columns"
                raise TypeError(msg)
            out = pd.DataFrame(values, columns=list(names()), index=data.index)
        out.index = data.index
        clash = [c for c in self.params.passthrough if c in out.columns]
        if clash:
            msg = (f"passthrough column(s) {clash} are also output columns of "
                   f"{type(model).__name__}; rename them first")
            raise ValueError(msg)
        result: pd.DataFrame = pd.concat([out, data[self.params.passthrough]], axis=1)
        return result


class PredictParams(Params):
    """Settings of ``ml.predict``."""

    column: str = Field(default="prediction", description="Name of the column to add.")
    probabilities: bool = Field(
        default=False,
        description="Also add one column proba_<class> per class (in the model's classes_ "
                    "order) and 'confidence', the largest of them; the model needs "
                    "predict_proba.")

    @field_validator("probabilities")
    @classmethod
    def _no_clash(cls, probabilities: bool, info: ValidationInfo) -> bool:
        column = info.data.get("column")
        if probabilities and isinstance(column, str) and (
                column == "confidence" or column.startswith(PROBA_PREFIX)):
            text = (f"column '{column}' would be overwritten by the probability columns "
                    f"('{PROBA_PREFIX}<class>' and 'confidence'); name the prediction column "
                    "otherwise")
            raise problem(text)
        return probabilities


@component("ml.predict",
           inputs={"data": "DataFrame", "model": latest("Model", "The latest fitted model.")},
           outputs={"data": "DataFrame"}, params=PredictParams, threaded=True,
           columns=predict_columns)
def predict(data: pd.DataFrame, model: Any, *, params: PredictParams) -> pd.DataFrame:
    """Score every DataFrame with the latest model; output the rows with a prediction column.

    The model input keeps its latest value, so a newly fitted model replaces the old one
    while data keeps flowing. With ``probabilities``, the class probabilities are added as
    ``proba_<class>`` columns and ``confidence`` (the largest probability of the row).
    """
    import numpy as np
    from sklearn.base import is_classifier

    if not callable(getattr(model, "predict", None)):
        msg = (f"the model ({describe(model)}) has no predict; use ml.transform for a "
               "transformer")
        raise TypeError(msg)
    if params.probabilities and not hasattr(model, "predict_proba"):
        msg = (f"{type(model).__name__} has no predict_proba, so it gives no probabilities; "
               "set probabilities: false, or fit a model that has them (SVC needs "
               "probability=true)")
        raise TypeError(msg)
    inputs = _model_inputs(data, model)
    predicted = model.predict(inputs) if len(data) else []
    columns: dict[str, Any] = {params.column: predicted}
    if params.probabilities:
        classes = list(model.classes_)
        proba = (model.predict_proba(inputs) if len(data)
                 else np.empty((0, len(classes)), dtype=float))
        for index, label in enumerate(classes):
            columns[f"{PROBA_PREFIX}{label}"] = proba[:, index]
        columns["confidence"] = proba.max(axis=1) if len(data) else proba[:, :1].ravel()
    out = data.assign(**columns)
    out.attrs[TASK_ATTR] = "classification" if is_classifier(model) else "regression"
    return out


class ScoreParams(Params):
    """Settings of ``ml.score``."""

    target: str = Field(description="The column with the true labels or values.")
    prediction: str = Field(default="prediction", description="The column with predictions.")
    task: Literal["auto", "classification", "regression"] = Field(
        default="auto",
        description="What the predictions are: 'classification' (labels: a confusion "
                    "matrix, accuracy and f1_macro by default) or 'regression' (numbers: r2 "
                    "and mae by default). 'auto' takes the task ml.predict recorded on the "
                    "frame; when the frame lost it, regression if either column holds "
                    "floats that are not whole numbers, or predicted floats the truth never "
                    "takes, classification otherwise.")
    metrics: list[str] | None = Field(
        default=None,
        description="Any scikit-learn scorer name (accuracy, roc_auc, neg_log_loss, "
                    "balanced_accuracy, r2, ...; see sklearn.metrics.get_scorer_names()), "
                    "or mae, mse, rmse; scorers that need probabilities use the proba_<class> "
                    "columns of ml.predict. By default accuracy and f1_macro for classifiers, "
                    "r2 and mae for regressors.")
    name: str | None = Field(
        default=None, validate_default=True,
        description="A name to tell these metrics apart from others'; added as 'name'. "
                    "Default: the node's id.")

    @field_validator("metrics")
    @classmethod
    def _known(cls, names: list[str] | None) -> list[str] | None:
        return check_metrics(names, short=True)

    @field_validator("name")
    @classmethod
    def _default_name(cls, name: str | None, info: ValidationInfo) -> str | None:
        node = (info.context or {}).get("node")
        return name if name is not None or not node else str(node)


@component("ml.score", inputs={"data": "DataFrame"},
           outputs={"metrics": "Metrics", "confusion": "DataFrame"},
           params=ScoreParams, threaded=True, tags=[NEW_ROWS_TAG],
           column_params={"data": ["target", "prediction"]})
def score(data: pd.DataFrame, *, params: ScoreParams) -> dict[str, Any]:
    """Compare predictions with the truth; emit metrics and, for classes, a confusion matrix.

    ``metrics`` is a dict of metric name to value, plus ``rows`` (and ``name`` when set).
    Each scorer gives exactly what scikit-learn's scorer of that name gives, computed from
    the prediction column and, when it needs them, the ``proba_<class>`` columns.
    ``confusion`` has the labels as index (true) and columns (predicted), as
    ``sklearn.metrics.confusion_matrix`` counts them; a regression has none.
    """
    import pandas as pd
    from sklearn import metrics as m
    from sklearn.utils.multiclass import unique_labels

    require(data, params.target, "target")
    require(data, params.prediction, "prediction")
    y, p = data[params.target], data[params.prediction]
    task = task_of(data, params.target, params.prediction, params.task)
    chosen = params.metrics or (CLASSIFIER_METRICS if task == "classification"
                                else REGRESSOR_METRICS)
    result: dict[str, Any] = {}
    if params.name is not None:
        result["name"] = params.name
    result.update(score_frame(data, params.target, params.prediction, chosen, task))
    result["rows"] = len(data)
    confusion = None
    if task == "classification":
        labels = unique_labels(y, p)
        confusion = pd.DataFrame(m.confusion_matrix(y, p, labels=labels),
                                 index=pd.Index(labels, name="true"),
                                 columns=pd.Index(labels, name="predicted"))
    return {"metrics": result, "confusion": confusion}
