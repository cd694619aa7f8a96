"""The folder poller behind ``file.watch``: which files are new, and which have settled.

Plain polling (``os.stat`` of the files matching a glob) rather than ``watchfiles``/inotify:
it works the same on every filesystem, network mounts and container volumes included, where
change notifications are missing or unreliable, and the settle rule (size and mtime
unchanged for a while) needs a stat of each file anyway.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

Version = tuple[int, int, int, int]
"""What makes a file's version: device, inode, size and modification time (ns)."""


def version_of(path: Path) -> Version | None:
    """A regular file's version, or None when it is gone or not a regular file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@dataclass
class FolderWatch:
    """Files matching ``pattern`` in ``folder``, each handed out once per version.

    A file is ready when its version has stayed the same for ``settle_ns`` nanoseconds of
    polling. A version once handed out is never handed out again; a file rewritten later
    (another size, mtime or inode) is a new version and is handed out again once it
    settles. Hidden files (a name starting with a dot) are skipped: writers that make a
    file atomically write it under a hidden name first.
    """

    folder: Path
    pattern: str
    settle_ns: int
    done: dict[Path, Version] = field(default_factory=dict)
    pending: dict[Path, tuple[Version, int]] = field(default_factory=dict)

    def matches(self) -> list[tuple[Path, Version]]:
        """The visible regular files matching the pattern now, with their versions."""
        found: list[tuple[Path, Version]] = []
        try:
            paths = list(self.folder.glob(self.pattern))
        except OSError:
            return found  # the folder went away for now; the next poll looks again
        for path in paths:
            if any(part.startswith(".") for part in path.relative_to(self.folder).parts):
                continue
            version = version_of(path)
            if version is not None:
                found.append((path, version))
        return found

    def skip_present(self) -> None:
        """Count the files there now as handed out (their later versions are not)."""
        for path, version in self.matches():
            self.done[path] = version

    def poll(self, now_ns: int) -> list[Path]:
        """Look at the folder; return the files that settled, oldest first, marked done."""
        present = dict(self.matches())
        for gone in [p for p in self.done if p not in present]:
            del self.done[gone]  # bounded memory; a file coming back is a new version
        for gone in [p for p in self.pending if p not in present]:
            del self.pending[gone]
        ready: list[tuple[int, str, Path]] = []
        for path, version in present.items():
            if self.done.get(path) == version:
                continue
            seen = self.pending.get(path)
            if seen is None or seen[0] != version:
                self.pending[path] = (version, now_ns)
                seen = self.pending[path]
            if now_ns - seen[1] >= self.settle_ns:
                ready.append((version[3], str(path), path))
        ready.sort()
        for _mtime, _name, path in ready:
            self.done[path] = self.pending.pop(path)[0]
        return [path for _mtime, _name, path in ready]
