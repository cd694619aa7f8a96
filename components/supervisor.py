"""``model.supervisor``: promote a better challenger, roll back or quarantine a failing champion."""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from components._estimators import problem
from components._frame_helpers import input_frame
from components._model_label import model_label
from components._policy import Decision, DriftWindow, MetricsWindow, Policy, Rules
from components._policy import higher_is_better as derived_direction
from components._scoring import check_metrics
from runtime import (
    CONTEXT_TAG,
    DECISIONS_TAG,
    NEW_ROWS_TAG,
    STATEFUL_TAG,
    UNPAIRED_TAG,
    Params,
    Port,
    call_context,
    component,
    latest,
)
from runtime.engines import PATH_KEY

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_REGISTRY = ".edgewise/models"
DECISION_COLUMNS = ["time", "window", "action", "from", "to", "metric", "champion_value",
                    "challenger_value", "rows", "reason", "evidence"]
"""The columns of a ``decisions`` message, in order."""


class SupervisorParams(Params):
    """Settings of ``model.supervisor``."""

    metric: str = Field(
        default="accuracy",
        description="The metric column of ml.monitor's metrics to judge by (any name "
                    "ml.score accepts: accuracy, f1_macro, r2, mae, ...).")
    higher_is_better: bool | None = Field(
        default=None, validate_default=True,
        description="Whether a larger metric is better. Empty: derived from the name "
                    "(errors and losses such as mae, rmse, log_loss are lower-is-better).")
    min_gain: float = Field(
        default=0.01, ge=0,
        description="How much better than the champion the challenger must score, in "
                    "each window, to count towards a promotion.")
    min_rows: int = Field(
        default=50, ge=1,
        description="The fewest labelled rows a window must have to count, for a promotion "
                    "as for a floor breach.")
    windows: int = Field(
        default=3, ge=1,
        description="Promote after this many consecutive windows (paired by window number) "
                    "in which the challenger beat the champion.")
    floor: float | None = Field(
        default=None,
        description="Roll back the champion when its metric falls below this value (above "
                    "it, for a lower-is-better metric) in a window. Empty: no floor.")
    drift_windows: int | None = Field(
        default=None, ge=1,
        description="Roll back the champion when its input drifted (ml.drift's report) in "
                    "this many consecutive windows. Empty: as many as 'windows'.")
    cooldown_windows: int = Field(
        default=3, ge=0,
        description="After a decision, how many windows of the champion's metrics (and of "
                    "the drift reports) are not counted, before the next decision.")
    fallback: Literal["previous", "input"] = Field(
        default="previous",
        description="Who takes over from a rolled-back champion: 'previous', the champion "
                    "it replaced; 'input', the model on the 'fallback' input (model.get of "
                    "a named alias such as 'stable'). With none, the champion is "
                    "quarantined.")
    registry_name: str | None = Field(
        default=None,
        description="The registered model whose alias to move on each promotion and "
                    "rollback (model.get then sends the new champion). Empty: the registry "
                    "is not touched.")
    alias: str = Field(default="champion",
                       description="The alias to move in the registry (with registry_name).")
    # an output folder, as model.register's: a replay moves aliases inside its own folder
    registry: str = Field(
        default=DEFAULT_REGISTRY, validate_default=True, json_schema_extra={PATH_KEY: "output"},
        description="The registry folder, relative to the flow file's folder (default: the "
                    "workspace's, .edgewise/models next to the flow file). Where it does not "
                    "exist, as in a replay, no alias is moved.")

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        check_metrics([metric], short=True)
        return metric

    @field_validator("higher_is_better")
    @classmethod
    def _direction(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        metric = info.data.get("metric")
        return derived_direction(metric) if value is None and metric else value

    @field_validator("alias")
    @classmethod
    def _alias(cls, alias: str) -> str:
        if not alias.strip():
            text = "the alias is empty; name the alias to move, e.g. champion"
            raise problem(text)
        return alias

    @field_validator("registry")
    @classmethod
    def _registry(cls, folder: str, info: ValidationInfo) -> str:
        if "\x00" in folder:
            text = "the folder holds a NUL character (\\x00), which no folder name can hold"
            raise problem(text)
        base = (info.context or {}).get("base_dir")
        base = Path(base) if base is not None else Path()
        return str((base / (folder or DEFAULT_REGISTRY)).resolve())

    def rules(self) -> Rules:
        """The policy's thresholds."""
        return Rules(metric=self.metric, higher_is_better=bool(self.higher_is_better),
                     min_gain=self.min_gain, min_rows=self.min_rows, windows=self.windows,
                     floor=self.floor, drift_windows=self.drift_windows or self.windows,
                     cooldown_windows=self.cooldown_windows, fallback=self.fallback)


def metrics_windows(frame: pd.DataFrame, metric: str, message: int) -> list[MetricsWindow]:
    """The windows of one ``ml.monitor`` metrics message."""
    input_frame(frame, "model.supervisor", "metrics", ["window", "model", "rows"],
                what="ml.monitor's metrics", fix="connect ml.monitor's metrics")
    input_frame(frame, "model.supervisor", "metrics", [metric], what="ml.monitor's metrics",
                fix="set the supervisor's metric to one that ml.monitor computes")
    return [MetricsWindow(int(w), str(m), int(r), float(v), message) for w, m, r, v in zip(
        frame["window"], frame["model"], frame["rows"], frame[metric], strict=True)]


def drift_windows(frame: pd.DataFrame, message: int) -> list[DriftWindow]:
    """The windows of one ``ml.drift`` report."""
    input_frame(frame, "model.supervisor", "drift", ["window", "rows", "drift", "drifted"],
                what="ml.drift's report", fix="connect ml.drift's report")
    return [DriftWindow(int(w), int(r), bool(d), str(c), message) for w, r, d, c in zip(
        frame["window"], frame["rows"], frame["drift"], frame["drifted"], strict=True)]


def decision_frame(decision: Decision, number: int) -> pd.DataFrame:
    """One decision as a one-row DataFrame, indexed by the decision's number in the run."""
    import pandas as pd

    row = {"time": datetime.datetime.now(datetime.UTC).isoformat(),  # recorded, not used
           "window": decision.window, "action": decision.action,
           "from": decision.from_label, "to": decision.to_label, "metric": decision.metric,
           "champion_value": _number(decision.champion_value),
           "challenger_value": _number(decision.challenger_value),
           "rows": decision.rows, "reason": decision.reason,
           "evidence": list(decision.evidence)}
    return pd.DataFrame([row], columns=DECISION_COLUMNS, index=[number])


def _number(value: float | None) -> float:
    return float("nan") if value is None else value


def move_alias(root: Path, name: str, alias: str, label: str, *, by: str, why: str) -> None:
    """Point ``name``'s ``alias`` in the registry at ``root`` at the version ``label`` names.

    Nothing is moved when the registry folder does not exist (a replay's registry is a
    folder of its own, which holds no models).

    Raises:
        ValueError: the model is not a version of ``name``, or the registry refused the move.
    """
    wanted, _, version = label.rpartition(":")
    if wanted != name or not version.isdigit():
        msg = (f"the registry alias {name}:{alias} was not moved: the new champion, "
               f"{label}, is not a registered version of '{name}'; give champion and "
               "challenger from model.get of that name")
        raise ValueError(msg)
    if not root.is_dir():
        return
    models = importlib.import_module("runtime.models")
    try:
        models.ModelRegistry(root).set_alias(name, alias, int(version), by=by, why=why)
    except (models.ModelRegistryError, OSError) as exc:
        msg = f"the registry alias {name}:{alias} was not moved to version {version}: {exc}"
        raise ValueError(msg) from exc


@component(
    "model.supervisor",
    inputs={
        "metrics": Port("DataFrame", doc="ml.monitor's metrics: one row per window and model."),
        "drift": Port("DataFrame", required=False,
                      doc="ml.drift's report on the champion's input: one row per window."),
        "champion": latest("Model", "The champion as served now (e.g. from model.get)."),
        "challenger": latest("Model", "The model that may take over.", required=False),
        "fallback": latest("Model", "The model to roll back to, with fallback 'input' (e.g. "
                           "model.get of a named alias).", required=False),
    },
    outputs={"champion": "Model", "decisions": "DataFrame"},
    params=SupervisorParams,
    tags=[CONTEXT_TAG, UNPAIRED_TAG, DECISIONS_TAG, NEW_ROWS_TAG, STATEFUL_TAG],
    column_params={"metrics": ["metric"]},
)
class Supervisor:
    """Watch a champion and a challenger; promote, roll back or quarantine by a stated policy.

    The challenger is promoted when it beats the champion by ``min_gain`` on ``metric``,
    with ``min_rows`` labelled rows or more, in ``windows`` consecutive windows. The
    champion is rolled back to the one it replaced when its metric breaches ``floor``, or
    its input drifted in ``drift_windows`` consecutive windows (or, with ``fallback:
    input``, to the model on the ``fallback`` input); with none it is quarantined (it stays
    served, and the decision says what to do). After a decision, ``cooldown_windows``
    windows are not counted. ``champion`` emits the model to serve,
    only when it changes (wire it back to ml.serve's champion); ``decisions`` emits one row
    per decision with the ids of the metrics and drift messages that made it. Decisions
    depend only on the inputs and their order, so a replay reproduces them.
    """

    def __init__(self, params: SupervisorParams) -> None:
        self.params = params
        self.policy = Policy(params.rules())
        self.models: dict[str, Any] = {}
        self.decided = 0

    def __call__(self, metrics: pd.DataFrame | None, drift: pd.DataFrame | None,
                 champion: Any, challenger: Any,
                 fallback: Any = None) -> Iterator[dict[str, Any]]:
        """Take one metrics window or drift report; emit the decisions it leads to."""
        context = call_context()
        ids = context.inputs if context is not None else {}
        champ = model_label(champion, ids.get("champion"))
        chal = None if challenger is None else model_label(challenger, ids.get("challenger"))
        self.models[champ] = champion
        if chal is not None:
            self.models[chal] = challenger
        self.policy.see_models(champ, chal)
        if fallback is not None:
            named = model_label(fallback, ids.get("fallback"))
            self.models[named] = fallback
            self.policy.see_fallback(named)
        keep = {self.policy.champion, self.policy.challenger, self.policy.named,
                *self.policy.fallbacks}
        self.models = {k: v for k, v in self.models.items() if k in keep}
        decisions: list[Decision] = []
        if metrics is not None:
            for window in metrics_windows(metrics, self.params.metric, ids.get("metrics", 0)):
                decisions += filter(None, [self.policy.on_metrics(window)])
        if drift is not None:
            for report in drift_windows(drift, ids.get("drift", 0)):
                decisions += filter(None, [self.policy.on_drift(report)])
        node = context.node if context is not None else "supervisor"
        for decision in decisions:
            served = self.models.get(decision.to_label or "")
            yield {"champion": served, "decisions": decision_frame(decision, self.decided)}
            self.decided += 1
            if self.params.registry_name and decision.to_label is not None:
                move_alias(Path(self.params.registry), self.params.registry_name,
                           self.params.alias, decision.to_label,
                           by=f"model.supervisor node '{node}'", why=decision.reason)

