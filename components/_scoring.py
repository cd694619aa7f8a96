"""Metric names: scikit-learn scorers, checked by name, and scored from prediction columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components._estimators import describe, problem, suggest

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Short names kept from the first ml.score; the error metrics are positive, unlike scorers.
SHORT_METRICS = ("mae", "mse", "rmse")
PROBA_PREFIX = "proba_"
TASK_ATTR = "edgewise.task"
"""The frame attribute where ml.predict records its model's task."""


def scorer_names() -> list[str]:
    """Every scorer name scikit-learn knows (sklearn.metrics.get_scorer_names)."""
    from sklearn.metrics import get_scorer_names

    return list(get_scorer_names())


def check_metrics(names: list[str] | None, *, short: bool = False) -> list[str] | None:
    """Refuse unknown metric names, suggesting the closest; ``short`` allows mae, mse, rmse."""
    if names is None:
        return None
    known = [*scorer_names(), *(SHORT_METRICS if short else ())]
    bad = [n for n in names if n not in known]
    if bad:
        text = "; ".join(f"unknown metric '{n}'{suggest(n, known)}" for n in bad)
        msg = f"{text} (any name of sklearn.metrics.get_scorer_names())"
        raise problem(msg)
    if len(set(names)) != len(names):
        text = "a metric is named twice"
        raise problem(text)
    return names


def needs_classifier(name: str) -> bool:
    """Say whether a scorer scores class labels or class scores, which a regressor lacks."""
    from sklearn.metrics import get_scorer

    func = getattr(get_scorer(name), "_score_func", None)
    module = getattr(func, "__module__", "")
    return (module in ("sklearn.metrics._classification", "sklearn.metrics._ranking")
            or name.endswith("likelihood_ratio"))


def regressor_mismatch(model: Any, names: list[str] | None) -> str | None:
    """Why a regressor cannot be scored with these metrics, or None."""
    from sklearn.base import is_regressor

    if model is None or not names or not is_regressor(model):
        return None
    wrong = [n for n in names if needs_classifier(n)]
    if not wrong:
        return None
    listed = ", ".join(f"'{n}'" for n in wrong)
    return (f"metric {listed} needs a classifier's predictions (class labels or "
            f"probabilities), and {describe(model)} is a regressor; use a regression "
            "metric (r2, neg_mean_absolute_error, ...) or a classifier")


def _frozen(task: str, predicted: np.ndarray, proba: np.ndarray | None,
            classes: np.ndarray | None) -> Any:
    """An estimator that answers with stored predictions: row i of X holds the index i.

    scikit-learn's scorers call an estimator; this one hands back the prediction (and
    probability) columns of the data, so that every scorer runs exactly as scikit-learn
    has it, sign, options and positive label included.
    """
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    class Regressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
        def fit(self, x: Any, y: Any = None) -> Any:
            return self

        def predict(self, x: Any) -> Any:
            return predicted[np.asarray(x)[:, 0]]

    class Classifier(ClassifierMixin, Regressor):  # type: ignore[misc]
        classes_ = classes

    class ProbaClassifier(Classifier):
        def predict_proba(self, x: Any) -> Any:
            assert proba is not None  # noqa: S101 - only built with probabilities
            return proba[np.asarray(x)[:, 0]]

    if task == "regression":
        return Regressor()
    return ProbaClassifier() if proba is not None else Classifier()


def proba_columns(data: pd.DataFrame, labels: list[Any]) -> tuple[list[str], list[Any]]:
    """The ``proba_<class>`` columns (in order) and the class each one is for."""
    import pandas as pd

    columns = [c for c in data.columns if isinstance(c, str) and c.startswith(PROBA_PREFIX)]
    by_text = {str(label): label for label in labels}
    suffixes = [c[len(PROBA_PREFIX):] for c in columns]
    if all(s in by_text for s in suffixes):
        return columns, [by_text[s] for s in suffixes]
    try:
        dtype = pd.Series(labels).dtype
        return columns, list(pd.Series(suffixes).astype(dtype))
    except (ValueError, TypeError):
        return columns, suffixes


def score_columns(names: list[str], task: str, y: pd.Series, predicted: pd.Series,
                  data: pd.DataFrame) -> dict[str, float]:
    """Score with scikit-learn's scorers from the prediction and probability columns."""
    import numpy as np
    from sklearn.metrics import get_scorer
    from sklearn.utils.multiclass import unique_labels

    proba = classes = None
    if task == "classification":
        labels = list(unique_labels(y, predicted))
        columns, found = proba_columns(data, labels)
        if columns:
            proba, classes = data[columns].to_numpy(dtype=float), np.asarray(found)
        else:
            classes = np.asarray(labels)
    model = _frozen(task, predicted.to_numpy(), proba, classes)
    rows = np.arange(len(y)).reshape(-1, 1)
    result = {}
    for name in names:
        try:
            result[name] = float(get_scorer(name)(model, rows, y.to_numpy()))
        except AttributeError as exc:
            if task == "classification" and proba is None:
                msg = (f"metric '{name}' needs class probabilities, and the data has no "
                       f"'{PROBA_PREFIX}<class>' columns: set probabilities: true on the "
                       "ml.predict node")
                raise ValueError(msg) from exc
            raise
    return result


def task_of(data: pd.DataFrame, target: str, prediction: str, task: str = "auto") -> str:
    """Classification or regression: as set, as ml.predict recorded, or guessed.

    The guess, when the frame lost the task ml.predict recorded: regression if either
    column holds floats that are not whole numbers, or predicted floats the truth never
    takes; classification otherwise.
    """
    if task != "auto":
        return task
    recorded = data.attrs.get(TASK_ATTR)
    if recorded in ("classification", "regression"):
        return str(recorded)
    truth, predicted = data[target].dropna(), data[prediction].dropna()
    floats = [c for c in (truth, predicted) if c.dtype.kind == "f"]
    if not floats:
        return "classification"
    if any(not (c % 1 == 0).all() for c in floats):
        return "regression"
    if not set(predicted.unique()) <= set(truth.unique()):
        return "regression"  # a classifier predicts the labels it learnt
    return "classification"


def score_frame(data: pd.DataFrame, target: str, prediction: str, names: list[str],
                task: str) -> dict[str, float]:
    """Each metric of ``names`` (scorer names, or mae, mse, rmse) of a frame's predictions.

    Exactly what ``ml.score`` reports: scikit-learn's scorer of each name, computed from
    the ``prediction`` column (and the ``proba_<class>`` columns when a scorer needs them),
    against the ``target`` column.
    """
    from sklearn import metrics as m

    y, p = data[target], data[prediction]
    short = {"mae": m.mean_absolute_error, "mse": m.mean_squared_error,
             "rmse": m.root_mean_squared_error}
    scored = score_columns([n for n in names if n not in SHORT_METRICS], task, y, p, data)
    return {name: float(short[name](y, p)) if name in SHORT_METRICS else scored[name]
            for name in names}
