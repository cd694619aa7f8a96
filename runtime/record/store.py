"""A kept run on disk: its folder, manifest, SQLite index of every message, and the values.

Layout of ``<workspace>/.edgewise/runs/<run-id>/``::

    manifest.json        flow snapshot and hash, versions, times, status, statistics
    index.sqlite         every message (columnar, one row per batch) and the kept values
    values/              DataFrames as Parquet (one row group per message), models as skops,
                         small values appended per port as int64/float64 arrays or JSON

The index stores each batch of messages as one row: ids, parents, time, rows and bytes
are kept per message in compact arrays, so recording costs little per message while any
message can still be looked up by id.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.previews import preview as make_preview

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    first_id INTEGER NOT NULL,
    count INTEGER NOT NULL,
    parents_kind TEXT NOT NULL,
    parents_first INTEGER,
    parents BLOB,
    t REAL NOT NULL,
    rows BLOB
);
CREATE INDEX IF NOT EXISTS batches_by_id ON batches(first_id);
CREATE INDEX IF NOT EXISTS batches_by_origin ON batches(origin, first_id);
CREATE TABLE IF NOT EXISTS kept (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    location TEXT,
    part INTEGER,
    bytes INTEGER,
    preview TEXT
);
CREATE TABLE IF NOT EXISTS inline_values (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL
);
"""

RUNS_DIR = Path(".edgewise") / "runs"
_MISSING = object()


@dataclass(frozen=True)
class MessageInfo:
    """What the index knows of one message."""

    id: int
    origin: str
    parents: tuple[int, ...]
    parent_ranges: tuple[tuple[int, int], ...]
    t: float
    rows: int | None
    position: int
    kept: str | None
    preview: dict[str, Any] | None

    @property
    def node(self) -> str:
        """The node that made the message."""
        return self.origin.split(".", 1)[0]

    @property
    def port(self) -> str:
        """The output port that made the message."""
        return self.origin.split(".", 1)[1]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, for ``--json`` output."""
        return {"id": self.id, "node": self.node, "port": self.port,
                "parents": list(self.parents) if len(self.parents) <= 1000 else None,
                "parent_ranges": [list(r) for r in self.parent_ranges],
                "t": self.t, "rows": self.rows, "position": self.position,
                "kept": self.kept, "preview": self.preview}


def pack_ints(values: Any) -> bytes:
    """Pack integers as a compact int64 array."""
    return array("q", values).tobytes()


def unpack_ints(blob: bytes | None) -> list[int]:
    """Unpack an int64 array."""
    if not blob:
        return []
    data = array("q")
    data.frombytes(blob)
    return data.tolist()


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$error_record"}:
        from runtime.messages import ErrorRecord

        return ErrorRecord(**value["$error_record"])
    return value


def _ranges_of(entry: Any) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in entry]


class RunStore:
    """Read access to one kept run (the recorder writes it; see ``runtime.record``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.values_dir = folder / "values"
        self._db: sqlite3.Connection | None = None

    @property
    def id(self) -> str:
        """The run id (its folder name)."""
        return self.folder.name

    @property
    def db(self) -> sqlite3.Connection:
        """The SQLite index, opened read-only on first use."""
        if self._db is None:
            if not (self.folder / "index.sqlite").is_file():
                msg = f"{self.folder} is not a complete kept run: index.sqlite is missing"
                raise LookupError(msg)
            self._db = sqlite3.connect(f"file:{self.folder / 'index.sqlite'}?mode=ro", uri=True,
                                       check_same_thread=False)
        return self._db

    def close(self) -> None:
        """Close the index."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def manifest(self) -> dict[str, Any]:
        """The run's manifest."""
        data: dict[str, Any] = json.loads((self.folder / "manifest.json").read_text("utf-8"))
        return data

    def flow(self) -> dict[str, Any]:
        """The flow as it was when the run started."""
        flow: dict[str, Any] = self.manifest()["flow"]
        return flow

    # -- messages ------------------------------------------------------------------------

    def _row(self, message_id: int) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.db.execute(
            "SELECT seq, origin, first_id, count, parents_kind, parents_first, parents, t, rows"
            " FROM batches WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1",
            (message_id,)).fetchone()
        if row is None or message_id >= row[2] + row[3]:
            return None
        return row

    def _info(self, row: tuple[Any, ...], index: int) -> MessageInfo:
        seq, origin, first, _count, kind, pfirst, pblob, t, rows = row
        message_id = first + index
        if kind == "none":
            ranges: list[tuple[int, int]] = []
        elif kind == "range":
            ranges = [(pfirst + index, pfirst + index + 1)]
        elif kind == "list":
            parent = unpack_ints(pblob)[index]
            ranges = [(parent, parent + 1)]
        else:
            ranges = _ranges_of(json.loads(pblob)[index])
        parents = tuple(i for a, b in ranges for i in range(a, b)) if sum(
            b - a for a, b in ranges) <= 100_000 else ()
        row_counts = unpack_ints(rows)
        position = self.db.execute(
            "SELECT COALESCE(SUM(count), 0) FROM batches WHERE origin = ? AND first_id < ?",
            (origin, first)).fetchone()[0] + index
        kept = self.db.execute("SELECT kind, preview FROM kept WHERE id = ?",
                               (message_id,)).fetchone()
        inline = None
        if kept is None:
            inline = self._inline(seq, index)
        preview = json.loads(kept[1]) if kept and kept[1] else (
            make_preview(inline) if inline is not None else None)
        return MessageInfo(id=message_id, origin=origin, parents=parents,
                           parent_ranges=tuple(ranges), t=t,
                           rows=row_counts[index] if row_counts else None, position=position,
                           kept=kept[0] if kept else ("json" if inline is not None else None),
                           preview=preview)

    def _inline(self, seq: int, index: int, missing: Any = None) -> Any:
        """A small value stored with its batch, or ``missing``."""
        row = self.db.execute("SELECT kind, file, offset, length FROM inline_values WHERE "
                              "seq = ?", (seq,)).fetchone()
        if row is None:
            return missing
        kind, name, offset, length = row
        if not (self.values_dir / name).is_file():
            msg = f"the values of a batch should be in {self.values_dir / name}, which is missing"
            raise LookupError(msg)
        with open(self.values_dir / name, "rb") as handle:
            if kind in ("int64", "float64"):
                handle.seek(offset + 8 * index)
                data = array("q" if kind == "int64" else "d")
                data.frombytes(handle.read(8))
                return data[0]
            handle.seek(offset)
            value = json.loads(handle.read(length))[index]
        return missing if value is None and kind == "json-partial" else _decode(value)

    def message(self, message_id: int) -> MessageInfo | None:
        """What the index knows of a message, by id."""
        row = self._row(message_id)
        return None if row is None else self._info(row, message_id - row[2])

    def messages(self, origin: str) -> Iterator[MessageInfo]:
        """Every message of one output port (``node.port``), in order."""
        rows = self.db.execute(
            "SELECT seq, origin, first_id, count, parents_kind, parents_first, parents, t, rows"
            " FROM batches WHERE origin = ? ORDER BY first_id", (origin,)).fetchall()
        for row in rows:
            for index in range(row[3]):
                yield self._info(row, index)

    def count(self, origin: str) -> int:
        """How many messages an output port made."""
        total: int = self.db.execute("SELECT COALESCE(SUM(count), 0) FROM batches WHERE "
                                     "origin = ?", (origin,)).fetchone()[0]
        return total

    def message_at(self, origin: str, position: int) -> MessageInfo | None:
        """The message at a position on a port (0 is the first; -1 the last)."""
        total = self.count(origin)
        if position < 0:
            position += total
        if not 0 <= position < total:
            return None
        done = 0
        for row in self.db.execute(
                "SELECT seq, origin, first_id, count, parents_kind, parents_first, parents, t, "
                "rows FROM batches WHERE origin = ? ORDER BY first_id", (origin,)):
            if position < done + row[3]:
                return self._info(row, position - done)
            done += row[3]
        return None

    def port_summary(self) -> dict[str, dict[str, Any]]:
        """Per output port: message count, total rows (for DataFrames) and the last message."""
        summary: dict[str, dict[str, Any]] = {}
        for origin, first, count, rows in self.db.execute(
                "SELECT origin, first_id, count, rows FROM batches ORDER BY first_id"):
            entry = summary.setdefault(origin, {"count": 0, "rows": None, "last": None})
            entry["count"] += count
            if rows:
                entry["rows"] = (entry["rows"] or 0) + sum(r for r in unpack_ints(rows) if r > 0)
            entry["last"] = first + count - 1
        return summary

    def origins(self) -> list[str]:
        """Every output port that made messages."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT origin FROM batches")]

    # -- values --------------------------------------------------------------------------

    def value(self, message_id: int) -> Any:
        """The value of a message, if it was kept.

        Raises:
            KeyError: the value was not kept (the storage policy, or not storable).
            UnsafeModelError: a kept model names types outside the allow-list of
                ``runtime.record.safeload``; nothing in it was loaded.
        """
        kept = self.db.execute("SELECT kind, location, part FROM kept WHERE id = ?",
                               (message_id,)).fetchone()
        if kept is None:
            row = self._row(message_id)
            if row is not None:
                found = self._inline(row[0], message_id - row[2], missing=_MISSING)
                if found is not _MISSING:
                    return found
            msg = f"the value of message {message_id} was not kept"
            raise KeyError(msg)
        kind, location, part = kept
        path = self.values_dir / location
        if not path.is_file():
            msg = f"the value of message {message_id} should be in {path}, which is missing"
            raise LookupError(msg)
        if kind == "dataframe":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).read_row_group(part).to_pandas()
        if kind == "model":
            from runtime.record.safeload import load_model

            return load_model(path, f"the model of message {message_id}")
        if kind == "ndarray":
            import numpy as np

            return np.load(path, allow_pickle=False)
        msg = f"message {message_id} holds a value of unknown kind '{kind}'"
        raise KeyError(msg)


def runs_root(workspace: Path) -> Path:
    """Where a workspace keeps its runs."""
    return workspace / RUNS_DIR


def list_runs(workspace: Path) -> list[RunStore]:
    """The kept runs of a workspace, oldest first."""
    root = runs_root(workspace)
    if not root.is_dir():
        return []
    return [RunStore(p) for p in sorted(root.iterdir())
            if p.is_dir() and (p / "manifest.json").is_file()]
