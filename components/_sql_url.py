"""Database URLs for the ``sql`` family: telling them from files, showing, resolving, opening."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from runtime import URL_SCHEME, plain


def is_url(database: str) -> bool:
    """Whether ``database`` is a SQLAlchemy URL rather than a SQLite file."""
    return URL_SCHEME.match(database) is not None


SQLITE_URL = re.compile(r"(?P<head>sqlite(?:\+\w+)?:///)(?P<path>[^?]*)(?P<tail>(?:\?.*)?)",
                        re.DOTALL)
# The package to install for a database driver module, where its name differs.
DRIVER_PACKAGES = {"psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary]",
                   "MySQLdb": "mysqlclient", "pymysql": "PyMySQL", "cx_Oracle": "cx_Oracle",
                   "oracledb": "oracledb", "pyodbc": "pyodbc", "pymssql": "pymssql",
                   "asyncpg": "asyncpg", "pg8000": "pg8000"}


def resolve_sqlite_url(database: str, base_dir: Path) -> str:
    """A SQLite URL with a relative file path, made absolute against ``base_dir``.

    ``sqlite:///out/db.sqlite`` names ``out/db.sqlite`` relative to the current directory
    for SQLAlchemy; a flow's relative paths are relative to the flow file's folder. Other
    URLs, absolute paths (``sqlite:////abs.db``), in-memory databases and ``file:`` URIs
    are returned unchanged.
    """
    match = SQLITE_URL.fullmatch(database)
    if match is None:
        return database
    path = match["path"]
    if not path or path.startswith(("/", "file:")) or path == ":memory:":
        return database
    return f"{match['head']}{(base_dir / path).resolve()}{match['tail']}"


def resolved_url(database: str, info: ValidationInfo) -> str:
    base_dir = (info.context or {}).get("base_dir")
    if isinstance(base_dir, Path) and is_url(database):
        return resolve_sqlite_url(database, base_dir)
    return database


def driver_missing(url: str, exc: ModuleNotFoundError) -> str:
    """Say which driver module a URL needs and how to install it."""
    module = exc.name or "its driver"
    top = module.split(".")[0]
    package = DRIVER_PACKAGES.get(top, top)
    return (f"cannot open the database URL {shown(url)}: its driver, the Python module "
            f"'{module}', is not installed; install it (pip install '{package}') in the "
            "environment that runs the flow, or name another driver in the URL "
            "(e.g. postgresql+psycopg://...)")


def shown(database: str) -> str:
    """The database as messages show it: a URL's password is hidden."""
    return plain(re.sub(r"^([^:/]+://[^:/@]*):[^@/]*@", r"\1:***@", database))


def open_engine(url: str, *, read_only: bool) -> Any:
    """A SQLAlchemy engine for ``url``, or a clear error if SQLAlchemy is not installed.

    On SQLite, the engine runs every statement, table changes included, inside the
    transaction it begins (Python's sqlite3 driver would commit those at once), and a
    read-only engine refuses anything a SELECT does not do.
    """
    try:
        sqlalchemy = importlib.import_module("sqlalchemy")
    except ImportError:
        msg = (f"'{shown(url)}' is a database URL, which needs SQLAlchemy: install "
               "edgewise[sql] (pip install 'edgewise[sql]'), or give the path of a SQLite "
               "file instead")
        raise ImportError(msg) from None
    try:
        engine = sqlalchemy.create_engine(url)
    except ModuleNotFoundError as exc:
        raise ValueError(driver_missing(url, exc)) from None
    except Exception as exc:  # noqa: BLE001 - a bad URL or a missing driver, said plainly
        msg = f"cannot open the database URL {shown(url)}: {type(exc).__name__}"
        raise ValueError(msg) from None
    if engine.dialect.name == "sqlite":
        from components._sqlite import read_only_authorizer

        def connected(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            if read_only:
                dbapi_connection.set_authorizer(read_only_authorizer)

        def began(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

        sqlalchemy.event.listen(engine, "connect", connected)
        sqlalchemy.event.listen(engine, "begin", began)
    return engine
