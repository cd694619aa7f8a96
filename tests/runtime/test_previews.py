"""Previews and summaries: small, JSON-able descriptions of message values."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from runtime import ErrorRecord, preview, summary


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3, 4, 5, 6, 7], "b": list("abcdefg"),
                         "c": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]},
                        index=range(100, 107))


def test_dataframe_preview_has_shape_dtypes_and_first_rows(frame: pd.DataFrame) -> None:
    p = preview(frame)
    assert p["kind"] == "dataframe"
    assert p["shape"] == [7, 3]
    assert set(p["dtypes"]) == {"a", "b", "c"}
    assert p["dtypes"]["a"] == "int64" and p["dtypes"]["c"] == "float64"
    assert p["columns"] == ["a", "b", "c"]
    assert p["index"] == [100, 101, 102, 103, 104]  # the row ids of the first rows
    assert p["head"] == [[1, "a", 0.5], [2, "b", 1.5], [3, "c", 2.5], [4, "d", 3.5],
                         [5, "e", 4.5]]
    assert p["summary"] == summary(frame) == "7×3 DataFrame"


def test_dataframe_preview_stays_small_for_big_and_wide_frames() -> None:
    wide = pd.DataFrame(np.arange(50_000 * 40).reshape(50_000, 40),
                        columns=[f"col{i}" for i in range(40)])
    p = preview(wide)
    assert p["shape"] == [50_000, 40]
    assert len(p["head"]) <= 5
    assert all(len(row) <= 20 for row in p["head"])
    assert len(p["columns"]) <= 20 and len(p["dtypes"]) <= 20
    assert len(json.dumps(p)) < 5_000


def test_dataframe_preview_handles_missing_values_and_odd_columns() -> None:
    odd = pd.DataFrame({0: [np.nan, 1.0], "cat": pd.Categorical(["x", "y"]),
                        "obj": [{"k": 1}, None]})
    p = preview(odd)
    assert p["columns"] == ["0", "cat", "obj"]
    assert p["head"][1][1:] == ["y", None]
    assert p["head"][0][0] is None
    json.dumps(p)


def test_dataframe_preview_shows_dates_as_dates() -> None:
    p = preview(pd.DataFrame({"when": pd.to_datetime(["2024-01-31 12:00"])}))
    shown = p["head"][0][0]
    assert isinstance(shown, str) and shown.startswith("2024-01-31"), shown


def test_empty_dataframe_preview() -> None:
    p = preview(pd.DataFrame({"a": pd.Series([], dtype="int64")}))
    assert p["shape"] == [0, 1]
    assert p["head"] == [] and p["index"] == []
    assert p["dtypes"] == {"a": "int64"}


def test_ndarray_preview_has_shape_and_dtype_only() -> None:
    array = np.zeros((300, 400), dtype=np.float32)
    p = preview(array)
    assert p["kind"] == "ndarray"
    assert p["shape"] == [300, 400]
    assert p["dtype"] == "float32"
    assert "300" in p["summary"] and "400" in p["summary"] and "float32" in p["summary"]
    assert len(json.dumps(p)) < 500


def test_fitted_estimator_preview_has_class_params_and_features(frame: pd.DataFrame) -> None:
    model = LogisticRegression(C=0.5, max_iter=200).fit(frame[["a", "c"]],
                                                         [0, 1, 0, 1, 0, 1, 0])
    p = preview(model)
    assert p["kind"] == "model"
    assert p["class"].startswith("sklearn.linear_model.")
    assert p["class"].endswith(".LogisticRegression")
    assert p["params"]["C"] == 0.5
    assert p["params"]["max_iter"] == 200
    assert p["features"] == ["a", "c"]
    assert p["summary"] == summary(model) == "LogisticRegression"
    json.dumps(p)


def test_estimator_fitted_without_feature_names_and_pipelines() -> None:
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    assert preview(model)["features"] is None
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    p = preview(pipe)
    assert p["kind"] == "model" and p["summary"] == "Pipeline"
    assert "steps" in p["params"]
    json.dumps(p)


def test_dict_preview_holds_json_values() -> None:
    metrics = {"accuracy": np.float64(0.9125), "rows": np.int64(40), "bad": float("nan"),
               "inf": float("inf"), "labels": [0, 1], 3: "int key"}
    p = preview(metrics)
    assert p["kind"] == "dict"
    assert p["value"]["accuracy"] == pytest.approx(0.9125)
    assert p["value"]["rows"] == 40
    assert p["value"]["bad"] == "nan" and p["value"]["inf"] == "inf"
    assert p["value"]["labels"] == [0, 1]
    assert p["value"]["3"] == "int key"
    assert summary(metrics).startswith("{accuracy=0.9125, rows=")
    assert summary(metrics).endswith("…}")  # only the first three keys
    json.dumps(p, allow_nan=False)


def test_list_and_tuple_previews() -> None:
    assert preview([1, "two", 3.0]) == {"kind": "list", "summary": "[1, 'two', 3.0]",
                                        "value": [1, "two", 3.0]}
    assert preview((1, 2))["value"] == [1, 2]
    assert preview((1, 2))["kind"] == "tuple"
    long_list = list(range(1_000))
    p = preview(long_list)
    assert len(p["value"]) <= 50
    assert len(p["summary"]) <= 40


def test_error_record_preview() -> None:
    record = ErrorRecord(node="fit", component="ml.fit", error="KeyError",
                         message="target column 'y' is not in the data", inputs=[4, 7])
    p = preview(record)
    assert p["value"] == {"node": "fit", "component": "ml.fit", "error": "KeyError",
                          "message": "target column 'y' is not in the data",
                          "inputs": [4, 7]}
    assert "fit" in p["summary"] and "KeyError" in p["summary"]
    assert p["kind"] == "errorrecord"
    json.dumps(p)


def test_long_strings_are_truncated() -> None:
    text = "x" * 10_000
    p = preview(text)
    assert p["kind"] == "text"
    assert len(p["value"]) <= 200 and p["value"].endswith("…")
    assert len(p["summary"]) <= 40 and summary(text).endswith("…")
    nested = preview({"text": text})
    assert len(nested["value"]["text"]) <= 200


def test_deep_and_big_containers_are_cut_short() -> None:
    deep: Any = 1
    for _ in range(20):
        deep = [deep]
    big = {f"k{i}": i for i in range(500)}
    assert len(json.dumps(preview(deep))) < 200
    assert len(preview(big)["value"]) <= 50


def test_other_values_get_a_truncated_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing(" + "y" * 500 + ")"

    p = preview(Thing())
    assert p["kind"] == "text"
    assert p["value"].startswith("Thing(yyy") and len(p["value"]) <= 200
    assert preview(42) == {"kind": "text", "summary": "42", "value": "42"}
    assert summary(None) == "None"


ODD_VALUES: dict[str, Any] = {
    "dataframe": pd.DataFrame({"a": [1]}),
    "ndarray": np.arange(3),
    "unfitted-estimator": LogisticRegression(),
    "dict-with-set": {"a": {1, 2}},
    "list-of-odd": [b"bytes", None, True],
    "error-record": ErrorRecord("n", "c", "E", "m"),
    "text": "text",
    "float": 1.5,
    "numpy-scalar": np.float32(2.5),
    "zero-d-array": np.array(3.0),
    "series": pd.Series([1, 2]),
    "object": object(),
    "estimator-class": LogisticRegression,
    "builtin-class": int,
}


@pytest.mark.parametrize("value", list(ODD_VALUES.values()), ids=list(ODD_VALUES))
def test_every_preview_is_json_and_never_raises(value: Any) -> None:
    p = preview(value)
    assert isinstance(p["kind"], str) and isinstance(p["summary"], str)
    json.loads(json.dumps(p))
    assert isinstance(summary(value), str)


def test_a_module_still_being_imported_is_treated_as_not_loaded(monkeypatch: Any) -> None:
    # Another thread may be importing pandas while a tap looks at a value: sys.modules then
    # holds a module without DataFrame yet. Previews must not fail on that.
    import sys
    import types

    monkeypatch.setitem(sys.modules, "pandas", types.ModuleType("pandas"))
    monkeypatch.setitem(sys.modules, "numpy", types.ModuleType("numpy"))
    info = preview(1795318228.5)
    assert info["summary"] == "1795318228.5"
