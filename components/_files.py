"""Atomic output files: write next to the target, then rename over it when the stream ends."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import IO


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; give a new one the usual ones (umask applied)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class AtomicOutput:
    """A text file that appears at ``path`` only when ``commit()`` is called.

    Until then the data goes to a hidden temporary file in the same folder, so a run that
    fails or is stopped never leaves a half-written file in place of a good one.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self._tmp: str | None = None
        self._lock = threading.Lock()
        self._discarded = False

    def handle(self) -> IO[str]:
        """Open the temporary file on first use and return it."""
        with self._lock:
            if self._discarded:
                msg = f"the output {self.path} was abandoned when the run stopped"
                raise RuntimeError(msg)
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.",
                                                 suffix=".partial", dir=self.path.parent)
                self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
            return self._handle

    @property
    def started(self) -> bool:
        """Whether anything was written yet."""
        return self._handle is not None

    def commit(self) -> None:
        """Flush, sync and move the finished file into place."""
        handle = self.handle()
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        assert self._tmp is not None  # noqa: S101 - set by handle()
        os.chmod(self._tmp, _mode_for(self.path))
        os.replace(self._tmp, self.path)
        self._handle = None
        self._tmp = None

    def discard(self) -> None:
        """Drop an unfinished file, leaving whatever was at ``path`` untouched.

        After this, nothing more can be written: a late write from a worker thread fails
        instead of leaving a stray temporary file.
        """
        with self._lock:
            self._discarded = True
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if self._tmp is not None:
                Path(self._tmp).unlink(missing_ok=True)
                self._tmp = None
