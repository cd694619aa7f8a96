"""Small, JSON-able previews of message values, for edge labels, inspectors and terminals."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from typing import Any

MAX_TEXT = 200
HEAD_ROWS = 5
MAX_COLUMNS = 20


def loaded_type(module: str, name: str) -> Any:
    """A class from a module only if that module is already imported, else None.

    Nothing is imported here. A module that another thread is still importing may lack
    the class yet; that counts as not loaded (no value can be of that class yet).
    """
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _is_dataframe(value: Any) -> bool:
    frame = loaded_type("pandas", "DataFrame")
    return frame is not None and isinstance(value, frame)


def _is_ndarray(value: Any) -> bool:
    array = loaded_type("numpy", "ndarray")
    return array is not None and isinstance(value, array)


def is_model(value: Any) -> bool:
    """Say whether a value is a model: a fitted or unfitted estimator (not its class).

    This is the one definition the runtime uses: previews show it as a model, recordings
    store it as skops, and run comparisons compare its params.
    """
    return (not isinstance(value, type) and callable(getattr(value, "get_params", None))
            and callable(getattr(value, "fit", None)))


def is_chart(value: Any) -> bool:
    """Say whether a value is a Chart: ``{"kind": "chart", "svg": "<svg…>", ...}``."""
    return (isinstance(value, dict) and value.get("kind") == "chart"
            and isinstance(value.get("svg"), str))


def _chart_preview(value: dict[str, Any]) -> dict[str, Any]:
    """A chart's preview keeps its whole SVG, so that a host can show it as it is."""
    chart, title = str(value.get("chart", "")), str(value.get("title", ""))
    info = {"kind": "chart", "summary": summary(value), "chart": chart, "title": title,
            "svg": value["svg"]}
    if isinstance(value.get("path"), str):
        info["path"] = value["path"]
    return info


def rows_of(value: Any) -> int | None:
    """Return the number of rows of a DataFrame value, or None for anything else."""
    return len(value) if _is_dataframe(value) else None


def _truncate(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def jsonable(value: Any, depth: int = 0) -> Any:
    """Turn a value into plain JSON types, truncating what is large or deep."""
    if value is None or isinstance(value, bool | int | str):
        return _truncate(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth > 3:
        return _truncate(repr(value), 60)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), depth + 1)
    if isinstance(value, dict):
        items = list(value.items())[:50]
        return {str(k): jsonable(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in list(value)[:50]]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return jsonable(item(), depth + 1)
    return _truncate(repr(value))


def summary(value: Any) -> str:
    """A few words for an edge label: ``150×5 DataFrame``, ``LogisticRegression``, ``42``."""
    if _is_dataframe(value):
        rows, cols = value.shape
        return f"{rows}×{cols} DataFrame"
    if _is_ndarray(value):
        return f"{'×'.join(str(n) for n in value.shape)} {value.dtype} array"
    if is_model(value):
        return type(value).__name__
    if is_chart(value):
        what = str(value.get("chart") or "chart").replace("_", " ")
        title = str(value.get("title") or "")
        return _truncate(f"{what} chart" + (f": {title}" if title else ""), 60)
    if isinstance(value, dict):
        parts = [f"{k}={_short(v)}" for k, v in list(value.items())[:3]]
        return _truncate("{" + ", ".join(parts) + ("…" if len(value) > 3 else "") + "}", 60)
    return _truncate(repr(value), 40)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return _truncate(repr(value), 20)


def preview(value: Any) -> dict[str, Any]:
    """Describe a value in a small JSON-able dict; ``kind`` says which form it took.

    It never raises: a value that cannot be described otherwise gets a text preview.
    """
    try:
        return _preview(value)
    except Exception:  # noqa: BLE001 - a preview must never break a run or a tap
        return {"kind": "text", "summary": type(value).__name__,
                "value": _truncate(object.__repr__(value))}


def _preview(value: Any) -> dict[str, Any]:
    if _is_dataframe(value):
        head = value.head(HEAD_ROWS).iloc[:, :MAX_COLUMNS]
        return {
            "kind": "dataframe",
            "summary": summary(value),
            "shape": list(value.shape),
            "dtypes": {str(c): str(t) for c, t in list(value.dtypes.items())[:MAX_COLUMNS]},
            "index": [jsonable(i) for i in head.index],
            "head": json.loads(head.to_json(orient="values", date_format="iso",
                                            default_handler=str)),
            "columns": [str(c) for c in head.columns],
        }
    if _is_ndarray(value):
        return {"kind": "ndarray", "summary": summary(value), "shape": list(value.shape),
                "dtype": str(value.dtype)}
    if is_model(value):
        features = getattr(value, "feature_names_in_", None)
        return {
            "kind": "model",
            "summary": summary(value),
            "class": f"{type(value).__module__}.{type(value).__qualname__}",
            "params": jsonable(value.get_params(deep=False)),
            "features": [str(f) for f in features] if features is not None else None,
        }
    if is_chart(value):
        return _chart_preview(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"kind": type(value).__name__.lower(), "summary": _truncate(str(value), 80),
                "value": jsonable(value)}
    if isinstance(value, dict | list | tuple):
        return {"kind": type(value).__name__, "summary": summary(value), "value": jsonable(value)}
    return {"kind": "text", "summary": summary(value), "value": _truncate(repr(value))}


DETAIL_ROWS = 50
PLOT_POINTS = 500


def detail(value: Any) -> dict[str, Any]:
    """A fuller, still bounded, JSON-able view of a value, for an inspector.

    DataFrames add more rows, summary statistics and the numeric columns' values (for a
    plot); everything else is its preview.
    """
    info = preview(value)
    if info["kind"] == "model":
        weights = importance(value)
        if weights is not None:
            info["importance"] = weights
        return info
    if info["kind"] != "dataframe":
        return info
    head = value.head(DETAIL_ROWS).iloc[:, :MAX_COLUMNS]
    info["index"] = [jsonable(i) for i in head.index]
    info["head"] = json.loads(head.to_json(orient="values", date_format="iso",
                                           default_handler=str))
    info["columns"] = [str(c) for c in head.columns]
    numeric = value.select_dtypes("number").iloc[:, :MAX_COLUMNS]
    if not numeric.empty:
        stats = numeric.describe().transpose()
        info["stats"] = {
            "columns": ["column", *[str(c) for c in stats.columns]],
            "rows": [[str(name), *[jsonable(float(v)) for v in row]]
                     for name, row in stats.iterrows()],
        }
        sample = numeric.head(PLOT_POINTS)
        info["numeric"] = {str(c): [jsonable(float(v)) for v in sample[c]] for c in sample}
    info["distribution"] = distributions(value.iloc[:, :MAX_COLUMNS])
    return info


HIST_BINS = 20
TOP_CATEGORIES = 20


def distributions(frame: Any) -> dict[str, dict[str, Any]]:
    """Each column's distribution over every row: a histogram, or counts of its top values.

    A numeric (not boolean) column gives ``{"kind": "hist", "edges", "counts"}`` from
    ``numpy.histogram``; any other column gives ``{"kind": "counts", "labels", "counts",
    "other"}``, its most frequent values and how many rows hold the rest. Missing values
    are left out and counted in ``missing``.
    """
    import numpy as np
    import pandas as pd

    out: dict[str, dict[str, Any]] = {}
    for name in frame.columns:
        column = frame[name]
        present = column.dropna()
        missing = int(len(column) - len(present))
        numeric = (pd.api.types.is_numeric_dtype(column)
                   and not pd.api.types.is_bool_dtype(column))
        if numeric:
            values = present.to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            bins = max(1, min(HIST_BINS, len(np.unique(values))))
            counts, edges = np.histogram(values, bins=bins)
            out[str(name)] = {"kind": "hist", "edges": [float(e) for e in edges],
                              "counts": [int(c) for c in counts], "missing": missing}
        else:
            top = present.astype(str).value_counts()
            shown = top.head(TOP_CATEGORIES)
            out[str(name)] = {"kind": "counts", "labels": [str(k) for k in shown.index],
                              "counts": [int(c) for c in shown],
                              "other": int(top.iloc[TOP_CATEGORIES:].sum()), "missing": missing}
    return out


TOP_FEATURES = 30


def importance(model: Any) -> dict[str, Any] | None:
    """A fitted model's feature importances or coefficients, by feature, largest first.

    Reads ``feature_importances_``, else ``coef_`` (of a pipeline's last step, named by the
    steps before it when they can name their output). Coefficients of several classes or
    targets are shown as their mean absolute value. None when the model has neither, or
    the names and weights do not match.
    """
    import numpy as np

    final, names = model, getattr(model, "feature_names_in_", None)
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        final = steps[-1][1]
        try:
            names = model[:-1].get_feature_names_out()
        except Exception:  # noqa: BLE001 - a step that cannot name its output: use the last's
            names = getattr(final, "feature_names_in_", None)
    weights = getattr(final, "feature_importances_", None)
    kind, what = "importances", "feature importance"
    if weights is None:
        coef = getattr(final, "coef_", None)
        if coef is None:
            return None
        weights = np.asarray(coef, dtype=float)
        kind, what = "coefficients", "coefficient"
        if weights.ndim == 2 and weights.shape[0] > 1:  # noqa: PLR2004 - classes × features
            weights, what = np.abs(weights).mean(axis=0), "mean |coefficient| over classes"
    weights = np.asarray(weights, dtype=float).ravel()
    if names is None:
        names = [f"x{i}" for i in range(len(weights))]
    if len(names) != len(weights):
        return None
    order = np.argsort(-np.abs(weights), kind="stable")[:TOP_FEATURES]
    return {"kind": kind, "label": what, "features": [str(names[i]) for i in order],
            "values": [jsonable(float(weights[i])) for i in order]}
