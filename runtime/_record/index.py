"""The SQLite index of a kept run: its schema, and how its rows are written and read back.

The index stores each batch of messages as one row of ``batches``: ids, parents, time and
rows are kept per message in compact arrays, so recording costs little per message while
any message can still be looked up by id. ``inline_values`` says where a batch's small
values lie in its port's values file; ``kept`` says where each larger value (a DataFrame,
a model, an array) is stored. The recorder writes through :class:`IndexWriter`; the
reader (``RunStore``) checks the tables with :func:`check_index` and decodes rows with
:func:`parent_ranges` and :func:`unpack_ints`.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from runtime._messages import IdRanges, MadeOnPort
from runtime._previews import preview as make_preview
from runtime._record.health import DamagedRunError

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

INDEX_COLUMNS = {
    "batches": ("seq", "origin", "first_id", "count", "parents_kind", "parents_first",
                "parents", "t", "rows"),
    "kept": ("id", "origin", "kind", "location", "part", "bytes", "preview"),
    "inline_values": ("seq", "kind", "file", "offset", "length"),
}
BATCH_COLUMNS = ", ".join(INDEX_COLUMNS["batches"])
"""The columns of a ``batches`` row, in the order :meth:`RunStore` decodes them."""


@dataclass(frozen=True)
class MessageInfo(MadeOnPort):
    """What the index knows of one message."""

    id: int
    origin: str
    parents: tuple[int, ...]
    parent_ranges: tuple[tuple[int, int], ...]
    t: float
    rows: int | None
    position: int
    kept: str | None
    # what its preview is made of, when asked for: the one kept with its value (JSON), else
    # the value stored with its batch (a port of many messages is read without previews)
    preview_json: str | None = field(default=None, repr=False, compare=False)
    inline: Any = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def preview(self) -> dict[str, Any] | None:
        """A short description of the value (``runtime.preview``); None if it was not kept."""
        if self.preview_json:
            loaded: dict[str, Any] = json.loads(self.preview_json)
            return loaded
        return make_preview(self.inline) if self.inline is not None else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, for ``--json`` output."""
        return {"id": self.id, "node": self.node, "port": self.port,
                "parents": list(self.parents) if len(self.parents) <= 1000 else None,
                "parent_ranges": [list(r) for r in self.parent_ranges],
                "t": self.t, "rows": self.rows, "position": self.position,
                "kept": self.kept, "preview": self.preview}


def _insert(table: str) -> str:
    columns = INDEX_COLUMNS[table]
    return (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed table names
            f"VALUES ({', '.join('?' * len(columns))})")


CHEAP_PARENTS = 64
"""Parents of at most this many messages are encoded quickly whatever their shape."""


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


def parents_encoding(parents: Any) -> tuple[str, int | None, bytes | str | None]:
    """How a batch's parents are kept in the index: kind, first parent, and the packed rest."""
    if isinstance(parents, range):
        return "range", parents.start, None
    try:
        return "list", None, pack_ints(parents)
    except TypeError:
        pass
    if parents.count(()) == len(parents):
        return "none", None, None
    encoded = []
    for entry in parents:
        if isinstance(entry, int):
            encoded.append([[entry, entry + 1]])
        elif isinstance(entry, IdRanges):
            encoded.append([[r.start, r.stop] for r in entry.ranges])
        else:
            encoded.append([[i, i + 1] for i in entry])
    return "json", None, json.dumps(encoded, separators=(",", ":"))


def cheap_parents(parents: Any) -> bool:
    """Whether :func:`parents_encoding` costs little: no JSON for a large batch."""
    return (isinstance(parents, range) or len(parents) <= CHEAP_PARENTS
            or isinstance(parents[0], int) or parents[0] == ())


def parent_ranges(kind: str, first: int | None, blob: Any, index: int) -> list[tuple[int, int]]:
    """The id ranges of the parents of message ``index`` of a batch, as the index keeps them."""
    if kind == "none":
        return []
    if kind == "range":
        if first is None:
            msg = "a range of parents without its first id"
            raise TypeError(msg)
        return [(first + index, first + index + 1)]
    if kind == "list":
        parent = unpack_ints(blob)[index]
        return [(parent, parent + 1)]
    return [(int(a), int(b)) for a, b in json.loads(blob)[index]]


def new_index(path: Path) -> sqlite3.Connection:
    """Make the index whole under a temporary name, then open it in WAL mode.

    A run killed at any point has either no index or one with every table. Like every
    write of the index, making it waits for no disk sync (a sync took about 50 ms a run):
    the files are whole for any reader once written, and a killed process does not lose
    what it wrote.
    """
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    made = sqlite3.connect(part)
    try:
        made.executescript(f"PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL; {SCHEMA}")
        made.commit()
    finally:
        made.close()
    os.replace(part, path)
    db = sqlite3.connect(path, check_same_thread=False)
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;")
    return db


def check_index(db: sqlite3.Connection, path: Path) -> None:
    """Check that an opened index has every table and column a reader needs.

    Raises:
        DamagedRunError: a table or a column is missing.
        sqlite3.DatabaseError: the file is not a SQLite database.
    """
    for table, columns in INDEX_COLUMNS.items():
        found = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        if not found:
            raise DamagedRunError(path, f"has no table '{table}'")
        if missing := [c for c in columns if c not in found]:
            msg = f"has a table '{table}' without the column(s) {', '.join(missing)}"
            raise DamagedRunError(path, msg)


class Rows(NamedTuple):
    """Index rows taken from an :class:`IndexWriter`, one list per table."""

    batches: list[tuple[Any, ...]]
    inline: list[tuple[Any, ...]]
    kept: list[tuple[Any, ...]]


class IndexWriter:
    """Gathers index rows and writes them many at a time; used by the recorder's thread."""

    def __init__(self, path: Path) -> None:
        self.db = new_index(path)
        self.seq = 0
        self._batches: list[tuple[Any, ...]] = []
        self._inline: list[tuple[Any, ...]] = []
        self._kept: list[tuple[Any, ...]] = []

    def add_batch(self, origin: str, ids: range, parents: Any, t: float,
                  rows: bytes | None, inline: tuple[str, str, int, int] | None = None) -> int:
        """Index a batch of messages; return its sequence number.

        ``inline`` says where its small values lie, as :meth:`add_inline` would.
        """
        seq = self.seq = self.seq + 1
        if type(parents) is range:
            self._batches.append((seq, origin, ids.start, len(ids), "range", parents.start,
                                  None, t, rows))
        else:
            self._batches.append((seq, origin, ids.start, len(ids),
                                  *parents_encoding(parents), t, rows))
        if inline is not None:
            self._inline.append((seq, *inline))
        return seq

    def add_inline(self, seq: int, where: tuple[str, str, int, int]) -> None:
        """Say where batch ``seq``'s small values lie: kind, file, offset, length."""
        self._inline.append((seq, *where))

    def add_kept(self, message_id: int, origin: str, kind: str, location: str, part: int,
                 size: int, preview: dict[str, Any]) -> None:
        """Say where one message's value is stored, and what it looks like."""
        self._kept.append((message_id, origin, kind, location, part, size,
                           json.dumps(preview)))

    @property
    def pending(self) -> int:
        """How many batches are indexed and not yet taken (see :meth:`take`)."""
        return len(self._batches)

    def take(self) -> Rows:
        """The rows gathered since the last take, to :meth:`write` later."""
        rows = Rows(self._batches, self._inline, self._kept)
        self._batches, self._inline, self._kept = [], [], []
        return rows

    def write(self, rows: Rows) -> None:
        """Write taken rows and commit; call it once the values they point at are written."""
        self.db.executemany(_insert("batches"), rows.batches)
        self.db.executemany(_insert("inline_values"), rows.inline)
        self.db.executemany(_insert("kept"), rows.kept)
        self.db.commit()

    def flush(self) -> None:
        """Write the rows gathered so far and commit."""
        self.write(self.take())

    def close(self) -> None:
        """Close the index."""
        self.db.close()
