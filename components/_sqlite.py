"""SQLite connections for the ``sql`` family: read-only ones for queries, one-transaction ones.

A query connection is opened read-only (``mode=ro``) and with an authorizer that allows
only what a ``SELECT`` does (read tables, call functions, recursive ``WITH``). Read-only
mode alone still lets ``ATTACH`` and ``VACUUM INTO`` create files elsewhere; the
authorizer refuses those, and every other statement, before it runs.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ,
                          sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE})
ACTION_NAMES = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in ("CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE",
                 "CREATE_TEMP_TRIGGER", "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW",
                 "DELETE", "DROP_INDEX", "DROP_TABLE", "DROP_TEMP_INDEX", "DROP_TEMP_TABLE",
                 "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER", "DROP_VIEW", "INSERT",
                 "PRAGMA", "TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE",
                 "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "SAVEPOINT")
    if hasattr(sqlite3, f"SQLITE_{name}")}


QUERY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES"})


class ReadOnlyQueryError(PermissionError):
    """A query for ``sql.read`` would change something; it was refused before it ran."""


def read_only_authorizer(action: int, _arg1: str | None, _arg2: str | None, _db: str | None,
                         _trigger: str | None) -> int:
    """A SQLite authorizer that allows only what a SELECT does."""
    return sqlite3.SQLITE_OK if action in READ_ACTIONS else sqlite3.SQLITE_DENY


def first_keyword(query: str) -> str:
    """The first word of a SQL statement, after spaces and comments, in upper case."""
    rest = query
    while True:
        rest = rest.lstrip()
        if rest.startswith("--"):
            rest = rest.partition("\n")[2]
        elif rest.startswith("/*"):
            rest = rest.partition("*/")[2]
        else:
            break
    match = re.match(r"[A-Za-z]+", rest)
    return match.group().upper() if match else ""


def check_select(query: str) -> None:
    """Refuse a statement that is not a query (it must begin with SELECT, WITH or VALUES).

    The authorizer of a SQLite connection catches writes as the statement is compiled; some
    statements (``VACUUM INTO``) only ask when they run. This catches them before, and
    serves databases reached through a URL too.

    Raises:
        ReadOnlyQueryError: the statement begins with another word.
    """
    word = first_keyword(query)
    if word not in QUERY_KEYWORDS:
        msg = (f"sql.read only reads: the query must begin with SELECT, WITH or VALUES, not "
               f"{word or 'nothing'}. Use sql.write to write tables. Query: {query}")
        raise ReadOnlyQueryError(msg)


class QueryConnection:
    """A read-only connection to a SQLite file that records what its authorizer refused."""

    def __init__(self, path: str | Path, timeout: float = 5.0) -> None:
        self.path = Path(path).resolve()
        self.refused: list[str] = []
        self.connection = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True,
                                          timeout=timeout, check_same_thread=False)
        self.connection.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None,
                   _trigger: str | None) -> int:
        if action in READ_ACTIONS:
            return sqlite3.SQLITE_OK
        what = ACTION_NAMES.get(action, f"action {action}")
        target = " ".join(a for a in (arg1, arg2) if a)
        self.refused.append(f"{what} {target}".strip() if target else what)
        return sqlite3.SQLITE_DENY

    def refusal(self, query: str) -> ReadOnlyQueryError | None:
        """The error to raise if the authorizer refused part of ``query``, else None."""
        if not self.refused:
            return None
        # SQLite's own bookkeeping (its schema table) says less than what the user wrote
        named = [r for r in self.refused if "sqlite_master" not in r and
                 "sqlite_temp_master" not in r]
        first = (named or self.refused)[0]
        msg = (f"sql.read only reads, so the query was refused before it ran (it would "
               f"{first.lower()}); {self.path} is unchanged. Use a SELECT query here, and "
               f"sql.write to write tables. Query: {query}")
        return ReadOnlyQueryError(msg)

    def check(self, query: str) -> None:
        """Compile ``query`` without running it; raise if it would change anything.

        Raises:
            ReadOnlyQueryError: the query would write, attach or otherwise change a file.
            sqlite3.Error: the query does not compile (say, a table that is not there).
        """
        check_select(query)
        try:
            self.connection.execute(f"EXPLAIN {query}")
        except sqlite3.Error:
            refused = self.refusal(query)
            if refused is not None:
                raise refused from None
            raise

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


class HeldConnection(sqlite3.Connection):
    """A connection whose ``commit`` and ``rollback`` wait for the caller's own decision.

    pandas' ``to_sql`` commits after every call; a stream of DataFrames must instead be
    written in one transaction that is committed at the end, or rolled back.
    """

    def commit(self) -> None:
        """Do nothing: the transaction is committed by ``commit_now``."""

    def rollback(self) -> None:
        """Do nothing: the transaction is rolled back by ``rollback_now``."""

    def commit_now(self) -> None:
        """Commit the transaction."""
        sqlite3.Connection.commit(self)

    def rollback_now(self) -> None:
        """Roll the transaction back."""
        sqlite3.Connection.rollback(self)


def transaction(path: str | Path) -> HeldConnection:
    """Open a SQLite file for writing and begin the one transaction of a run."""
    connection: Any = sqlite3.connect(path, factory=HeldConnection, isolation_level=None,
                                      check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    held: HeldConnection = connection
    return held
