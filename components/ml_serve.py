"""``ml.serve``: champion/challenger scoring in champion, shadow or canary mode, contained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from components._model_label import MODEL_COLUMN, MODEL_MESSAGE_COLUMN, model_label
from components.ml import PredictParams, predict
from runtime import (
    CONTEXT_TAG,
    Columns,
    ErrorRecord,
    PortDecl,
    call_context,
    component,
    latest,
)
from runtime import added_columns as added

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SERVE_ID = "ml.serve"
CHAMPION, CHALLENGER = "champion", "challenger"
FAILED, NO_CHALLENGER = "ModelFailedError", "NoChallenger"


class ServeParams(PredictParams):
    """Settings of ``ml.serve``: how the two models share the rows, and ``ml.predict``'s own."""

    mode: Literal["champion", "shadow", "canary"] = Field(
        default="champion",
        description="'champion': only the champion scores. 'shadow': both score every row; "
                    "the champion's predictions go out on 'data', the challenger's on "
                    "'shadow'. 'canary': canary_percent of the rows, chosen by a hash of "
                    "the row id, are answered by the challenger, the rest by the champion.")
    canary_percent: float = Field(
        default=10, ge=0, le=100,
        description="In canary mode, the share of rows (0 to 100) that the challenger "
                    "answers. A row goes to the challenger when the blake2b hash of its row "
                    "id falls in that share, so the same row id always goes the same way.")
    wait_for_challenger: bool = Field(
        default=True,
        description="Rows wait for the challenger's first model once it is connected, so "
                    "it scores every row from the first (a run replays the same). False: "
                    "the champion answers alone until a challenger comes, so a deployed "
                    "flow whose challenger alias is not set yet keeps answering.")


def serve_inputs(params: ServeParams) -> dict[str, PortDecl]:
    """The inputs: the challenger is required in canary mode, which has no use without one."""
    return {
        "data": "DataFrame",
        CHAMPION: latest("Model", "The latest champion model: it answers the rows."),
        CHALLENGER: latest(
            "Model", "The latest challenger model: scored beside the champion in shadow "
                     "mode, answers a share of the rows in canary mode (required there).",
            required=params.mode == "canary", waits=params.wait_for_challenger),
    }


def serve_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``ml.serve``: ``ml.predict``'s columns, then ``model`` and ``model_message``."""
    if params.probabilities:
        return {"data": None, "shadow": None}  # one column per class, known from the model
    columns = added(inputs.get("data"), [params.column, MODEL_COLUMN, MODEL_MESSAGE_COLUMN])
    return {"data": columns, "shadow": columns}


def canary_mask(index: pd.Index, percent: float) -> np.ndarray:
    """Which rows the challenger answers in canary mode: a stable hash of each row id.

    A row goes to the challenger when the 8-byte blake2b digest of ``repr`` of its row id
    (as a plain Python value, from ``Index.tolist``), read as a big-endian number, is below
    ``percent`` / 100 of 2**64. It is never Python's ``hash``, which is salted per process,
    so a row id goes the same way in every run and every process.
    """
    import hashlib

    import numpy as np

    limit = int(percent / 100 * 2 ** 64)
    blake, number = hashlib.blake2b, int.from_bytes
    return np.fromiter(
        (number(blake(repr(row).encode(), digest_size=8).digest(), "big") < limit
         for row in index.tolist()), dtype=bool, count=len(index))


class ModelFailedError(RuntimeError):
    """A model raised while scoring rows, and no other model could answer them."""


@dataclass
class _Model:
    """One of the two models of a call: its role, the fitted estimator, label and message."""

    role: str
    model: Any
    message: int | None

    @property
    def label(self) -> str:
        return model_label(self.model, self.message)

    def says(self) -> str:
        return f"the {self.role} {self.label}"


@component(SERVE_ID, inputs=serve_inputs, outputs={"data": "DataFrame", "shadow": "DataFrame"},
           params=ServeParams, threaded=True, tags=[CONTEXT_TAG], columns=serve_columns)
class Serve:
    """Score every DataFrame with a champion model and, beside it, a challenger.

    ``data`` gets exactly what ``ml.predict`` gives for the model that answered each row,
    plus ``model`` (the registry name and version, or ``#<message id>`` of an unregistered
    model) and ``model_message`` (the id of the model's message), in the input's row order
    and with its row ids. In shadow mode ``shadow`` gets the challenger's predictions of the
    same rows, in the same form (nothing once the challenger is the champion). A model
    that raises on a batch is contained: the other model answers its rows (their ``model``
    says so), and the failure goes out on ``error`` naming the model; when both fail, the
    batch gives one error record and no rows.
    """

    def __init__(self, params: ServeParams) -> None:
        self.params = params
        self._said_no_challenger = False

    def __call__(self, data: pd.DataFrame, champion: Any, challenger: Any = None,
                 **_others: Any) -> dict[str, Any]:
        """Score one DataFrame; return its ``data``, ``shadow`` and ``error`` messages."""
        context = call_context()
        ids = context.inputs if context is not None else {}
        node = context.node if context is not None else SERVE_ID
        first = _Model(CHAMPION, champion, ids.get(CHAMPION))
        second = (_Model(CHALLENGER, challenger, ids.get(CHALLENGER))
                  if challenger is not None else None)
        notes: list[tuple[str, str]] = []
        if self.params.mode == "canary" and second is not None:
            served = self._canary(data, first, second, notes)
            shadow = None
        else:
            served, answered = self._answered(data, first, second, notes)
            shadow = None
            # once the challenger is promoted it is the champion too: its predictions
            # are those on 'data', and sent twice a monitor would grade them twice
            if (self.params.mode == "shadow" and second is not None and answered is first
                    and second.label != first.label):
                try:
                    shadow = self._scored(data, second)
                except Exception as exc:  # noqa: BLE001 - a model's failure is contained
                    notes.append((FAILED, f"{second.says()} failed on {len(data)} row(s) "
                                          f"in shadow: {type(exc).__name__}: {exc}; nothing "
                                          "goes out on 'shadow' for them"))
            elif self.params.mode == "shadow" and second is None and \
                    not self._said_no_challenger:
                self._said_no_challenger = True
                notes.append((NO_CHALLENGER, "mode 'shadow' but no challenger model (input "
                              "'challenger' is not connected, or has had no model yet): "
                              "only the champion scores and nothing goes out on 'shadow' "
                              "until one comes; connect a challenger model, or set mode: "
                              "champion (said once per run)"))
        error = None
        if notes:
            kinds = {kind for kind, _text in notes}
            error = ErrorRecord(node=node, component=SERVE_ID,
                                error=FAILED if FAILED in kinds else NO_CHALLENGER,
                                message="; ".join(text for _kind, text in notes),
                                inputs=[ids[p] for p in ("data", CHAMPION, CHALLENGER)
                                        if p in ids])
        return {"data": served, "shadow": shadow, "error": error}

    def _scored(self, rows: pd.DataFrame, which: _Model) -> pd.DataFrame:
        """``ml.predict``'s output for these rows with this model, and which model it was."""
        out: pd.DataFrame = predict(rows, which.model, params=self.params)
        # assign keeps the attrs, so the task that ml.predict recorded goes along
        scored: pd.DataFrame = out.assign(**{MODEL_COLUMN: which.label,
                                             MODEL_MESSAGE_COLUMN: which.message})
        return scored

    def _answered(self, rows: pd.DataFrame, first: _Model, second: _Model | None,
                  notes: list[tuple[str, str]]) -> tuple[pd.DataFrame, _Model]:
        """These rows scored by ``first``, or by ``second`` if ``first`` raises.

        Raises:
            ModelFailedError: ``first`` raised and there is no ``second``, or it raised too.
        """
        try:
            return self._scored(rows, first), first
        except Exception as exc:  # noqa: BLE001 - a model's failure is contained
            failed = f"{first.says()} failed on {len(rows)} row(s): {type(exc).__name__}: {exc}"
            if second is None:
                msg = f"{failed}; no other model is connected to answer them"
                raise ModelFailedError(msg) from exc
            try:
                out = self._scored(rows, second)
            except Exception as again:  # noqa: BLE001 - both failed: one error for the batch
                msg = (f"{failed}; {second.says()} failed on them too: "
                       f"{type(again).__name__}: {again}; the batch is not scored")
                raise ModelFailedError(msg) from again
            notes.append((FAILED, f"{failed}; {second.says()} answered them instead"))
            return out, second

    def _canary(self, data: pd.DataFrame, first: _Model, second: _Model,
                notes: list[tuple[str, str]]) -> pd.DataFrame:
        """The canary share of the rows answered by ``second``, the rest by ``first``."""
        import numpy as np
        import pandas as pd

        mask = canary_mask(data.index, self.params.canary_percent)
        parts: list[tuple[np.ndarray, pd.DataFrame]] = []
        for positions, (main, other) in ((np.flatnonzero(~mask), (first, second)),
                                         (np.flatnonzero(mask), (second, first))):
            if len(positions):
                out, _answered = self._answered(data.iloc[positions], main, other, notes)
                parts.append((positions, out))
        if len(parts) == 1:
            return parts[0][1]
        if not parts:
            return self._scored(data, first)  # no rows: the champion's empty frame
        # concat keeps the attrs (the task ml.predict recorded) when both parts share them
        joined = pd.concat([out for _p, out in parts])
        order = np.argsort(np.concatenate([p for p, _out in parts]), kind="stable")
        result: pd.DataFrame = joined.iloc[order]
        return result
