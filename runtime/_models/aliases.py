"""The alias log of a model: an append-only file of JSON lines, one per alias move.

``<name>/aliases.log`` is the one source of truth for aliases: the current aliases are
what replaying it in order gives. A move is appended as one line, flushed and fsynced,
while holding an exclusive lock on the file, so two writers never record the same
``from``. A line that cannot be read (a crash in the middle of an append) is reported
and skipped, never fatal; the next append starts on a fresh line.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime._terminal import plain

LOG_FILE = "aliases.log"

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: appends are still single writes
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class AliasMove:
    """One alias move, as the log keeps it.

    Attributes:
        time: When it was moved (ISO 8601, UTC).
        alias: The alias moved, e.g. ``champion``.
        from_version: The version it pointed to before, or None if it was new.
        to_version: The version it points to since.
        by: Who or what moved it: ``cli:<user>``, ``node:<id> run <run id>``, ...
        why: Why it was moved, in the mover's words.
    """

    time: str
    alias: str
    from_version: int | None
    to_version: int
    by: str
    why: str

    def to_json(self) -> dict[str, Any]:
        """The move as a line of the log has it."""
        return {"time": self.time, "alias": self.alias, "from": self.from_version,
                "to": self.to_version, "by": self.by, "why": self.why}


@dataclass(frozen=True)
class LogReading:
    """What replaying a log gives: the moves in order, and the lines that were skipped."""

    moves: list[AliasMove]
    damage: list[str]

    def aliases(self) -> dict[str, int]:
        """Each alias and the version it points to now."""
        current: dict[str, int] = {}
        for move in self.moves:
            current[move.alias] = move.to_version
        return current


def _move(line: dict[str, Any]) -> AliasMove | None:
    old, new = line.get("from"), line.get("to")
    fields = (line.get("time"), line.get("alias"), line.get("by"), line.get("why"))
    if not all(isinstance(f, str) for f in fields) or type(new) is not int or not (
            old is None or type(old) is int):
        return None
    return AliasMove(str(line["time"]), str(line["alias"]), old, new, str(line["by"]),
                     str(line["why"]))


def read_log(path: Path) -> LogReading:
    """Replay a log; a missing log has no moves."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LogReading([], [])
    moves: list[AliasMove] = []
    damage: list[str] = []
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
        try:
            move = _move(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, AttributeError):
            move = None
        if move is None:
            where = "the last line" if last else f"line {number}"
            damage.append(f"{where} of {path} is damaged (a move written half-way?) and was "
                          f"skipped: {plain(raw[:80].decode('utf-8', 'replace'))}")
            continue
        moves.append(move)
    return LogReading(moves, damage)


@contextlib.contextmanager
def locked_log(path: Path) -> Iterator[int]:
    """Open the log for appending, holding an exclusive lock; yields the file descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def append_move(path: Path, alias: str, to_version: int, *, by: str, why: str) -> AliasMove:
    """Append a move of ``alias`` to ``to_version``; its ``from`` is what the log says now."""
    with locked_log(path) as fd:
        reading = read_log(path)
        move = AliasMove(
            time=datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds"),
            alias=alias, from_version=reading.aliases().get(alias), to_version=to_version,
            by=by, why=why)
        line = json.dumps(move.to_json()).encode("utf-8") + b"\n"
        size = os.fstat(fd).st_size
        if size:
            with open(path, "rb") as handle:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    line = b"\n" + line  # a half-written line stays a line of its own
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    return move
