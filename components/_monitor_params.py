"""The settings of ``ml.drift`` and ``ml.monitor``, and the checks that span several of them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ModelWrapValidatorHandler, field_validator, model_validator

from components._problems import param_problem
from components._scoring import check_metrics
from runtime import Params
from runtime.runs import PSI_BINS


class DriftParams(Params):
    """Settings of ``ml.drift``."""

    window_rows: int = Field(default=500, ge=1,
                             description="Rows per window; windows span the incoming frames.")
    columns: list[str] | None = Field(
        default=None, min_length=1,
        description="The columns to compare; leave empty for every column that the data "
                    "and the reference share, but those in 'exclude'.")
    exclude: list[str] = Field(
        default_factory=list,
        description="Columns never compared when 'columns' is empty (the target, an id).")
    psi_threshold: float = Field(
        default=0.25, gt=0,
        description="A column whose PSI reaches this has drifted (0.25: a major shift).")
    psi_warn: float = Field(
        default=0.1, gt=0,
        description="A column whose PSI reaches this, below psi_threshold, is listed in "
                    "'warned' (0.1: a moderate shift).")
    ks_threshold: float = Field(
        default=0.2, gt=0, le=1,
        description="A numeric column whose two-sample KS statistic reaches this has "
                    "drifted. 0.2 is about what a normal column shifted by half a standard "
                    "deviation gives (whose 10-bin PSI is about 0.24); by chance alone a "
                    "window of 500 rows reaches it, against a reference of at least as many "
                    "rows, with a probability below 1e-8.")
    bins: int = Field(default=PSI_BINS, ge=2,
                      description="PSI bins of a numeric column: quantiles of the reference, "
                                  "as edgewise diff cuts them.")

    @model_validator(mode="wrap")
    @classmethod
    def _bands(cls, data: Any, handler: ModelWrapValidatorHandler[DriftParams]) -> DriftParams:
        params = handler(data)
        if params.psi_warn >= params.psi_threshold:
            msg = (f"psi_warn ({params.psi_warn}) must be below psi_threshold "
                   f"({params.psi_threshold}): it marks a moderate shift, short of drift")
            raise param_problem(msg, field="psi_warn", value=params.psi_warn,
                                model=cls.__name__)
        both = sorted(set(params.columns or []) & set(params.exclude))
        if both:
            msg = (f"column(s) {both} are both compared ('columns') and excluded "
                   "('exclude'); name each in one of them")
            raise param_problem(msg, field="exclude", value=params.exclude, model=cls.__name__)
        return params


class MonitorParams(Params):
    """Settings of ``ml.monitor``."""

    target: str = Field(description="The label column in 'labels'.")
    prediction: str = Field(default="prediction",
                            description="The prediction column in 'predictions'.")
    key: str | None = Field(
        default=None,
        description="A column of both inputs that joins a label to its predictions; leave "
                    "empty to join on the row id.")
    max_wait_rows: int = Field(
        default=10_000, ge=1,
        description="At most this many predictions per model wait for their label (the "
                    "oldest is given up, and counted in 'unlabelled'), and at most this "
                    "many labels are kept for predictions still to come.")
    window_rows: int = Field(default=500, ge=1,
                             description="Labelled rows per window and model.")
    metrics: list[str] | None = Field(
        default=None,
        description="Metric names as ml.score takes them (any scikit-learn scorer name, or "
                    "mae, mse, rmse); by default accuracy and f1_macro for classifiers, r2 "
                    "and mae for regressors.")
    task: Literal["auto", "classification", "regression"] = Field(
        default="auto",
        description="What the predictions are; 'auto' takes the task ml.predict recorded, "
                    "or guesses it from the window as ml.score does.")

    @field_validator("metrics")
    @classmethod
    def _known(cls, names: list[str] | None) -> list[str] | None:
        return check_metrics(names, short=True)

    @model_validator(mode="wrap")
    @classmethod
    def _columns(cls, data: Any,
                 handler: ModelWrapValidatorHandler[MonitorParams]) -> MonitorParams:
        params = handler(data)
        if params.target == params.prediction:
            msg = (f"target and prediction both name column '{params.target}'; the label "
                   "and the prediction must be different columns")
            raise param_problem(msg, field="prediction", value=params.prediction,
                                model=cls.__name__)
        return params
