"""The ``ml`` family's evaluations: cross-validation, hyper-parameter search, Test and Score."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components._estimators import (
    EstimatorChoice,
    build_value,
    built_from,
    feature_columns,
    problem,
    require,
    suggest,
    value_problem,
)
from components._problems import param_problem
from components._refused import grid_refusals, refused
from components._scoring import check_metrics, regressor_mismatch
from runtime import NEW_ROWS_TAG, Params, component, latest

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

NAME_ATTR = "edgewise_name_"


def one_line(exc: BaseException) -> str:
    """An exception as one line: the first non-empty line of its message, or its type."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else f"{type(exc).__name__} (no message)"


@contextmanager
def fits_raise() -> Iterator[None]:
    """Keep scikit-learn from printing tracebacks of failed fits and scorers as warnings.

    Every evaluation runs with ``error_score="raise"``, so a failure becomes an error record;
    this silences the FitFailedWarning and "Scoring failed" warnings that would otherwise
    carry the tracebacks to stderr.
    """
    import warnings

    from sklearn.exceptions import FitFailedWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FitFailedWarning)
        warnings.filterwarnings("ignore", message="Scoring failed")
        yield


def failure(what: str, exc: Exception, model: Any, metrics: list[str] | None) -> ValueError:
    """The error of a failed fit or scorer: what failed, and why, on one line."""
    why = regressor_mismatch(model, metrics) or one_line(exc)
    msg = f"{what} failed: {why}"
    return ValueError(msg)


class Folds(Params):
    """How rows are split into folds, as scikit-learn splits them."""

    cv: int = Field(default=5, ge=2,
                    description="Number of folds (StratifiedKFold for classifiers, KFold "
                                "otherwise, as scikit-learn chooses).")
    shuffle: bool = Field(default=False,
                          description="Shuffle the rows before cutting them into folds.")
    random_state: int = Field(default=0,
                              description="Seed of the shuffle (and of ml.search's n_iter draws); "
                                          "give it only with those.")

    def _seeded(self) -> str | None:
        """What uses random_state, or None when nothing would."""
        return "shuffle" if self.shuffle else None

    @model_validator(mode="wrap")
    @classmethod
    def _seed_used(cls, data: Any, handler: ModelWrapValidatorHandler[Folds]) -> Folds:
        params = handler(data)
        if "random_state" in params.model_fields_set and params._seeded() is None:
            msg = ("random_state is used only with shuffle: true (without it the folds are "
                   "cut in order, and scikit-learn's KFold refuses a seed); set shuffle: true"
                   f"{params._seed_hint()}, or remove random_state")
            raise param_problem(msg, field="random_state", value=params.random_state,
                                model=cls.__name__)
        return params

    def _seed_hint(self) -> str:
        return ""

    def splitter(self, estimator: Any, y: Any) -> Any:
        """The fold splitter scikit-learn's own rule picks for this estimator and target."""
        from sklearn.base import is_classifier
        from sklearn.model_selection import KFold, StratifiedKFold, check_cv
        from sklearn.utils.multiclass import type_of_target

        if not self.shuffle:
            return check_cv(self.cv, y, classifier=is_classifier(estimator))
        stratified = (is_classifier(estimator)
                      and type_of_target(y) in ("binary", "multiclass"))
        kind = StratifiedKFold if stratified else KFold
        return kind(n_splits=self.cv, shuffle=True, random_state=self.random_state)


class Learning(Params):
    """The columns learnt from."""

    target: str = Field(description="The label column to learn.")
    features: list[str] | None = Field(
        default=None, min_length=1,
        description="Feature columns; leave empty for every column but the target.")


def _xy(data: pd.DataFrame, params: Learning) -> tuple[pd.DataFrame, pd.Series]:
    features = feature_columns(data, params.target, params.features)
    return data[features], data[params.target]


def _metrics_field() -> Any:
    return Field(default=None,
                 description="Scorer names (sklearn.metrics.get_scorer_names(): accuracy, "
                             "roc_auc, neg_log_loss, r2, ...); by default the estimator's own "
                             "score method, reported as 'score'.")


class CrossValidateParams(Folds, Learning, EstimatorChoice):
    """Settings of ``ml.cross_validate``."""

    metrics: list[str] | None = _metrics_field()

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, names: list[str] | None,
                       info: ValidationInfo) -> list[str] | None:
        check_metrics(names)
        mismatch = regressor_mismatch(built_from(info), names)
        if mismatch:
            raise problem(mismatch)
        return names


@component("ml.cross_validate", inputs={"data": "DataFrame"},
           outputs={"folds": "DataFrame", "summary": "Metrics"}, params=CrossValidateParams,
           threaded=True, tags=[NEW_ROWS_TAG], column_params={"data": ["target", "features"]})
def cross_validate(data: pd.DataFrame, *, params: CrossValidateParams) -> dict[str, Any]:
    """Cross-validate an estimator or pipeline with scikit-learn's cross_validate.

    ``folds`` has one row per fold: ``fold``, ``test_<scorer>``, ``fit_time`` and
    ``score_time``; ``summary`` has ``<scorer>_mean`` and ``<scorer>_std`` (numpy's std,
    over the folds). Without ``shuffle`` the folds are scikit-learn's own for an integer
    ``cv``.
    """
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import cross_validate as sk_cross_validate

    x, y = _xy(data, params)
    model = params.build()
    try:
        with fits_raise():
            result = sk_cross_validate(model, x, y, cv=params.splitter(model, y),
                                       scoring=params.metrics, error_score="raise")
    except Exception as exc:  # noqa: BLE001 - a fit or scorer of the user's settings
        what = f"cross-validating {params.label()}"
        raise failure(what, exc, model, params.metrics) from exc
    names = params.metrics or ["score"]
    folds = pd.DataFrame({"fold": range(len(result["fit_time"])),
                          **{f"test_{n}": result[f"test_{n}"] for n in names},
                          "fit_time": result["fit_time"], "score_time": result["score_time"]})
    summary: dict[str, Any] = {}
    for name in names:
        summary[f"{name}_mean"] = float(np.mean(result[f"test_{name}"]))
        summary[f"{name}_std"] = float(np.std(result[f"test_{name}"]))
    return {"folds": folds, "summary": summary}


Grid = dict[str, list[Any]]


class SearchParams(Folds, Learning, EstimatorChoice):
    """Settings of ``ml.search``."""

    grid: Grid | list[Grid] = Field(
        description="The param grid, with scikit-learn's names ('C', or "
                    "'logisticregression__C' in a pipeline) mapped to lists of values; a "
                    "list of such grids searches each. A value {\"estimator\": ..., "
                    "\"options\": {...}} is built as an estimator.")
    metric: str | None = Field(
        default=None,
        description="The scorer that picks the best (a name of "
                    "sklearn.metrics.get_scorer_names()); by default the estimator's score.")
    n_iter: int | None = Field(
        default=None, ge=1,
        description="Try this many random combinations (RandomizedSearchCV, seeded with "
                    "random_state) instead of every one (GridSearchCV).")

    def _seeded(self) -> str | None:
        if self.n_iter is not None:
            return "n_iter"
        return super()._seeded()

    def _seed_hint(self) -> str:
        return " (or n_iter, whose random draws it seeds too)"

    @field_validator("grid")
    @classmethod
    def _grid_names(cls, grid: Grid | list[Grid], info: ValidationInfo) -> Grid | list[Grid]:
        grids = grid if isinstance(grid, list) else [grid]
        if not grids:
            text = "the grid is empty; map param names to lists of values"
            raise problem(text)
        model = built_from(info)
        known = sorted(model.get_params(deep=True)) if model is not None else None
        found = grid_refusals(grid, "grid")
        for index, one in enumerate(grids):
            where = f"grid[{index}]" if isinstance(grid, list) else "grid"
            for key, values in one.items():
                if known is not None and key not in known:
                    found.append(f"{where}: the estimator has no param '{key}'"
                                 f"{suggest(key, known)}")
                if not values:
                    found.append(f"{where}.{key}: give at least one value")
                for value in values:
                    try:
                        built = build_value(value)
                    except ValueError as exc:
                        found.append(f"{where}.{key}: {exc}")
                        continue
                    checkable = (known is not None and key in known
                                 and refused(key, value) is None)
                    why = value_problem(model, key, built) if checkable else None
                    if why is not None:
                        found.append(f"{where}.{key}: value {value!r}: {why}")
        if found:
            raise problem("; ".join(found))
        return grid

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is not None:
            check_metrics([name])
            mismatch = regressor_mismatch(built_from(info), [name])
            if mismatch:
                raise problem(mismatch)
        return name


@component("ml.search", inputs={"data": "DataFrame"},
           outputs={"model": "Model", "results": "DataFrame", "best": "Metrics"},
           params=SearchParams, threaded=True, tags=[NEW_ROWS_TAG],
           column_params={"data": ["target", "features"]})
def search(data: pd.DataFrame, *, params: SearchParams) -> dict[str, Any]:
    """Search a param grid with GridSearchCV (RandomizedSearchCV with n_iter); refit the best.

    ``model`` is the best estimator refitted on all the data, ``results`` is ``cv_results_``
    as a DataFrame, and ``best`` is ``{"params": best_params_, "score": best_score_}``.
    """
    import pandas as pd
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    x, y = _xy(data, params)
    model = params.build()
    grid = build_value(params.grid)
    folds = params.splitter(model, y)
    if params.n_iter is None:
        searcher = GridSearchCV(model, grid, scoring=params.metric, cv=folds,
                                error_score="raise")
    else:
        searcher = RandomizedSearchCV(model, grid, n_iter=params.n_iter, scoring=params.metric,
                                      cv=folds, random_state=params.random_state,
                                      error_score="raise")
    try:
        with fits_raise():
            searcher.fit(x, y)
    except Exception as exc:  # noqa: BLE001 - a fit or scorer of the user's settings
        err = failure(f"searching the grid of {params.label()}", exc, model,
                      [params.metric] if params.metric else None)
        msg = (f"{err}; every combination of the grid must fit: put combinations that "
               "go together in separate grids (a list of grids)")
        raise ValueError(msg) from exc
    return {"model": searcher.best_estimator_,
            "results": pd.DataFrame(searcher.cv_results_),
            "best": {"params": searcher.best_params_, "score": float(searcher.best_score_)}}


class NamedEstimator(EstimatorChoice):
    """One contestant of ``ml.evaluate``: a name, and an estimator or pipeline."""

    name: str = Field(min_length=1,
                      description="The name of its row in 'table' and of its prediction column.")


class EvaluateParams(Folds, Learning):
    """Settings of ``ml.evaluate``."""

    estimators: list[NamedEstimator] = Field(
        min_length=1,
        description="The estimators to compare, each {\"name\", \"estimator\" and "
                    "\"options\" | \"steps\"}.")
    metrics: list[str] | None = _metrics_field()

    @field_validator("estimators")
    @classmethod
    def _unique(cls, estimators: list[NamedEstimator]) -> list[NamedEstimator]:
        names = [e.name for e in estimators]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            text = f"estimator names must differ; {', '.join(map(repr, twice))} is used twice"
            raise problem(text)
        return estimators

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, names: list[str] | None,
                       info: ValidationInfo) -> list[str] | None:
        check_metrics(names)
        found = []
        for one in info.data.get("estimators") or []:
            try:
                model = one.build()
            except ValueError:
                continue  # its own problem is reported already
            mismatch = regressor_mismatch(model, names)
            if mismatch:
                found.append(f"estimator '{one.name}': {mismatch}")
        if found:
            raise problem("; ".join(found))
        return names


def _all_finite(what: str, scores: dict[str, Any], where: str) -> None:
    """Raise if a score is NaN (or infinite): no estimator is compared on a missing score."""
    import numpy as np

    for metric, values in scores.items():
        bad = [i for i, v in enumerate(np.atleast_1d(values)) if not np.isfinite(v)]
        if bad:
            place = f"fold(s) {', '.join(map(str, bad))}" if where == "folds" else where
            msg = (f"{what} scored {np.atleast_1d(values)[bad[0]]} in '{metric}' on {place}: "
                   "the scorer gave no number (too few rows, or a class missing, for that "
                   "metric?); fix it or remove the estimator, so that 'best' is picked among "
                   "real scores")
            raise ValueError(msg)


def _fold_predictions(fitted: list[Any], indices: list[Any], x: pd.DataFrame) -> Any:
    """What cross_val_predict gives: each row predicted by the model of its test fold."""
    import numpy as np

    parts = [model.predict(x.iloc[idx]) for model, idx in zip(fitted, indices, strict=True)]
    order = np.concatenate(indices)
    joined = np.concatenate(parts)
    out = np.empty_like(joined)
    out[order] = joined
    return out


@component("ml.evaluate",
           inputs={"data": "DataFrame",
                   "test": latest("DataFrame", "Rows to test on; when unconnected, the "
                                  "estimators are cross-validated on 'data'.",
                                  required=False)},
           outputs={"table": "DataFrame", "best": "Model", "predictions": "DataFrame"},
           params=EvaluateParams, threaded=True,
           column_params={"data": ["target", "features"], "test": ["target", "features"]})
def evaluate(data: pd.DataFrame, test: pd.DataFrame | None, *,
             params: EvaluateParams) -> dict[str, Any]:
    """Test and Score: compare estimators on the same folds, or on a test set.

    Without a ``test`` input every estimator is cross-validated on ``data`` with the folds
    scikit-learn's cross_validate would pick for it (stratified for a classifier), so
    estimators of the same task see the same folds; ``predictions`` holds each row's
    prediction by the model of its test fold (as ``cross_val_predict``). With ``test``, each
    is fitted on ``data`` and scored on ``test``. ``table`` has one row per estimator
    (index: the names), one column per scorer (the mean over the folds) and ``best``, true
    on the winner's row. ``best`` is the winner on the first scorer, fitted on all of
    ``data``; its name is in its ``edgewise_name_`` attribute, and it goes into
    ``ml.predict`` like any model. A fit or scorer that fails, or a score that is NaN, is
    an error naming the estimator: nothing is picked as best from a broken comparison.
    """
    import numpy as np
    import pandas as pd
    from sklearn.base import clone
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import cross_validate as sk_cross_validate

    x, y = _xy(data, params)
    models = {e.name: e.build() for e in params.estimators}
    labels = {e.name: f"estimator '{e.name}' ({e.label()})" for e in params.estimators}
    names = params.metrics or ["score"]
    shown = data if test is None else test
    clash = [n for n in models if n in shown.columns]
    if clash:
        msg = f"estimator name(s) {clash} are also columns of the data; rename them"
        raise ValueError(msg)
    table: dict[str, dict[str, float]] = {}
    predictions: dict[str, Any] = {}
    fitted: dict[str, Any] = {}
    if test is None:
        for name, model in models.items():
            try:
                with fits_raise():
                    result = sk_cross_validate(
                        model, x, y, cv=params.splitter(model, y), scoring=params.metrics,
                        return_estimator=True, return_indices=True, error_score="raise")
            except Exception as exc:  # noqa: BLE001 - a fit or scorer of the user's settings
                what = f"cross-validating {labels[name]}"
                raise failure(what, exc, model, params.metrics) from exc
            _all_finite(labels[name], {m: result[f"test_{m}"] for m in names}, "folds")
            table[name] = {m: float(np.mean(result[f"test_{m}"])) for m in names}
            predictions[name] = _fold_predictions(result["estimator"],
                                                  result["indices"]["test"], x)
    else:
        require(test, params.target, "target (in 'test')")
        missing = [c for c in x.columns if c not in test.columns]
        if missing:
            msg = (f"the 'test' input lacks feature column(s) {missing}, which the "
                   "estimators learn from in 'data'; give 'test' the same feature columns "
                   "(or list the shared ones in 'features')")
            raise KeyError(msg)
        x_test, y_test = test[list(x.columns)], test[params.target]
        for name, model in models.items():
            try:
                with fits_raise():
                    fitted[name] = model.fit(x, y)
                    table[name] = {m: float(get_scorer(m)(model, x_test, y_test)
                                            if params.metrics else model.score(x_test, y_test))
                                   for m in names}
                    predictions[name] = model.predict(x_test) if len(test) else []
            except Exception as exc:  # noqa: BLE001 - a fit or scorer of the user's settings
                what = f"fitting {labels[name]} and scoring it on 'test'"
                raise failure(what, exc, model, params.metrics) from exc
            _all_finite(labels[name], table[name], "'test'")
    first = names[0]
    winner = max(table, key=lambda n: table[n][first])  # the first one of equals wins
    best = fitted[winner] if winner in fitted else clone(models[winner]).fit(x, y)
    setattr(best, NAME_ATTR, winner)
    frame = pd.DataFrame.from_dict(table, orient="index", columns=names)
    frame.index.name = "estimator"
    frame["best"] = frame.index == winner
    return {"table": frame, "best": best, "predictions": shown.assign(**predictions)}
