"""A traced row names where it came from, for every reader: CSV, Parquet, SQL, data sets."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from runtime import Run, plan
from runtime._record import record_run
from runtime._record.lineage import Lineage


def traced_source(workspace: Path, reader: dict[str, Any]) -> dict[str, Any]:
    flow = {"edgewise": 1, "name": "t", "nodes": [
        {"id": "read", **reader},
        {"id": "keep", "component": "frame.query", "params": {"expr": "x > 1"}}],
        "edges": [{"source": "read.data", "target": "keep.data"}]}
    run = Run(plan(flow, base_dir=workspace))
    store = record_run(run, workspace).store
    assert run.run().status == "ok"
    [kept] = store.messages("keep.data")
    steps = Lineage(store).trace(kept.id, 2)
    source: dict[str, Any] = steps[-1].source
    return source


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [0, 1, 2, 3]})


def test_a_parquet_row_is_traced_to_its_file_and_row(tmp_path: Path,
                                                     frame: pd.DataFrame) -> None:
    frame.to_parquet(tmp_path / "in.parquet")

    source = traced_source(tmp_path, {"component": "parquet.read",
                                      "params": {"path": "in.parquet"}})

    assert source["text"] == "in.parquet row 2"
    assert (source["component"], source["row"]) == ("parquet.read", 2)


def test_a_sql_row_is_traced_to_its_database_query_and_row(tmp_path: Path,
                                                           frame: pd.DataFrame) -> None:
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        frame.to_sql("t", db, index=False)

    source = traced_source(tmp_path, {"component": "sql.read", "params": {
        "database": "db.sqlite", "query": "SELECT x FROM t"}})

    assert source["text"] == "db.sqlite (SELECT x FROM t) row 2"
    assert source["query"] == "SELECT x FROM t"


def test_a_csv_row_is_traced_to_its_line(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "in.csv", index=False)

    source = traced_source(tmp_path, {"component": "csv.read", "params": {"path": "in.csv"}})

    assert source["text"] == "in.csv line 4"
