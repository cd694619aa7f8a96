"""A kept run on disk: its folder, manifest, SQLite index of every message, and the values.

Layout of ``<workspace>/.edgewise/runs/<run-id>/``::

    manifest.json        flow snapshot and hash, versions, times, status, statistics
    index.sqlite         every message (columnar, one row per batch) and the kept values
    values/              DataFrames as Arrow IPC streams (one record batch per message, readable
                         without a footer, so a killed run keeps them), models as skops,
                         small values appended per port as int64/float64 arrays or JSON

The index is committed every half second or so while a run goes on, and every file it
points at is complete when it is committed, so a run killed midway can be read up to its
last few batches; its manifest still says ``running``, and readers report it as
``interrupted`` once the process that wrote it is gone. Runs kept before the switch to
Arrow streams hold their DataFrames as Parquet (one row group per message) and still read.
A damaged run raises ``DamagedRunError`` naming the damaged file and what is wrong with it.

The index's tables and row encoding are ``runtime._record.index``'s; how each kind of value
is stored is ``runtime._record.values``'; the recorder that writes both is
``runtime._record.recorder``.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from runtime._record.health import DamagedRunError, check_manifest, process_status
from runtime._record.index import (
    BATCH_COLUMNS,
    MessageInfo,
    check_index,
    parent_ranges,
    unpack_ints,
)
from runtime._record.values import FrameReader, read_file, read_inline

RUNS_DIR = Path(".edgewise") / "runs"
_MISSING = object()


_Value = TypeVar("_Value", bound=Callable[..., Any])


def _names_damaged_values(read: _Value) -> _Value:
    """Turn a failure to read a kept value's file into a DamagedRunError naming the file."""
    @functools.wraps(read)
    def checked(store: RunStore, message_id: int) -> Any:
        try:
            return read(store, message_id)
        except LookupError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader error: the file is damaged
            kept = store._one("SELECT location FROM kept WHERE id = ?", (message_id,))
            path = store.values_dir / (kept[0] if kept else "?")
            msg = f"cannot be read ({type(exc).__name__}: {exc})"
            raise DamagedRunError(path, msg) from exc
    return checked  # type: ignore[return-value]


class RunStore:
    """Read access to one kept run (the recorder writes it; see ``runtime._record``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.values_dir = folder / "values"
        self._db: sqlite3.Connection | None = None
        self._frames = FrameReader()

    @property
    def id(self) -> str:
        """The run id (its folder name)."""
        return self.folder.name

    @property
    def db(self) -> sqlite3.Connection:
        """The SQLite index, opened read-only and checked on first use.

        Raises:
            DamagedRunError: the index is missing, not a SQLite database, or lacks a table.
        """
        if self._db is None:
            path = self.folder / "index.sqlite"
            if not path.is_file():
                raise DamagedRunError(path, "is missing")
            wal = path.with_name(path.name + "-wal")
            if path.stat().st_size == 0 and not (wal.is_file() and wal.stat().st_size):
                raise DamagedRunError(path, "is empty")
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            try:
                check_index(db, path)
            except sqlite3.DatabaseError as exc:
                db.close()
                raise DamagedRunError(path, f"cannot be read as a SQLite index ({exc})") from exc
            except DamagedRunError:
                db.close()
                raise
            self._db = db
        return self._db

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row a query of the index gives; a damaged index raises DamagedRunError."""
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            path = self.folder / "index.sqlite"
            raise DamagedRunError(path, f"cannot be read as a SQLite index ({exc})") from exc

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        """Close the index."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def manifest(self) -> dict[str, Any]:
        """The run's manifest, checked to have the shape a recorder writes.

        Raises:
            DamagedRunError: the manifest is missing, not JSON, or has the wrong shape.
        """
        path = self.folder / "manifest.json"
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise DamagedRunError(path, "is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DamagedRunError(path, f"cannot be read ({exc})") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DamagedRunError(path, f"is not valid JSON ({exc})") from exc
        return check_manifest(path, data)

    def flow(self) -> dict[str, Any]:
        """The flow as it was when the run started."""
        flow: dict[str, Any] = self.manifest()["flow"]
        return flow

    def status(self) -> str:
        """The run's status; ``interrupted`` for a run whose recording process is gone."""
        return process_status(self.manifest())

    @property
    def damage(self) -> str | None:
        """What is wrong with the run's manifest or index, or None if both read."""
        try:
            self.manifest()
            _ = self.db
        except DamagedRunError as exc:
            return str(exc)
        return None

    # -- messages ------------------------------------------------------------------------

    def _row(self, message_id: int) -> tuple[Any, ...] | None:
        row = self._one(f"SELECT {BATCH_COLUMNS} FROM batches WHERE first_id <= ? "  # noqa: S608
                        "ORDER BY first_id DESC LIMIT 1", (message_id,))
        if row is None or message_id >= row[2] + row[3]:
            return None
        return row

    def _info(self, row: tuple[Any, ...], index: int) -> MessageInfo:
        _seq, origin, first = row[:3]
        position = self._query(
            "SELECT COALESCE(SUM(count), 0) FROM batches WHERE origin = ? AND first_id < ?",
            (origin, first))[0][0]
        return self._infos(row, position, index, index + 1)[0][0]

    def _infos(self, row: tuple[Any, ...], position: int, start: int = 0,
               end: int | None = None) -> list[tuple[MessageInfo, Any]]:
        """Messages ``start`` to ``end`` of a batch, whose first is at ``position`` on its port.

        Each comes with its value if the value is stored with the batch (else None). The
        batch's kept values and stored values are each looked up once for all of them.
        """
        seq, origin, first, count, kind, pfirst, pblob, t, rows = row
        end = count if end is None else end
        try:
            ranges = [parent_ranges(kind, pfirst, pblob, i) for i in range(start, end)]
            row_counts = unpack_ints(rows)
            if row_counts:
                row_counts[end - 1]  # noqa: B018 - checks there is one per message
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            msg = (f"holds a garbled entry for message {first + start} "
                   f"({type(exc).__name__}: {exc})")
            raise DamagedRunError(self.folder / "index.sqlite", msg) from exc
        kept = {i: (k, p) for i, k, p in self._query(
            "SELECT id, kind, preview FROM kept WHERE id >= ? AND id < ?",
            (first + start, first + end))}
        inline = self._inline(seq, start, end - start) if len(kept) < end - start else None
        found = []
        for index in range(start, end):
            message_id = first + index
            mine = ranges[index - start]
            value = None if inline is None else inline[index - start]
            kind_kept, preview = kept.get(message_id, (None, None))
            found.append((MessageInfo(
                id=message_id, origin=origin,
                parents=tuple(i for a, b in mine for i in range(a, b)) if sum(
                    b - a for a, b in mine) <= 100_000 else (),
                parent_ranges=tuple(mine), t=t,
                rows=row_counts[index] if row_counts else None, position=position + index,
                kept=kind_kept or ("json" if value is not None else None),
                preview_json=preview, inline=value), value))
        return found

    def _inline(self, seq: int, start: int, count: int, missing: Any = None) -> list[Any]:
        """Small values stored with their batch (``count`` from ``start``), or ``missing``."""
        row = self._one("SELECT kind, file, offset, length FROM inline_values WHERE seq = ?",
                        (seq,))
        if row is None:
            return [missing] * count
        kind, name, offset, length = row
        return read_inline(self.values_dir / name, (seq, kind, offset, length), start, count,
                           missing)

    def message(self, message_id: int) -> MessageInfo | None:
        """What the index knows of a message, by id."""
        row = self._row(message_id)
        return None if row is None else self._info(row, message_id - row[2])

    def messages(self, origin: str) -> Iterator[MessageInfo]:
        """Every message of one output port (``node.port``), in order."""
        for info, _value in self._port(origin):
            yield info

    def values(self, origin: str) -> Iterator[tuple[MessageInfo, Any]]:
        """Every message of one output port, in order, with its value (None if not kept).

        Reads each batch once: a port of many messages reads in time linear in them, where
        ``value(message.id)`` for each looks every one up on its own.

        Raises:
            UnsafeModelError, DamagedRunError: as ``value``.
        """
        for info, value in self._port(origin):
            yield info, (self.value(info.id) if info.kept not in (None, "json") else value)

    def _port(self, origin: str) -> Iterator[tuple[MessageInfo, Any]]:
        position = 0
        for row in self._query(f"SELECT {BATCH_COLUMNS} FROM batches "  # noqa: S608
                               "WHERE origin = ? ORDER BY first_id", (origin,)):
            yield from self._infos(row, position)
            position += row[3]

    def count(self, origin: str) -> int:
        """How many messages an output port made."""
        total: int = self._query("SELECT COALESCE(SUM(count), 0) FROM batches WHERE "
                                 "origin = ?", (origin,))[0][0]
        return total

    def message_at(self, origin: str, position: int) -> MessageInfo | None:
        """The message at a position on a port (0 is the first; -1 the last)."""
        total = self.count(origin)
        if position < 0:
            position += total
        if not 0 <= position < total:
            return None
        done = 0
        for row in self._query(f"SELECT {BATCH_COLUMNS} FROM batches "  # noqa: S608
                               "WHERE origin = ? ORDER BY first_id", (origin,)):
            if position < done + row[3]:
                return self._info(row, position - done)
            done += row[3]
        return None

    def spans(self, origin: str) -> list[tuple[int, int]]:
        """Where a port's messages are in id order: ``(first id, count)`` per batch."""
        return [(int(first), int(count)) for first, count in self._query(
            "SELECT first_id, count FROM batches WHERE origin = ? ORDER BY first_id", (origin,))]

    def parents_of_port(self, origin: str) -> Iterator[tuple[int, list[tuple[int, int]]]]:
        """Every message of a port, in order, with the id ranges of its parents."""
        rows = self._query(f"SELECT {BATCH_COLUMNS} FROM batches WHERE origin = ? "  # noqa: S608
                           "ORDER BY first_id", (origin,))
        for _seq, _origin, first, count, kind, pfirst, pblob, _t, _rows in rows:
            try:
                if kind == "json":
                    each = [[(int(a), int(b)) for a, b in entry] for entry in json.loads(pblob)]
                elif kind == "list":
                    each = [[(p, p + 1)] for p in unpack_ints(pblob)]
                elif kind == "range":
                    each = [[(pfirst + i, pfirst + i + 1)] for i in range(count)]
                else:
                    each = [[] for _ in range(count)]
            except (ValueError, TypeError, IndexError, KeyError) as exc:
                msg = (f"holds a garbled entry for message {first} (the parents of its batch "
                       f"on {origin}: {type(exc).__name__}: {exc})")
                raise DamagedRunError(self.folder / "index.sqlite", msg) from exc
            yield from zip(range(first, first + count), each, strict=False)

    def port_summary(self) -> dict[str, dict[str, Any]]:
        """Per output port: message count, total rows (for DataFrames) and the last message."""
        summary: dict[str, dict[str, Any]] = {}
        for origin, first, count, rows in self._query(
                "SELECT origin, first_id, count, rows FROM batches ORDER BY first_id"):
            entry = summary.setdefault(origin, {"count": 0, "rows": None, "last": None})
            entry["count"] += count
            if rows:
                entry["rows"] = (entry["rows"] or 0) + sum(r for r in unpack_ints(rows) if r > 0)
            entry["last"] = first + count - 1
        return summary

    def message_count(self) -> int:
        """How many messages the index holds (what a killed run committed, for one)."""
        total: int = self._query("SELECT COALESCE(SUM(count), 0) FROM batches")[0][0]
        return total

    def origins(self) -> list[str]:
        """Every output port that made messages."""
        return [r[0] for r in self._query("SELECT DISTINCT origin FROM batches")]

    def kept_files(self, origin: str, kind: str) -> list[tuple[int, Path]]:
        """The message ids and files of the values of one kind (``model``, ...) on a port."""
        return [(message_id, self.values_dir / location) for message_id, location in
                self._query("SELECT id, location FROM kept WHERE origin = ? AND kind = ?",
                            (origin, kind))]

    # -- values --------------------------------------------------------------------------

    @_names_damaged_values
    def value(self, message_id: int) -> Any:
        """The value of a message, if it was kept.

        Raises:
            KeyError: the value was not kept (the storage policy, or not storable).
            UnsafeModelError: a kept model names types outside the allow-list of
                ``runtime._record.safeload``; nothing in it was loaded.
            DamagedRunError: the file that holds it is missing or cannot be read.
        """
        kept = self._one("SELECT kind, location, part FROM kept WHERE id = ?", (message_id,))
        if kept is None:
            row = self._row(message_id)
            if row is not None:
                found = self._inline(row[0], message_id - row[2], 1, missing=_MISSING)[0]
                if found is not _MISSING:
                    return found
            msg = f"the value of message {message_id} was not kept"
            raise KeyError(msg)
        kind, location, part = kept
        path = self.values_dir / location
        if not path.is_file():
            raise DamagedRunError(path, f"is missing (it holds message {message_id})")
        return read_file(kind, path, part, self._frames, message_id)


def runs_root(workspace: Path) -> Path:
    """Where a workspace keeps its runs."""
    return workspace / RUNS_DIR


def list_runs(workspace: Path) -> list[RunStore]:
    """The kept runs of a workspace, oldest first.

    Never raises for a damaged run: it is listed too, and its ``damage`` says what is wrong.
    A folder counts as a run if it holds a manifest, an index or a values folder.
    """
    root = runs_root(workspace)
    try:
        found = sorted(root.iterdir()) if root.is_dir() else []
    except OSError:
        return []
    return [RunStore(p) for p in found if not p.name.startswith(".") and p.is_dir() and any(
        (p / name).exists() for name in ("manifest.json", "index.sqlite", "values"))]
