"""The ``parquet`` family: parquet.read and parquet.write, checked against pandas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from contract import contract_tests, one_node_flow
from test_sink_safety import good_file, write_with_size_limit

import runtime
from runtime.testing import run_component

FAMILY_MODULE = "components.parquet"
CONTRACT: dict[str, dict[str, Any]] = {
    "parquet.read": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": {"path"},
        "defaults": {"batch_rows": None},
    },
    "parquet.write": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {},
        "required": {"path"},
        "defaults": {},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


def mixed(rows: int = 23, start: int = 0) -> pd.DataFrame:
    """A frame of many column types, with nulls, and row ids that are not 0..n-1."""
    n = np.arange(start, start + rows)
    return pd.DataFrame({
        "i": n * 3,
        "f": np.where(n % 5 == 0, np.nan, n / 7),
        "s": [None if k % 4 == 0 else f"row {k}" for k in n],
        "b": n % 2 == 0,
        "t": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
        "c": pd.Categorical(["x", "y", "z"] * (rows // 3) + ["x"] * (rows % 3)),
    }, index=pd.Index(n * 10 + 5, name="id"))


# -- parquet.read -------------------------------------------------------------------------

def read(path: Path, batch_rows: int | None = None) -> list[pd.DataFrame]:
    params: dict[str, Any] = {"path": str(path)}
    if batch_rows is not None:
        params["batch_rows"] = batch_rows
    out = run_component("parquet.read", params=params)
    assert out.errors == []
    return out["data"]


@pytest.mark.parametrize("index", [None, True, False])
def test_read_whole_file_equals_pandas_read_parquet(tmp_path: Path, index: bool | None) -> None:
    path = tmp_path / "mixed.parquet"
    mixed().to_parquet(path, index=index)
    [frame] = read(path)
    pd.testing.assert_frame_equal(frame, pd.read_parquet(path), check_index_type=True)


@pytest.mark.parametrize("batch_rows", [1, 5, 23, 100])
@pytest.mark.parametrize("kind", ["pandas index", "range index", "no pandas metadata"])
def test_read_in_batches_is_the_whole_file_cut_into_pieces(tmp_path: Path, batch_rows: int,
                                                           kind: str) -> None:
    path = tmp_path / "mixed.parquet"
    data = mixed()
    if kind == "pandas index":
        data.to_parquet(path)
    elif kind == "range index":
        data.reset_index(drop=True).to_parquet(path)
    else:
        pq.write_table(pa.Table.from_pandas(data, preserve_index=False).replace_schema_metadata(),
                       path)
    batches = read(path, batch_rows)
    assert [len(b) for b in batches] == [min(batch_rows, 23 - k)
                                         for k in range(0, 23, batch_rows)]
    whole = pd.read_parquet(path)
    pd.testing.assert_frame_equal(pd.concat(batches), whole)
    ids = [i for b in batches for i in b.index]
    if kind == "pandas index":
        assert ids == list(data.index)
    else:
        assert ids == list(range(23))


def test_read_batches_keep_a_stepped_range_index(tmp_path: Path) -> None:
    path = tmp_path / "steps.parquet"
    data = pd.DataFrame({"a": range(10)}, index=pd.RangeIndex(100, 120, 2, name="k"))
    data.to_parquet(path)
    batches = read(path, 4)
    assert [list(b.index) for b in batches] == [[100, 102, 104, 106], [108, 110, 112, 114],
                                                [116, 118]]
    assert all(b.index.name == "k" for b in batches)
    pd.testing.assert_frame_equal(pd.concat(batches), pd.read_parquet(path))


def test_read_relative_path_resolves_against_the_flow_folder(tmp_path: Path) -> None:
    mixed().to_parquet(tmp_path / "m.parquet")
    out = run_component("parquet.read", params={"path": "m.parquet"}, base_dir=tmp_path)
    assert len(out["data"][0]) == 23


def test_read_missing_file_is_a_validation_problem(tmp_path: Path) -> None:
    problems = runtime.validate(one_node_flow("parquet.read", {"path": "nope.parquet"}),
                                base_dir=tmp_path)
    assert [(p.node, p.param) for p in problems] == [("n", "path")]
    assert "nope.parquet" in problems[0].message


@pytest.mark.parametrize(("params", "param"), [({"path": "a\x00b.parquet"}, "path"),
                                               ({"path": "m.parquet", "batch_rows": 0},
                                                "batch_rows")])
def test_read_bad_settings_are_validation_problems(tmp_path: Path, params: dict[str, Any],
                                                   param: str) -> None:
    mixed().to_parquet(tmp_path / "m.parquet")
    problems = runtime.validate(one_node_flow("parquet.read", params), base_dir=tmp_path)
    assert [p.param for p in problems] == [param]


def test_read_a_file_that_is_not_parquet_is_an_error_record(tmp_path: Path) -> None:
    path = tmp_path / "not.parquet"
    path.write_text("a,b\n1,2\n")
    out = run_component("parquet.read", params={"path": str(path)})
    assert out.result.status == "errors"
    [error] = out.errors
    assert error.component == "parquet.read"
    assert "Parquet" in error.message


# -- parquet.write ------------------------------------------------------------------------

def write(path: Path, frames: list[Any]) -> runtime.RunResult:
    return run_component("parquet.write", {"data": frames}, {"path": str(path)}).result


def test_write_then_pandas_reads_back_the_frame_with_its_row_ids(tmp_path: Path) -> None:
    data = mixed()
    path = tmp_path / "out.parquet"
    assert write(path, [data]).status == "ok"
    pd.testing.assert_frame_equal(pd.read_parquet(path), data)
    data.to_parquet(tmp_path / "pandas.parquet", index=True)
    pd.testing.assert_frame_equal(pd.read_parquet(path),
                                  pd.read_parquet(tmp_path / "pandas.parquet"))


def test_write_a_stream_is_the_concatenation_and_reads_back_in_batches(tmp_path: Path) -> None:
    chunks = [mixed(9, 0).drop(columns="c"), mixed(9, 9).drop(columns="c"),
              mixed(5, 18).drop(columns="c")]
    path = tmp_path / "out.parquet"
    assert write(path, chunks).status == "ok"
    expected = pd.concat(chunks)
    pd.testing.assert_frame_equal(pd.read_parquet(path), expected)
    pd.testing.assert_frame_equal(pd.concat(read(path, 4)), expected)
    assert pq.ParquetFile(path).num_row_groups == 3


def test_write_keeps_a_range_index_of_later_chunks(tmp_path: Path) -> None:
    whole = pd.DataFrame({"a": range(10), "s": list("abcdefghij")})
    path = tmp_path / "out.parquet"
    assert write(path, [whole.iloc[:4], whole.iloc[4:]]).status == "ok"
    pd.testing.assert_frame_equal(pd.read_parquet(path), whole, check_index_type=False)
    assert list(pd.read_parquet(path).index) == list(range(10))


def test_write_refuses_a_chunk_of_other_types_and_leaves_the_file_alone(
        tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"previous good file")
    good = pd.DataFrame({"x": [1, 2]})
    result = run_component("parquet.write",
                           {"data": [good, pd.DataFrame({"x": ["text"]}), good]},
                           {"path": str(path)})
    assert result.result.status == "errors"
    bad, later, at_end = result.errors
    assert "column types" in bad.message
    assert "earlier message failed" in later.message
    assert f"{path} was not written" in at_end.message
    assert path.read_bytes() == b"previous good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "out.parquet.partial"]


def test_write_refuses_a_chunk_with_other_columns(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    out = run_component("parquet.write", {"data": [pd.DataFrame({"x": [1]}),
                                                   pd.DataFrame({"x": [2], "y": [3]})]},
                        {"path": str(path)})
    assert "columns ['x', 'y'] differ from those already written ['x']" in (
        out.errors[0].message)
    assert not path.exists()


def test_write_with_no_input_leaves_an_empty_file_not_the_previous_rows(
        tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    mixed().to_parquet(path)
    assert write(path, []).status == "ok"
    assert pd.read_parquet(path).shape == (0, 0)


def test_write_to_a_device_is_a_validation_problem(tmp_path: Path) -> None:
    problems = runtime.validate(one_node_flow("parquet.write", {"path": "/dev/null"}),
                                base_dir=tmp_path)
    assert [p.param for p in problems if p.param] == ["path"]
    assert "not a regular file" in problems[0].message


def test_a_full_disk_mid_stream_leaves_the_good_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    before = good_file(path, 600_000)
    answer = write_with_size_limit("parquet.write", path, 100_000, chunks=40, rows=2_000)
    assert answer["status"] == "errors"
    assert path.read_bytes() == before
    first, *_later, at_end = answer["errors"]
    assert first[0] == "WriteError"
    assert "File too large" in first[1]
    assert f"{path} was not written" in at_end[1]
    assert "it is left as it was" in at_end[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "out.parquet.partial"]


def test_a_full_disk_at_the_footer_leaves_the_good_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    before = good_file(path, 600_000)
    answer = write_with_size_limit("parquet.write", path, 600, chunks=1, rows=20)
    assert answer["status"] == "errors"
    assert path.read_bytes() == before
    assert "it is left as it was" in answer["errors"][-1][1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_write_then_read_in_a_flow(tmp_path: Path) -> None:
    mixed().to_parquet(tmp_path / "in.parquet")
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "copy",
        "nodes": [{"id": "read", "component": "parquet.read",
                   "params": {"path": "in.parquet", "batch_rows": 6}},
                  {"id": "write", "component": "parquet.write",
                   "params": {"path": "copy.parquet"}}],
        "edges": [{"source": "read.data", "target": "write.data"}]})
    result = runtime.run_flow(flow, base_dir=tmp_path)
    assert result.status == "ok"
    assert result.edges["read.data->write.data"] == 4
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "copy.parquet"),
                                  pd.read_parquet(tmp_path / "in.parquet"))
