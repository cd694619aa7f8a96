"""The ``sql`` family: query a SQLite file (or a SQLAlchemy database) and write tables to it.

``database`` is a SQLite file, relative to the flow file's folder; no server is needed. A
SQLAlchemy URL (``postgresql://user@host/db``, ``sqlite:////abs/path.db``) is accepted
too when SQLAlchemy is installed (``pip install edgewise[sql]``); it is used as it is,
except that the relative path of a SQLite URL (``sqlite:///out/db.sqlite``) is taken
relative to the flow file's folder too, as a plain path is.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components._problems import param_problem
from components._sql_url import is_url, open_engine, resolved_url, shown
from runtime import Params, component, input_path, output_path, plain, special_file_kind

if TYPE_CHECKING:
    import pandas as pd


class ReadParams(Params):
    """Settings of ``sql.read``."""

    database: str = input_path(
        "The SQLite file to query, relative to the flow file's folder; or a SQLAlchemy URL.",
        url=True)
    query: str = Field(min_length=1, description="The SELECT query to run; it may only read.")
    chunk_rows: int | None = Field(
        default=None, gt=0,
        description="Emit the result as a stream of DataFrames of at most this many rows; "
                    "leave empty to emit it as one DataFrame.")
    index_col: str | list[str] | None = Field(
        default=None, description="Column(s) of the result to use as row ids; leave empty "
                                  "to number the rows from 0.")

    @field_validator("database")
    @classmethod
    def _url_in_flow_folder(cls, database: str, info: ValidationInfo) -> str:
        return resolved_url(database, info)

    @model_validator(mode="wrap")
    @classmethod
    def _reads_only(cls, data: Any, handler: ModelWrapValidatorHandler[ReadParams],
                    ) -> ReadParams:
        params = handler(data)
        from components._sqlite import QueryConnection, ReadOnlyQueryError, check_select

        try:
            check_select(params.query)
        except ReadOnlyQueryError as exc:
            raise param_problem(str(exc), field="query", value=params.query,
                                model=cls.__name__) from None
        if is_url(params.database) or not Path(params.database).is_file():
            return params
        try:
            connection = QueryConnection(params.database, timeout=0.2)
        except sqlite3.Error:
            return params  # reported when the node runs
        try:
            connection.check(params.query)
        except ReadOnlyQueryError as exc:
            raise param_problem(str(exc), field="query", value=params.query,
                                model=cls.__name__) from None
        except sqlite3.Error:
            pass  # the table may be written by the flow before the query runs
        finally:
            connection.close()
        return params


def _reason(exc: BaseException) -> str:
    """What went wrong, with the database's own words (pandas keeps them as the cause)."""
    cause = exc.__cause__
    text = str(exc)
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return plain(text)


def _numbered(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Give chunks row ids that count rows from 0 across chunks, as csv.read does."""
    import pandas as pd

    start = 0
    for chunk in chunks:
        chunk.index = pd.RangeIndex(start, start + len(chunk))
        start += len(chunk)
        yield chunk


def _frames(connection: Any, params: ReadParams) -> Iterator[pd.DataFrame]:
    """The query's result through ``pandas.read_sql``: one DataFrame, or numbered chunks."""
    import pandas as pd

    if params.chunk_rows is None:
        yield pd.read_sql(params.query, connection, index_col=params.index_col)
        return
    chunks: Iterator[pd.DataFrame] = iter(pd.read_sql(
        params.query, connection, index_col=params.index_col, chunksize=params.chunk_rows))
    yield from (chunks if params.index_col is not None else _numbered(chunks))


def _query_sqlite(params: ReadParams) -> Iterator[pd.DataFrame]:
    import pandas as pd

    from components._sqlite import QueryConnection

    try:
        connection = QueryConnection(params.database)
    except sqlite3.Error as exc:
        msg = f"cannot open {params.database} as a SQLite database: {exc}"
        raise ValueError(msg) from None
    try:
        try:
            yield from _frames(connection.connection, params)
        except Exception as exc:
            refused = connection.refusal(params.query)
            if refused is not None:
                raise refused from None
            if isinstance(exc, (sqlite3.Error, pd.errors.DatabaseError)):
                msg = f"the query failed on {params.database}: {_reason(exc)}"
                raise ValueError(msg) from None
            raise
    finally:
        connection.close()


def _query_url(params: ReadParams) -> Iterator[pd.DataFrame]:
    engine = open_engine(params.database, read_only=True)
    try:
        with engine.connect() as connection:
            try:  # run in a transaction that is never committed
                yield from _frames(connection, params)
            except Exception as exc:
                msg = f"the query failed on {shown(params.database)}: {_reason(exc)}"
                raise ValueError(msg) from None
            finally:
                connection.rollback()
    finally:
        engine.dispose()


@component("sql.read", outputs={"data": "DataFrame"}, params=ReadParams, threaded=True)
def read(*, params: ReadParams) -> Iterator[pd.DataFrame]:
    """Run a query and emit its result, as ``pandas.read_sql`` gives it.

    A SQLite file is opened read-only, and only what a SELECT does is allowed: a query that
    would change anything (``DROP TABLE``, ``INSERT``, ``ATTACH``, ``VACUUM INTO``...) is
    refused before it runs, at validation when the file is already there. With a SQLAlchemy
    URL, the query runs in a transaction that is rolled back; use a read-only database
    user to be sure. Row ids are the ``index_col`` column(s), or count rows from 0 (across
    chunks too, as ``csv.read`` does).
    """
    from components._sqlite import check_select

    check_select(params.query)
    if is_url(params.database):
        yield from _query_url(params)
    else:
        yield from _query_sqlite(params)


class WriteParams(Params):
    """Settings of ``sql.write``."""

    database: str = output_path(
        "The SQLite file to write to (made if missing), relative to the flow file's folder; "
        "or a SQLAlchemy URL.", url=True)
    table: str = Field(min_length=1, description="The table to write.")
    if_exists: Literal["fail", "replace", "append"] = Field(
        default="fail",
        description="If the table is already there: fail (an error, nothing written), "
                    "replace it, or append the rows to it.")
    index: bool = Field(
        default=True,
        description="Write the row ids too, as a column named by index_label, as pandas' "
                    "to_sql does by default, so that lineage can follow the rows; turn off "
                    "to write only the columns.")
    index_label: str | None = Field(
        default=None, description="Name of the row id column (default: the index's name, or "
                                  "'index').")

    @field_validator("database")
    @classmethod
    def _url_in_flow_folder(cls, database: str, info: ValidationInfo) -> str:
        return resolved_url(database, info)


@component("sql.write", inputs={"data": "DataFrame"}, params=WriteParams, threaded=True)
class Write:
    """Write every DataFrame received to one table, in one transaction, with ``to_sql``.

    The first DataFrame applies ``if_exists``; the later ones append. The transaction is
    committed when the input ends, and only if every DataFrame was written: if one fails,
    nothing more is written and the database is left exactly as it was (a replaced table
    too). A stopped or aborted run commits nothing.
    """

    def __init__(self, params: WriteParams) -> None:
        self.params = params
        self.connection: Any = None  # a HeldConnection, or a SQLAlchemy connection
        self.transaction: Any = None
        self.engine: Any = None
        self.first_failure: str | None = None
        self.failures = 0
        self.written = 0

    def _open(self) -> None:
        if is_url(self.params.database):
            self.engine = open_engine(self.params.database, read_only=False)
            if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
                    None, "", ":memory:") and not str(self.engine.url.database).startswith(
                    "file:"):
                Path(self.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.connection = self.engine.connect()
            self.transaction = self.connection.begin()
            return
        from components._sqlite import transaction

        kind = special_file_kind(self.params.database)
        if kind is not None:
            msg = (f"{shown(self.params.database)} is {kind}, not a regular file; choose the path "
                   "of a SQLite database file")
            raise ValueError(msg)
        Path(self.params.database).parent.mkdir(parents=True, exist_ok=True)
        self.connection = transaction(self.params.database)

    def __call__(self, data: pd.DataFrame) -> None:
        """Write one DataFrame to the table inside the run's transaction."""
        import pandas as pd

        if self.first_failure is not None:
            self.failures += 1
            msg = (f"not written to table '{self.params.table}', because an earlier message "
                   f"failed ({self.first_failure})")
            raise RuntimeError(msg)
        try:
            if not isinstance(data, pd.DataFrame):
                msg = f"sql.write needs a DataFrame, got {type(data).__name__}"
                raise TypeError(msg)
            if self.connection is None:
                self._open()
            if_exists = self.params.if_exists if self.written == 0 else "append"
            data.to_sql(self.params.table, self.connection, if_exists=if_exists,
                        index=self.params.index, index_label=self.params.index_label)
            self.written += 1
        except Exception as exc:
            self.failures += 1
            self.first_failure = f"{type(exc).__name__}: {_reason(exc)}"
            self._rollback()
            msg = (f"writing table '{self.params.table}' of {shown(self.params.database)} failed "
                   f"({_reason(exc)}); the database is left as it was")
            raise RuntimeError(msg) from exc

    def end(self) -> None:
        """Commit the transaction, if every DataFrame was written.

        With no input at all, the database is not touched.

        Raises:
            RuntimeError: a DataFrame failed, so nothing was committed.
        """
        if self.first_failure is not None:
            msg = (f"table '{self.params.table}' of {shown(self.params.database)} was not written "
                   f"({self.failures} message(s) failed); the database is left as it was. "
                   f"First failure: {self.first_failure}")
            raise RuntimeError(msg)
        if self.connection is None:
            return
        try:
            if self.transaction is not None:
                self.transaction.commit()
            else:
                self.connection.commit_now()
        except Exception as exc:
            self._rollback()
            msg = (f"committing table '{self.params.table}' of "
                   f"{shown(self.params.database)} failed ({_reason(exc)}); the database is "
                   "left as it was")
            raise RuntimeError(msg) from exc
        self._close()

    def _rollback(self) -> None:
        if self.connection is None:
            return
        with contextlib.suppress(Exception):  # closing without a commit rolls back too
            if self.transaction is not None:
                self.transaction.rollback()
            else:
                self.connection.rollback_now()
        self._close()

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None
                self.transaction = None
                if self.engine is not None:
                    self.engine.dispose()
                    self.engine = None

    def close(self) -> None:
        """Roll back whatever was not committed (a stopped or aborted run)."""
        self._rollback()
