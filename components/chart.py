"""The ``chart`` family: pandas plots and scikit-learn evaluation charts, drawn with matplotlib.

Each component emits a ``Chart``: a plain dict ``{"kind": "chart", "chart": ..., "title":
..., "svg": ...}`` that a run record keeps as JSON and an editor shows as it is. Given a
``path``, the chart is also written there as a PNG file, for headless runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from components._chart_render import CHART_TYPE, draw
from components._estimators import problem, suggest
from components._scoring import PROBA_PREFIX, proba_columns
from runtime import Params, component, output_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

PlotKind = Literal["line", "scatter", "bar", "hist", "box"]


def _need(data: pd.DataFrame, column: str, what: str) -> None:
    """Raise LookupError naming ``column``, the closest and every column there is, if missing."""
    if column not in data.columns:
        names = [str(c) for c in data.columns]
        msg = (f"{what} column '{column}' is not in the data{suggest(column, names)}; "
               f"columns: {', '.join(names)}")
        raise LookupError(msg)


def _path_field() -> Any:
    return output_path("A PNG file to write the chart to, relative to the flow file's folder "
                       "(replaced whole, or left as it was if drawing fails); empty for none.",
                       default="")


def _title_field() -> Any:
    return Field(default="", description="The chart's title; empty for one made from the "
                                         "chart's kind and columns.")


class PlotParams(Params):
    """Settings of ``chart.plot``."""

    kind: PlotKind = Field(default="line",
                           description="The kind of plot, as pandas' DataFrame.plot names it: "
                                       "line, scatter, bar, hist or box.")
    x: str | None = Field(default=None, validate_default=True,
                          description="The column along the x axis (line, bar, scatter); "
                                      "empty for the row ids.")
    y: str | list[str] | None = Field(
        default=None, validate_default=True,
        description="The column, or columns, to plot; empty for every numeric column "
                    "(scatter needs exactly one).")
    title: str = _title_field()
    bins: int | None = Field(default=None, ge=1,
                             description="Number of bins of a histogram (hist only); "
                                         "empty for pandas' 10.")
    path: str = _path_field()

    @field_validator("x")
    @classmethod
    def _x_fits_kind(cls, x: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if x is not None and kind in ("hist", "box"):
            text = (f"a {kind} plot has no 'x' column (it shows the distribution of 'y'); "
                    "remove 'x'")
            raise problem(text)
        if x is None and kind == "scatter":
            text = "a scatter plot needs one 'x' column (and one 'y' column); set it"
            raise problem(text)
        return x

    @field_validator("y")
    @classmethod
    def _y_fits_kind(cls, y: str | list[str] | None,
                     info: ValidationInfo) -> str | list[str] | None:
        if info.data.get("kind") == "scatter" and not isinstance(y, str):
            text = "a scatter plot needs one 'y' column (and one 'x' column); set it"
            raise problem(text)
        if isinstance(y, list) and not y:
            text = "'y' is an empty list; name a column, or leave 'y' empty for every one"
            raise problem(text)
        return y

    @field_validator("bins")
    @classmethod
    def _bins_fit_kind(cls, bins: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        if bins is not None and kind not in (None, "hist"):
            text = f"'bins' applies to a hist, not a {kind} plot; remove it or set kind: hist"
            raise problem(text)
        return bins

    def columns(self) -> list[str]:
        """The y columns asked for, as a list (empty for every numeric column)."""
        if self.y is None:
            return []
        return [self.y] if isinstance(self.y, str) else list(self.y)


@component("chart.plot", inputs={"data": "DataFrame"}, outputs={"chart": CHART_TYPE},
           params=PlotParams, threaded=True)
def plot(data: pd.DataFrame, *, params: PlotParams) -> dict[str, Any]:
    """Plot columns with pandas' DataFrame.plot (line, scatter, bar, hist or box).

    The chart is exactly what ``data.plot(kind=..., x=..., y=..., bins=...)`` draws.
    ``hist`` and ``box`` show the distribution of each ``y`` column.
    """
    columns = params.columns()
    if params.x is not None:
        _need(data, params.x, "x")
    for column in columns:
        _need(data, column, "y")
    options: dict[str, Any] = {"kind": params.kind, "legend": params.kind != "scatter"}
    if params.x is not None:
        options["x"] = params.x
    if params.kind in ("hist", "box"):
        frame = data[columns] if columns else data
    else:
        frame = data
        if columns:
            options["y"] = columns[0] if params.kind == "scatter" else columns
    if params.bins is not None:
        options["bins"] = params.bins
    title = params.title or f"{params.kind}: {', '.join(columns) or 'every numeric column'}"

    def drawn(axes: Axes) -> None:
        frame.plot(ax=axes, **options)

    return draw(params.kind, title, drawn, params.path)


class ConfusionParams(Params):
    """Settings of ``chart.confusion_matrix``."""

    target: str = Field(description="The column with the true labels.")
    prediction: str = Field(default="prediction", description="The column with predictions.")
    normalize: Literal["true", "pred", "all"] | None = Field(
        default=None,
        description="Show fractions over the true labels (rows), the predictions (columns) "
                    "or all rows, as scikit-learn's normalize; empty for counts.")
    title: str = _title_field()
    path: str = _path_field()


@component("chart.confusion_matrix", inputs={"data": "DataFrame"},
           outputs={"chart": CHART_TYPE}, params=ConfusionParams, threaded=True)
def confusion_matrix(data: pd.DataFrame, *, params: ConfusionParams) -> dict[str, Any]:
    """Draw the confusion matrix with scikit-learn's ConfusionMatrixDisplay.from_predictions.

    Rows are the true labels and columns the predicted ones, as in
    sklearn.metrics.confusion_matrix.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    _need(data, params.target, "target")
    _need(data, params.prediction, "prediction")

    def drawn(axes: Axes) -> None:
        ConfusionMatrixDisplay.from_predictions(
            data[params.target], data[params.prediction], normalize=params.normalize,
            ax=axes, colorbar=True)

    return draw("confusion_matrix", params.title or f"confusion matrix: {params.target}",
                drawn, params.path)


class RocParams(Params):
    """Settings of ``chart.roc``."""

    target: str = Field(description="The column with the true labels.")
    pos_label: str | int | float | bool | None = Field(
        default=None,
        description="The class whose curve is drawn, against the rest; empty for the greater "
                    "class of two, or a curve for each class (one-vs-rest) when there are "
                    "more.")
    title: str = _title_field()
    path: str = _path_field()


def _roc_curves(data: pd.DataFrame, params: RocParams) -> list[tuple[Any, str]]:
    """The (class, probability column) of each curve to draw."""
    from sklearn.utils.multiclass import unique_labels

    _need(data, params.target, "target")
    labels = list(unique_labels(data[params.target]))
    columns, classes = proba_columns(data, labels)
    if not columns:
        msg = (f"chart.roc needs the '{PROBA_PREFIX}<class>' columns of class probabilities, "
               "and the data has none: set probabilities: true on the ml.predict node")
        raise LookupError(msg)
    pairs = list(zip(classes, columns, strict=True))
    if params.pos_label is not None:
        chosen = [(c, col) for c, col in pairs if str(c) == str(params.pos_label)]
        if not chosen:
            msg = (f"pos_label '{params.pos_label}' has no '{PROBA_PREFIX}"
                   f"{params.pos_label}' column; the classes with probabilities are "
                   f"{', '.join(map(str, classes))}")
            raise LookupError(msg)
        return chosen
    if len(pairs) == 2:  # noqa: PLR2004 - a binary problem: the greater class, as sklearn does
        return [pairs[1]]
    return pairs


@component("chart.roc", inputs={"data": "DataFrame"}, outputs={"chart": CHART_TYPE},
           params=RocParams, threaded=True)
def roc(data: pd.DataFrame, *, params: RocParams) -> dict[str, Any]:
    """Draw ROC curves with scikit-learn's RocCurveDisplay.from_predictions.

    Reads the ``proba_<class>`` columns that ml.predict adds with ``probabilities: true``.
    With two classes, one curve, for the greater class (or ``pos_label``); with more, a
    curve for each class against the rest (one-vs-rest), with its AUC in the legend.
    """
    from sklearn.metrics import RocCurveDisplay

    curves = _roc_curves(data, params)
    truth = data[params.target]
    several = len(curves) > 1

    def drawn(axes: Axes) -> None:
        for index, (label, column) in enumerate(curves):
            name = f"{label} vs rest" if several else str(label)
            RocCurveDisplay.from_predictions(
                (truth == label).to_numpy(), data[column].to_numpy(dtype=float),
                pos_label=True, name=name, ax=axes,
                plot_chance_level=index == len(curves) - 1)

    return draw("roc", params.title or f"ROC: {params.target}", drawn, params.path)
