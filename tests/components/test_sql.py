"""The ``sql`` family: sql.read and sql.write on a real SQLite file, checked against pandas."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, one_node_flow, param_problems

import runtime
from runtime.testing import run_component

FAMILY_MODULE = "components.sql"
CONTRACT: dict[str, dict[str, Any]] = {
    "sql.read": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": {"database", "query"},
        "defaults": {"chunk_rows": None, "index_col": None},
    },
    "sql.write": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {},
        "required": {"database", "table"},
        "defaults": {"if_exists": "fail", "index": True, "index_label": None},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


def people(rows: int = 25, start: int = 0) -> pd.DataFrame:
    n = np.arange(start, start + rows)
    return pd.DataFrame({"id": n + 100, "name": [f"p{k}" for k in n],
                         "score": np.where(n % 6 == 0, np.nan, n / 3),
                         "team": [("red", "blue", "green")[k % 3] for k in n]})


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "data.db"
    with sqlite3.connect(path) as connection:
        people().to_sql("people", connection, index=False)
    return path


def read(params: dict[str, Any], **kwargs: Any) -> list[pd.DataFrame]:
    out = run_component("sql.read", params=params, **kwargs)
    assert out.errors == [], [e.message for e in out.errors]
    return out["data"]


def pandas_read(path: Path, query: str, **kwargs: Any) -> pd.DataFrame:
    with sqlite3.connect(path) as connection:
        return pd.read_sql(query, connection, **kwargs)


# -- sql.read -----------------------------------------------------------------------------

QUERIES = ["SELECT * FROM people",
           "SELECT team, COUNT(*) AS n, AVG(score) AS mean FROM people GROUP BY team "
           "ORDER BY team",
           "WITH high AS (SELECT * FROM people WHERE score > 4) SELECT name FROM high"]


@pytest.mark.parametrize("query", QUERIES)
def test_read_equals_pandas_read_sql(database: Path, query: str) -> None:
    [frame] = read({"database": str(database), "query": query})
    pd.testing.assert_frame_equal(frame, pandas_read(database, query))


@pytest.mark.parametrize(("chunk_rows", "sizes"), [(10, [10, 10, 5]), (25, [25]),
                                                   (7, [7, 7, 7, 4])])
def test_read_in_chunks_numbers_rows_from_0_across_chunks(database: Path, chunk_rows: int,
                                                          sizes: list[int]) -> None:
    chunks = read({"database": str(database), "query": QUERIES[0], "chunk_rows": chunk_rows})
    assert [len(c) for c in chunks] == sizes
    assert [i for c in chunks for i in c.index] == list(range(25))
    pd.testing.assert_frame_equal(pd.concat(chunks), pandas_read(database, QUERIES[0]),
                                  check_index_type=False)


def test_read_index_col_gives_the_row_ids(database: Path) -> None:
    params = {"database": str(database), "query": QUERIES[0], "index_col": "id"}
    [frame] = read(params)
    pd.testing.assert_frame_equal(frame, pandas_read(database, QUERIES[0], index_col="id"))
    assert list(frame.index) == list(range(100, 125))


def test_read_chunks_are_pandas_chunks(database: Path) -> None:
    # As with pandas, each chunk's types come from its own rows: the last chunk here holds
    # only a NULL score, so that column is of object type in it.
    chunks = read({"database": str(database), "query": QUERIES[0], "index_col": "id",
                   "chunk_rows": 4})
    with sqlite3.connect(database) as connection:
        expected = list(pd.read_sql(QUERIES[0], connection, index_col="id", chunksize=4))
    assert len(chunks) == len(expected) == 7
    for ours, theirs in zip(chunks, expected, strict=True):
        pd.testing.assert_frame_equal(ours, theirs)
    assert chunks[-1]["score"].dtype == object


def test_read_relative_path_resolves_against_the_flow_folder(database: Path) -> None:
    [frame] = read({"database": "data.db", "query": QUERIES[0]}, base_dir=database.parent)
    assert len(frame) == 25


def test_read_missing_database_is_a_validation_problem(tmp_path: Path) -> None:
    problems = runtime.validate(one_node_flow("sql.read", {"database": "nope.db",
                                                           "query": "SELECT 1"}),
                                base_dir=tmp_path)
    assert [(p.param, "nope.db" in p.message) for p in problems] == [("database", True)]
    assert not (tmp_path / "nope.db").exists()


NOT_A_QUERY = "sql.read only reads: the query must begin with SELECT, WITH or VALUES, not"
REFUSED = "sql.read only reads, so the query was refused before it ran (it would"


@pytest.mark.parametrize(("query", "words"), [
    ("DROP TABLE people", f"{NOT_A_QUERY} DROP. Use sql.write to write tables"),
    ("DELETE FROM people", f"{NOT_A_QUERY} DELETE"),
    ("  -- a comment\n/* another */ INSERT INTO people (id) VALUES (1)", f"{NOT_A_QUERY} INSERT"),
    ("ATTACH 'elsewhere.db' AS other", f"{NOT_A_QUERY} ATTACH"),
    ("VACUUM INTO 'copy.db'", f"{NOT_A_QUERY} VACUUM"),
    ("PRAGMA journal_mode = WAL", f"{NOT_A_QUERY} PRAGMA"),
    ("WITH gone AS (SELECT 1) DELETE FROM people", f"{REFUSED} delete people)"),
    ("WITH t AS (SELECT 1) INSERT INTO people (id) SELECT * FROM t",
     f"{REFUSED} insert people)"),
    ("SELECT * FROM pragma_table_info('people')", REFUSED),
])
def test_a_query_that_writes_is_a_validation_problem(database: Path, query: str,
                                                     words: str) -> None:
    before = database.read_bytes()
    problems = param_problems("sql.read", {"database": str(database), "query": query})
    [problem] = problems
    assert problem.param == "query"
    assert words in problem.message
    assert database.read_bytes() == before
    assert sorted(p.name for p in database.parent.iterdir()) == ["data.db"]


def test_a_query_that_writes_is_refused_at_run_time_too(database: Path) -> None:
    # At validation the table is not there, so the query cannot be compiled; by the time
    # the node runs, it is, and the query is refused before it runs.
    query = "WITH doomed AS (SELECT id FROM people) DELETE FROM people"
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE people")
    checked = runtime.plan(one_node_flow("sql.read", {"database": "data.db", "query": query}),
                           base_dir=database.parent)
    with sqlite3.connect(database) as connection:
        people().to_sql("people", connection, index=False)
    before = database.read_bytes()
    result = runtime.Run(checked).run()
    assert result.status == "errors"
    assert result.first_error is not None
    assert result.first_error.error == "ReadOnlyQueryError"
    assert f"{REFUSED} delete people); {database} is unchanged" in result.first_error.message
    assert database.read_bytes() == before
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]), people())


def test_a_second_statement_is_not_run(database: Path) -> None:
    out = run_component("sql.read", params={"database": str(database),
                                            "query": "SELECT 1; DROP TABLE people"})
    [error] = out.errors
    assert "You can only execute one statement at a time" in error.message
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]), people())


def test_a_query_on_a_missing_table_is_an_error_record(database: Path) -> None:
    out = run_component("sql.read", params={"database": str(database),
                                            "query": "SELECT * FROM nobody"})
    [error] = out.errors
    assert f"the query failed on {database}" in error.message
    assert "no such table: nobody" in error.message


def test_a_file_that_is_not_a_database_is_an_error_record(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    path.write_text("just text, and long enough to not look like an empty database file\n" * 9)
    out = run_component("sql.read", params={"database": str(path),
                                            "query": "SELECT * FROM people"})
    [error] = out.errors
    assert "not a database" in error.message


# -- sql.write ----------------------------------------------------------------------------

def write(path: Path, frames: list[Any], **params: Any) -> runtime.RunResult:
    return run_component("sql.write", {"data": frames},
                         {"database": str(path), "table": "people", **params}).result


def schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_write_keeps_row_ids_by_default_as_pandas_to_sql_does(tmp_path: Path) -> None:
    data = people(13, start=40).set_axis(pd.Index(range(40, 53), name="row"))
    assert write(tmp_path / "ours.db", [data]).status == "ok"
    with sqlite3.connect(tmp_path / "pandas.db") as connection:
        data.to_sql("people", connection)  # pandas' defaults: index=True, label 'row'
    assert schema(tmp_path / "ours.db") == schema(tmp_path / "pandas.db")
    back = pandas_read(tmp_path / "ours.db", "SELECT * FROM people", index_col="row")
    pd.testing.assert_frame_equal(back, data)
    unnamed = people(3).set_axis([7, 3, 5])
    assert write(tmp_path / "unnamed.db", [unnamed]).status == "ok"
    [back] = read({"database": str(tmp_path / "unnamed.db"), "query": "SELECT * FROM people",
                   "index_col": "index"})
    assert list(back.index) == [7, 3, 5]


@pytest.mark.parametrize("index", [False, True])
def test_write_equals_pandas_to_sql(tmp_path: Path, index: bool) -> None:
    data = people(13, start=40).set_axis(range(40, 53))
    assert write(tmp_path / "ours.db", [data], index=index).status == "ok"
    with sqlite3.connect(tmp_path / "pandas.db") as connection:
        data.to_sql("people", connection, index=index)
    assert schema(tmp_path / "ours.db") == schema(tmp_path / "pandas.db")
    pd.testing.assert_frame_equal(pandas_read(tmp_path / "ours.db", "SELECT * FROM people"),
                                  pandas_read(tmp_path / "pandas.db", "SELECT * FROM people"))


def test_write_a_stream_appends_every_chunk_and_reads_back(tmp_path: Path) -> None:
    chunks = [people(10, 0), people(10, 10), people(5, 20)]
    path = tmp_path / "data.db"
    assert write(path, chunks, index=False).status == "ok"
    [back] = read({"database": str(path), "query": "SELECT * FROM people"})
    pd.testing.assert_frame_equal(back, people())


def test_write_if_exists_fail_leaves_the_table_and_says_so(database: Path) -> None:
    out = run_component("sql.write", {"data": [people(2, 50)]},
                        {"database": str(database), "table": "people"})
    assert out.result.status == "errors"
    first, at_end = out.errors
    assert "Table 'people' already exists" in first.message
    assert "the database is left as it was" in at_end.message
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]), people())


def test_write_if_exists_replace_and_append(database: Path) -> None:
    assert write(database, [people(3, 70)], if_exists="append",
                 index=False).status == "ok"
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]),
                                  pd.concat([people(), people(3, 70)], ignore_index=True))
    chunks = [people(2, 80), people(2, 82).set_axis([2, 3])]
    assert write(database, chunks, if_exists="replace").status == "ok"
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0], index_col="index"),
                                  people(4, 80).rename_axis("index"))


@pytest.mark.parametrize("if_exists", ["replace", "append"])
def test_a_failed_chunk_leaves_the_table_as_it_was(database: Path, if_exists: str) -> None:
    before = database.read_bytes()
    odd = pd.DataFrame({"id": [1], "unknown_column": [2]})
    out = run_component("sql.write", {"data": [people(4, 90), odd, people(4, 94)]},
                        {"database": str(database), "table": "people", "if_exists": if_exists,
                         "index": False})
    assert out.result.status == "errors"
    bad, later, at_end = out.errors
    assert "unknown_column" in bad.message
    assert "the database is left as it was" in bad.message
    assert "an earlier message failed" in later.message
    assert "was not written (2 message(s) failed)" in at_end.message
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]), people())
    assert database.read_bytes() == before


@pytest.mark.parametrize("how", ["fail", "stop"])
def test_a_run_cut_short_after_a_chunk_was_written_commits_nothing(database: Path,
                                                                   how: str) -> None:
    wrote = threading.Event()
    holder: list[runtime.Run] = []

    @runtime.component("testing.cut_short", outputs={"data": "DataFrame"}, threaded=True)
    def cut_short() -> Iterator[pd.DataFrame | None]:
        """Emit a chunk, wait until the writer has written it, then fail or stop."""
        # A source that waits (yields None) runs in its own thread: one that never waits
        # would be read by the writer's thread, and could not wait for the writer there.
        yield None
        yield people(3, 200)
        assert wrote.wait(10)
        if how == "fail":
            msg = "source broke"
            raise RuntimeError(msg)
        holder[0].stop()
        yield people(3, 203)

    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "cut",
        "nodes": [{"id": "src", "component": "testing.cut_short"},
                  {"id": "write", "component": "sql.write",
                   "params": {"database": "data.db", "table": "people",
                              "if_exists": "replace"}}],
        "edges": [{"source": "src.data", "target": "write.data"}]})
    registry = runtime.default_registry().with_components(cut_short)
    run = runtime.Run(runtime.plan(flow, registry=registry, base_dir=database.parent),
                      options=runtime.RunOptions(fail_fast=True, batch_size=1))
    holder.append(run)
    run.hooks.add("fired", lambda node, count: wrote.set() if node == "write" else None)
    assert run.run().status == ("aborted" if how == "fail" else "stopped")
    assert wrote.is_set()
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]), people())


def test_write_with_no_input_does_not_touch_the_database(database: Path) -> None:
    before = database.read_bytes()
    assert write(database, [], if_exists="replace").status == "ok"
    assert database.read_bytes() == before


def test_write_to_a_device_is_a_validation_problem(tmp_path: Path) -> None:
    problems = param_problems("sql.write", {"database": "/dev/null", "table": "t"})
    assert [p.param for p in problems] == ["database"]
    assert "not a regular file" in problems[0].message


def test_write_then_read_in_one_flow(tmp_path: Path) -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "to sql",
        "nodes": [{"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
                  {"id": "save", "component": "sql.write",
                   "params": {"database": "out/iris.db", "table": "iris", "index": False}}],
        "edges": [{"source": "load.data", "target": "save.data"}]})
    assert runtime.run_flow(flow, base_dir=tmp_path).status == "ok"
    from sklearn.datasets import load_iris

    back = pandas_read(tmp_path / "out" / "iris.db", "SELECT * FROM iris")
    pd.testing.assert_frame_equal(back, load_iris(as_frame=True).frame)


# -- SQLAlchemy URLs ----------------------------------------------------------------------

def test_a_url_is_not_taken_for_a_missing_file() -> None:
    assert param_problems("sql.read", {"database": "postgresql://user@host/db",
                                       "query": "SELECT 1"}) == []
    assert param_problems("sql.write", {"database": "sqlite:///x.db", "table": "t"}) == []


def test_a_statement_that_is_not_a_query_is_refused_for_a_url_too() -> None:
    [problem] = param_problems("sql.read", {"database": "postgresql://user@host/db",
                                            "query": "TRUNCATE people"})
    assert problem.param == "query"
    assert f"{NOT_A_QUERY} TRUNCATE" in problem.message


def test_a_url_without_sqlalchemy_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # import fails, as when missing
    out = run_component("sql.read", params={"database": f"sqlite:///{tmp_path}/x.db",
                                            "query": "SELECT 1"})
    [error] = out.errors
    assert "needs SQLAlchemy: install edgewise[sql]" in error.message
    out = run_component("sql.write", {"data": [people(2)]},
                        {"database": f"sqlite:///{tmp_path}/x.db", "table": "t"})
    assert "needs SQLAlchemy: install edgewise[sql]" in out.errors[0].message
    assert not (tmp_path / "x.db").exists()


def test_a_sqlite_url_reads_and_writes_as_pandas_does(tmp_path: Path) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path}/url.db"
    chunks = [people(10, 0), people(15, 10)]
    assert run_component("sql.write", {"data": chunks}, {"database": url, "table": "people",
                                                         "index": False}).result.status == "ok"
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        expected = pd.read_sql(QUERIES[1], connection)
    engine.dispose()
    [frame] = read({"database": url, "query": QUERIES[1]})
    pd.testing.assert_frame_equal(frame, expected)
    chunked = read({"database": url, "query": QUERIES[0], "chunk_rows": 10})
    assert [i for c in chunked for i in c.index] == list(range(25))
    pd.testing.assert_frame_equal(pd.concat(chunked), people(), check_index_type=False)


def test_a_url_write_that_fails_rolls_back(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    path = tmp_path / "url.db"
    with sqlite3.connect(path) as connection:
        people().to_sql("people", connection, index=False)
    odd = pd.DataFrame({"id": [1], "unknown_column": [2]})
    out = run_component("sql.write", {"data": [people(3, 60), odd]},
                        {"database": f"sqlite:///{path}", "table": "people",
                         "if_exists": "replace"})
    assert out.result.status == "errors"
    pd.testing.assert_frame_equal(pandas_read(path, QUERIES[0]), people())


def test_a_sqlite_url_query_that_writes_is_refused(database: Path) -> None:
    pytest.importorskip("sqlalchemy")
    before = database.read_bytes()
    out = run_component("sql.read", params={
        "database": f"sqlite:///{database}",
        "query": "WITH doomed AS (SELECT id FROM people) DELETE FROM people"})
    [error] = out.errors
    assert "not authorized" in error.message
    assert database.read_bytes() == before
    problems = param_problems("sql.read", {"database": f"sqlite:///{database}",
                                           "query": "DROP TABLE people"})
    assert f"{NOT_A_QUERY} DROP" in problems[0].message
    pd.testing.assert_frame_equal(pandas_read(database, QUERIES[0]), people())


def test_a_relative_sqlite_url_is_relative_to_the_flow_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sqlalchemy")
    flow_dir, elsewhere = tmp_path / "flows", tmp_path / "elsewhere"
    flow_dir.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = "sqlite:///out/db.sqlite"
    out = run_component("sql.write", {"data": [people()]},
                        {"database": url, "table": "people", "index": False},
                        base_dir=flow_dir)
    assert out.errors == [], [e.message for e in out.errors]
    assert (flow_dir / "out" / "db.sqlite").is_file()
    assert not (elsewhere / "out").exists()
    [back] = read({"database": url, "query": QUERIES[0]}, base_dir=flow_dir)
    pd.testing.assert_frame_equal(back, people())
    from components._sql_url import resolve_sqlite_url

    assert resolve_sqlite_url("sqlite+pysqlite:///a/b.db?timeout=3", flow_dir) == \
        f"sqlite+pysqlite:///{flow_dir}/a/b.db?timeout=3"
    for unchanged in ("sqlite:////abs/x.db", "sqlite://", "sqlite:///:memory:",
                      "sqlite:///file:x.db?mode=ro&uri=true", "postgresql://h/rel"):
        assert resolve_sqlite_url(unchanged, flow_dir) == unchanged


def test_a_missing_driver_is_named_with_how_to_install_it() -> None:
    pytest.importorskip("sqlalchemy")
    url = "postgresql+psycopg2://ann:s3cret@db.example/shop"
    if importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed")
    out = run_component("sql.read", params={"database": url, "query": "SELECT 1"})
    [error] = out.errors
    assert ("its driver, the Python module 'psycopg2', is not installed; install it "
            "(pip install 'psycopg2-binary')") in error.message
    assert "postgresql+psycopg2://ann:***@db.example/shop" in error.message
    assert "s3cret" not in error.message


def test_a_url_password_is_not_shown_in_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    out = run_component("sql.write", {"data": [people(2)]},
                        {"database": "postgresql://ann:s3cret@db.example/shop", "table": "t"})
    assert "postgresql://ann:***@db.example/shop" in out.errors[0].message
    assert all("s3cret" not in e.message for e in out.errors)


def test_write_to_a_file_that_is_not_a_database_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    text = "these are notes, not a database, and they must stay as they are\n" * 20
    path.write_text(text)
    out = run_component("sql.write", {"data": [people(2)]},
                        {"database": str(path), "table": "people"})
    assert out.result.status == "errors"
    assert "file is not a database" in out.errors[0].message
    assert path.read_text() == text
