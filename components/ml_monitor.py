"""The ``ml`` family's monitoring: input drift per window, and prequential scoring by model."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from components._drift_stats import compared_columns, drift_row, plain_value
from components._frame_helpers import input_frame
from components._label_join import LabelJoin, ModelState, Prediction
from components._model_label import MODEL_COLUMN, MODEL_MESSAGE_COLUMN
from components._monitor_params import DriftParams, MonitorParams
from components._scoring import PROBA_PREFIX, TASK_ATTR, score_frame, task_of
from components.ml_eval import one_line
from runtime import (
    CONTEXT_TAG,
    NEW_ROWS_TAG,
    UNPAIRED_TAG,
    MadeFrom,
    call_context,
    component,
    latest,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

Window = tuple[str, int, list[Prediction], int, str | None]
"""A model's window to score: model, window number, rows, unlabelled so far, recorded task."""
CLASSIFIER_METRICS = ["accuracy", "f1_macro"]
REGRESSOR_METRICS = ["r2", "mae"]


def _one_row(row: dict[str, Any], window: int) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([row], index=pd.Index([window], name="window_id"))


@component("ml.drift",
           inputs={"data": "DataFrame",
                   "reference": latest("DataFrame", "The reference rows: the training "
                                       "data, or a window of it.")},
           outputs={"report": "DataFrame"}, params=DriftParams,
           tags=[NEW_ROWS_TAG, CONTEXT_TAG],
           column_params={"data": ["columns"], "reference": ["columns"]})
class Drift:
    """Compare each window of incoming rows with the reference; emit one report per window.

    Numeric columns get the PSI (``bins`` quantile bins of the reference) and the
    two-sample KS statistic, exactly as ``edgewise diff`` computes them; other columns get
    a categorical PSI (the reference's categories, plus an "other" bucket for unseen
    values; an empty bucket counts as a share of 1e-6, as in the numeric PSI). Missing
    values are dropped first. Each ``report`` row has ``window``, ``rows``, ``first_row``
    and ``last_row`` (row ids), ``psi:<column>``, ``ks:<column>`` (numeric columns),
    ``drifted`` (the drifted columns, comma-separated), ``drift`` and ``warned`` (columns
    past ``psi_warn`` but not drifted). The rows left at the end make a last, shorter
    window (see its ``rows``). A report is made from every data message with rows in its
    window, and from the reference message: ``trace`` walks back to all of them.
    """

    def __init__(self, params: DriftParams) -> None:
        self.params = params
        self.parts: list[pd.DataFrame] = []
        self.buffered = 0
        self.window = 0
        self.reference: pd.DataFrame | None = None
        self.reference_message = 0
        # [message id, rows of it still buffered] of each data message in parts, oldest first
        self.held: deque[list[int]] = deque()

    def __call__(self, data: pd.DataFrame, reference: pd.DataFrame) -> Iterator[MadeFrom]:
        """Add one frame of rows; report every window it completes."""
        import pandas as pd

        data = input_frame(data, "ml.drift", "data", what="the rows to check")
        self.reference = input_frame(reference, "ml.drift", "reference",
                                     what="the training rows")
        where = call_context()
        ids = where.inputs if where is not None else {}
        self.reference_message = ids.get("reference", 0)
        self.parts.append(data)
        self.buffered += len(data)
        if len(data):
            self.held.append([ids.get("data", 0), len(data)])
        size = self.params.window_rows
        windows: list[tuple[int, pd.DataFrame, list[int]]] = []
        if self.buffered >= size:
            rows = pd.concat(self.parts) if len(self.parts) > 1 else self.parts[0]
            cut = 0
            while len(rows) - cut >= size:
                windows.append((self.window, rows.iloc[cut:cut + size], self._taken(size)))
                self.window += 1
                cut += size
            self.parts = [rows.iloc[cut:]] if cut < len(rows) else []
            self.buffered = len(rows) - cut
        # reported lazily: a window that fails is an error record, those before it are out
        return (self._report(*window) for window in windows)

    def _taken(self, count: int) -> list[int]:
        """The messages of the next ``count`` buffered rows, and the reference's message."""
        made_from = [self.reference_message]
        while count > 0 and self.held:
            held = self.held[0]
            made_from.append(held[0])
            used = min(count, held[1])
            held[1] -= used
            count -= used
            if held[1] == 0:
                self.held.popleft()
        return made_from

    def _report(self, window: int, rows: pd.DataFrame, made_from: list[int]) -> MadeFrom:
        assert self.reference is not None  # noqa: S101 - set by every call
        p = self.params
        columns = compared_columns(rows, self.reference, p.columns, p.exclude)
        stats = drift_row(rows, self.reference, columns, bins=p.bins,
                          psi_threshold=p.psi_threshold, psi_warn=p.psi_warn,
                          ks_threshold=p.ks_threshold)
        row = {"window": window, "rows": len(rows), "first_row": plain_value(rows.index[0]),
               "last_row": plain_value(rows.index[-1]), **stats}
        return MadeFrom(_one_row(row, window), tuple(sorted(set(made_from) - {0})))

    def end(self) -> MadeFrom | None:
        """Report the last, shorter window, if rows are left."""
        if not self.buffered or self.reference is None:
            return None
        import pandas as pd

        rows = pd.concat(self.parts) if len(self.parts) > 1 else self.parts[0]
        made_from = self._taken(self.buffered)
        self.parts, self.buffered = [], 0
        self.window += 1
        return self._report(self.window - 1, rows, made_from)


@component("ml.monitor",
           inputs={"predictions": "DataFrame", "labels": "DataFrame"},
           outputs={"metrics": "DataFrame"}, params=MonitorParams,
           tags=[NEW_ROWS_TAG, UNPAIRED_TAG, CONTEXT_TAG],
           column_params={"predictions": ["prediction", "key"], "labels": ["target", "key"]})
class Monitor:
    """Score each model's predictions as their labels arrive, window by window.

    Predictions (with the ``model`` and ``model_message`` columns a scorer writes; several
    edges may feed them, as the champion's and challenger's in shadow mode) and labels
    arrive independently; a label joins the predictions of every model for the same row id
    (or ``key``). Every ``window_rows`` joined rows of a model make one ``metrics`` row:
    ``window``, ``model``, ``model_message``, ``rows``, ``unlabelled`` (predictions given
    up on so far), ``first_row``, ``last_row``, then one column per metric, each exactly
    what ml.score gives on the window's rows. Memory is bounded by ``max_wait_rows``. At
    the end, the predictions still waiting count as unlabelled, and each model's last,
    shorter window is emitted when it has rows.
    """

    def __init__(self, params: MonitorParams) -> None:
        self.params = params
        self.join = LabelJoin(params.max_wait_rows)

    def __call__(self, predictions: pd.DataFrame | None,
                 labels: pd.DataFrame | None) -> Iterator[MadeFrom]:
        """Take one frame of predictions or of labels; emit the windows it completes."""
        where = call_context()
        source = where.inputs.get("predictions" if predictions is not None else "labels", 0) \
            if where is not None else 0
        joined = (self._predicted(predictions, source) if predictions is not None
                  else self._labelled(labels, source))
        windows = []
        for one in joined:
            state = self.join.model(one.model)
            state.window.append(one)
            if len(state.window) >= self.params.window_rows:
                windows.append(self._cut(one.model, state))
        # reported lazily: a window that fails is an error record, those before it are out
        return (self._report(*window) for window in windows)

    def _keys(self, frame: pd.DataFrame, port: str) -> list[Any]:
        key = self.params.key
        if key is None:
            return list(frame.index)
        input_frame(frame, "ml.monitor", port, [key],
                    fix="set 'key' to a column both inputs have, or leave it empty to join "
                        "on the row ids")
        return list(frame[key])

    def _predicted(self, frame: Any, source: int) -> list[Prediction]:
        frame = input_frame(
            frame, "ml.monitor", "predictions",
            [self.params.prediction, MODEL_COLUMN, MODEL_MESSAGE_COLUMN],
            what="a scorer's output rows",
            fix=f"ml.monitor needs the prediction column '{self.params.prediction}' (set "
                "'prediction') and the 'model' and 'model_message' columns that ml.serve "
                "writes")
        task = frame.attrs.get(TASK_ATTR)
        columns = (self.params.prediction, *[c for c in frame.columns
                                             if isinstance(c, str) and c.startswith(PROBA_PREFIX)])
        keys = self._keys(frame, "predictions")
        joined: list[Prediction] = []
        for key, row, model, message, values in zip(
                keys, frame.index, frame[MODEL_COLUMN].astype(str),
                frame[MODEL_MESSAGE_COLUMN], frame[list(columns)].itertuples(index=False),
                strict=True):
            state = self.join.model(model)
            if state.task is None and task is not None:
                state.task = str(task)
            one = Prediction(plain_value(row), model, int(message), columns, tuple(values),
                             source=source)
            joined.extend(self.join.predicted(key, one))
        return joined

    def _labelled(self, frame: Any, source: int) -> list[Prediction]:
        frame = input_frame(frame, "ml.monitor", "labels", [self.params.target],
                            what="rows with the true labels",
                            fix="set 'target' to the labels' column")
        labels = frame[self.params.target]
        joined: list[Prediction] = []
        for key, label, missing in zip(self._keys(frame, "labels"), labels, labels.isna(),
                                       strict=True):
            if not missing:  # a row whose label is missing has no label yet
                joined.extend(self.join.labelled(key, label, source))
        return joined

    @staticmethod
    def _cut(model: str, state: ModelState) -> Window:
        """Take a model's window of joined rows, with its number and the count so far."""
        rows, state.window = state.window, []
        state.windows += 1
        return model, state.windows - 1, rows, state.unlabelled, state.task

    def _report(self, model: str, window: int, rows: list[Prediction], unlabelled: int,
                recorded: str | None) -> MadeFrom:
        import pandas as pd

        p = self.params
        frame = pd.DataFrame([dict(zip(r.columns, r.values, strict=True)) for r in rows],
                             index=[r.row for r in rows])
        frame[p.target] = [r.label for r in rows]
        if recorded is not None:
            frame.attrs[TASK_ATTR] = recorded
        task = task_of(frame, p.target, p.prediction, p.task)
        names = p.metrics or (CLASSIFIER_METRICS if task == "classification"
                              else REGRESSOR_METRICS)
        try:
            scores = score_frame(frame, p.target, p.prediction, names, task)
        except Exception as exc:  # noqa: BLE001 - a scorer of the user's settings
            msg = (f"scoring window {window} of model '{model}' ({len(rows)} rows, rows "
                   f"{rows[0].row} to {rows[-1].row}) as a {task} failed: {one_line(exc)}; "
                   "check 'metrics' (and 'task') against what the model predicts")
            raise ValueError(msg) from exc
        row = {"window": window, "model": model, "model_message": rows[-1].message,
               "rows": len(rows), "unlabelled": unlabelled,
               "first_row": rows[0].row, "last_row": rows[-1].row, **scores}
        # made from every prediction and label message of the window: trace walks them all
        made_from = {r.source for r in rows} | {r.label_source for r in rows}
        return MadeFrom(_one_row(row, window), tuple(made_from - {0}))

    def end(self) -> Iterator[MadeFrom]:
        """Give up on the predictions still waiting; emit each model's last, shorter window."""
        self.join.give_up()
        windows = [self._cut(model, state) for model, state in self.join.models.items()
                   if state.window]
        for window in windows:
            yield self._report(*window)
