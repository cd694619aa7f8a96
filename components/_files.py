"""Atomic output files: write next to the target, then rename over it when the stream ends.

The rules every file-writing component follows (``csv.write``, ``jsonl.write``,
``parquet.write``, ``model.save``):

- Until the stream ends, data goes to a hidden ``.<name>.<random>.partial`` file in the
  target's folder. When the stream ends and every message was written, that file is renamed
  over the target, so the target holds either the old content or the whole new content.
- If any message fails (a full disk, a bad message), nothing more is written, the target is
  left exactly as it was, and what was written so far is kept as ``<name>.partial`` next to
  it (or removed when it is empty). The error records and the end-of-stream error say so.
- A run that is stopped or aborted removes its hidden file and leaves the target untouched.
- While the hidden file grows, it is synced to disk in the background (``Writeback``), so
  the fsync before the rename has only the last few megabytes left to write.
- Hidden files left by a killed run are removed by the next write to the same target, and a
  write that succeeds removes a ``<name>.partial`` left by an earlier failed one.
- Only regular files are ever replaced: a device (``/dev/null``), a folder or a pipe at the
  target, or a link to one, is refused.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from components._writeback import Writeback
from runtime import special_file_kind

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; stale files are then kept
    fcntl = None  # type: ignore[assignment]

PARTIAL_SUFFIX = ".partial"


class WriteError(OSError):
    """An output file could not be written; the message says what became of it."""


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; give a new one the usual ones (umask applied)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _real(path: Path) -> Path:
    """The file a path names, links followed, so a link to a file keeps pointing at it."""
    try:
        return Path(os.path.realpath(path))
    except (ValueError, OSError):
        return path  # opening it will fail with a clear message


def _lock(fd: int, *, wait: bool) -> bool:
    """Take the lock that marks a hidden file as in use by a live writer."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def _remove_stale(target: Path) -> None:
    """Remove hidden files that a killed run left for ``target`` (and no live writer holds)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[A-Za-z0-9_]{{8}}"
                         rf"{re.escape(PARTIAL_SUFFIX)}")
    try:
        names = [n for n in os.listdir(target.parent) if pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        stale = target.parent / name
        try:
            fd = os.open(stale, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
        except OSError:
            continue  # gone already, or a link: not ours to remove
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd, wait=False):
                stale.unlink(missing_ok=True)
        finally:
            os.close(fd)


class _Firing:
    """The context of one firing: an exception inside it fails the output (see ``firing``)."""

    __slots__ = ("out",)

    def __init__(self, out: AtomicOutput) -> None:
        self.out = out

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self.out._failed_firing(exc)  # noqa: SLF001 - the two work as one
        elif self.out.writeback is not None:
            self.out.writeback.wrote()


class AtomicOutput:
    """A file that appears at ``path`` only when ``finish()`` is called and all went well.

    A text file by default (write through ``handle()``); with ``binary=True``, a binary one
    (write through ``buffer()``). See the module docstring for what happens to the file
    when a run fails or is stopped.
    """

    def __init__(self, path: str | Path, *, binary: bool = False) -> None:
        self.path = _real(Path(path))
        self.partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self.binary = binary
        self._handle: IO[Any] | None = None
        self._tmp: str | None = None
        self._lock = threading.Lock()
        self._discarded = False
        self._failures = 0
        self._first_failure: str | None = None
        self._outcome = ""
        self._guard = _Firing(self)
        self.writeback: Writeback | None = None

    def _refuse_special(self) -> None:
        kind = special_file_kind(self.path)
        if kind is not None:
            msg = (f"{self.path} is {kind}, not a regular file; Edgewise writes only regular "
                   "files and never replaces anything else, so choose a file name")
            raise WriteError(msg)

    def handle(self) -> IO[str]:
        """Open the hidden text file on first use and return it."""
        if self.binary:
            msg = f"the output {self.path} is a binary file; write to buffer()"
            raise TypeError(msg)
        return self._open()

    def buffer(self) -> IO[bytes]:
        """Open the hidden binary file on first use and return it."""
        if not self.binary:
            msg = f"the output {self.path} is a text file; write to handle()"
            raise TypeError(msg)
        return self._open()

    def _open(self) -> IO[Any]:
        with self._lock:
            if self._discarded:
                msg = f"the output {self.path} was abandoned when the run stopped"
                raise RuntimeError(msg)
            if self._handle is None:
                self._refuse_special()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _remove_stale(self.path)
                fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.",
                                                 suffix=PARTIAL_SUFFIX, dir=self.path.parent)
                _lock(fd, wait=True)
                self._handle = (os.fdopen(fd, "wb") if self.binary else
                                os.fdopen(fd, "w", encoding="utf-8", newline=""))
                self.writeback = Writeback(fd)
            return self._handle

    @property
    def started(self) -> bool:
        """Whether anything was written yet."""
        return self._handle is not None

    @property
    def failed(self) -> bool:
        """Whether a message failed, so the target will not be replaced."""
        return self._first_failure is not None

    def firing(self) -> _Firing:
        """Guard one firing's work: if the ``with out.firing():`` block raises, all fails.

        Nothing more is written after a failure, and the target is not replaced.

        Raises:
            WriteError: an earlier message failed, so this one is not written either; or
                writing failed, with what became of the target and of the partial output.
        """
        if self._first_failure is not None:
            self._failures += 1
            msg = (f"not written to {self.path}, because an earlier message failed "
                   f"({self._first_failure})")
            raise WriteError(msg)
        return self._guard

    def _failed_firing(self, exc: BaseException) -> None:
        """Record a firing's exception; turn a plain OSError into a WriteError saying more."""
        if isinstance(exc, WriteError):
            self._fail(str(exc))
        elif isinstance(exc, OSError):
            self._fail(f"{type(exc).__name__}: {exc}")
            msg = f"writing {self.path} failed ({exc}): {self._outcome}"
            raise WriteError(msg) from exc
        elif isinstance(exc, Exception):
            self._fail(f"{type(exc).__name__}: {exc}")

    def finish(self, last: Callable[[], object] | None = None) -> None:
        """Move the finished file into place (an empty one if nothing came).

        Args:
            last: writes the file's last bytes (say, a footer) first; if it fails with an
                OSError, finishing fails as if the final flush had failed.

        Raises:
            WriteError: a message failed, or finishing the file failed (say, on a full
                disk); the target is left as it was, and the message says where the
                partial output went.
        """
        if self._first_failure is not None:
            msg = (f"{self.path} was not written ({self._failures} message(s) failed): "
                   f"{self._outcome}. First failure: {self._first_failure}")
            raise WriteError(msg)
        try:
            if last is not None:
                last()
            handle = self._open()
            handle.flush()
            if self.writeback is not None:
                self.writeback.finish()
            os.fsync(handle.fileno())
            self._refuse_special()
            assert self._tmp is not None  # noqa: S101 - set by handle()
            os.chmod(self._tmp, _mode_for(self.path))
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            msg = f"finishing {self.path} failed ({exc}): {self._outcome}"
            raise WriteError(msg) from exc
        self._tmp = None
        handle.close()
        self._handle = None
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(self.partial).st_mode):
                self.partial.unlink()

    def _fail(self, reason: str) -> None:
        """Stop writing for good: close the hidden file and keep it as ``<name>.partial``."""
        with self._lock:
            self._failures += 1
            if self._first_failure is not None:
                return
            self._first_failure = reason
            if self._handle is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._handle.close()  # its unwritten buffer is lost with the failure
                self._handle = None
            tmp, self._tmp = self._tmp, None
            self._outcome = self._keep(tmp)

    def _keep(self, tmp: str | None) -> str:
        """Keep a failed hidden file under its visible name; say what became of everything."""
        target = "it is left as it was" if os.path.lexists(self.path) else "no file was made"
        if tmp is None:
            return f"{target}; nothing had been written"
        try:
            if os.path.getsize(tmp) == 0:
                os.unlink(tmp)
                return f"{target}; nothing had been written"
            taken = os.path.lexists(self.partial) and not stat.S_ISREG(
                os.lstat(self.partial).st_mode)
            if not taken:
                os.replace(tmp, self.partial)
                return (f"{target}, and the part written is kept as {self.partial.name} in "
                        "the same folder")
        except OSError:
            pass
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return f"{target}; the part written could not be kept and was removed"

    def discard(self) -> None:
        """Drop an unfinished file, leaving whatever was at ``path`` untouched.

        After this, nothing more can be written: a late write from a worker thread fails
        instead of leaving a stray hidden file.
        """
        with self._lock:
            self._discarded = True
            if self._handle is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._handle.close()
                self._handle = None
            if self._tmp is not None:
                Path(self._tmp).unlink(missing_ok=True)
                self._tmp = None
