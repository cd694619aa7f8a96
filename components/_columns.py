"""How the components' output columns follow from their params and inputs, for validation.

Each function here is a ``columns=`` declaration (see ``runtime._schema``): it gives the
columns of each output that can be known before a run, and None for any it cannot. They
are quick and import nothing heavy, except the file readers, which read only a header.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runtime import Columns
from runtime import added_columns as added

_IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
_WINE = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
         "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
         "od280/od315_of_diluted_wines", "proline"]
_CANCER_PARTS = ["radius", "texture", "perimeter", "area", "smoothness", "compactness",
                 "concavity", "concave points", "symmetry", "fractal dimension"]
_CANCER = [*(f"mean {p}" for p in _CANCER_PARTS), *(f"{p} error" for p in _CANCER_PARTS),
           *(f"worst {p}" for p in _CANCER_PARTS)]
_DIABETES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
_DIGITS = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
BUNDLED_COLUMNS: dict[str, list[str]] = {
    "iris": [*_IRIS, "target"],
    "wine": [*_WINE, "target"],
    "breast_cancer": [*_CANCER, "target"],
    "diabetes": [*_DIABETES, "target"],
    "digits": [*_DIGITS, "target"],
    "linnerud": ["Chins", "Situps", "Jumps", "Weight", "Waist", "Pulse"],
}
"""The columns of ``load_<name>(as_frame=True).frame``, so validation need not load them."""


def dataset_columns(params: Any, _inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``dataset.load``: a bundled set's fixed columns, or what a generator is asked for."""
    if params.name in BUNDLED_COLUMNS:
        return {"data": list(BUNDLED_COLUMNS[params.name])}
    classification = params.name == "make_classification"
    features = params.n_features or (20 if classification else 100)
    targets = 1 if classification or params.n_targets is None else params.n_targets
    labels = ["target"] if targets == 1 else [f"target_{i}" for i in range(targets)]
    return {"data": [*(f"feature_{i}" for i in range(features)), *labels]}


def csv_columns(params: Any, _inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``csv.read``: the header line of the file, read as pandas reads it."""
    import pandas as pd

    if not Path(params.path).is_file():  # never a pipe or a device, which could block
        return {"data": None}
    header = pd.read_csv(params.path, nrows=0).columns
    return {"data": [str(c) for c in header] if all(isinstance(c, str) for c in header)
            else None}


def parquet_columns(params: Any, _inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``parquet.read``: the columns in the file's schema; unknown if it stores named ids."""
    import pyarrow.parquet as pq

    if not Path(params.path).is_file():
        return {"data": None}
    schema = pq.read_schema(params.path)
    try:
        meta = json.loads((schema.metadata or {})[b"pandas"])
    except (KeyError, ValueError):
        meta = {}
    if any(isinstance(c, str) for c in meta.get("index_columns") or []) or \
            len(meta.get("column_indexes") or []) > 1:
        return {"data": None}  # named row ids, or several column levels: not plain columns
    return {"data": list(schema.names)}


def select_columns(params: Any, _inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``frame.select``: the columns chosen, in that order."""
    return {"data": list(params.columns)}


def assign_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``frame.assign``: the input's columns, then the new ones."""
    return {"data": added(inputs.get("data"), list(params.columns))}


def rename_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``frame.rename``: the input's columns under their new names."""
    columns = inputs.get("data")
    if columns is None:
        return {"data": None}
    return {"data": [params.columns.get(c, c) for c in columns]}


def join_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``frame.join``: pandas' merge columns, shared non-key columns with their suffixes."""
    left, right = inputs.get("left"), inputs.get("right")
    if left is None or right is None:
        return {"data": None}
    on = [params.on] if isinstance(params.on, str) else list(params.on)
    if any(key not in left or key not in right for key in on):
        return {"data": None}  # a key may be a row-id level, which is not known here
    shared = (set(left) & set(right)) - set(on)
    first, second = params.suffixes
    out = [f"{c}{first}" if c in shared else c for c in left]
    out += [f"{c}{second}" if c in shared else c for c in right if c not in on]
    return {"data": out if len(set(out)) == len(out) else None}


def groupby_columns(params: Any, _inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``frame.groupby``: with ``as_index`` false, the keys then the aggregates.

    With ``as_index`` the keys become named row ids, which later params may name; the
    columns are then left unknown, so that naming a key is never taken for a mistake.
    """
    if params.as_index:
        return {"data": None}
    keys = [params.by] if isinstance(params.by, str) else list(params.by)
    out = [*keys, *params.aggregations]
    return {"data": out if len(set(out)) == len(out) else None}


def route_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``frame.route``: every output has the input's columns."""
    return dict.fromkeys([*params.routes, "otherwise"], inputs.get("data"))


def predict_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    """``ml.predict``: the input and the prediction column; unknown with probabilities."""
    if params.probabilities:
        return {"data": None}  # one column per class, known only from the fitted model
    return {"data": added(inputs.get("data"), [params.column])}
