"""The workspace: a folder of flow files, with safe, atomic file operations inside it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLOW_SUFFIX = ".json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
TEMP_EXTRA = len(".") + len(".") + 8 + len(".tmp")  # what the temporary file's name adds
DEFAULT_NAME_MAX = 255


class WorkspaceError(Exception):
    """A file operation was refused or failed; the message says why, for the user."""


@dataclass(frozen=True)
class FlowEntry:
    """One flow file of the workspace."""

    name: str
    title: str
    modified: float


class Workspace:
    """Flow files in one folder. Every name is checked to stay inside that folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def longest_name(self) -> int:
        """The longest flow file name (in bytes) this workspace's file system can save."""
        try:
            limit = os.pathconf(self.root, "PC_NAME_MAX")
        except (OSError, ValueError):
            limit = DEFAULT_NAME_MAX
        return (limit if limit > 0 else DEFAULT_NAME_MAX) - TEMP_EXTRA

    def ensure(self) -> None:
        """Create the folder if it does not exist yet."""
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        """Return the path of a flow file, refusing anything that leaves the workspace.

        Raises:
            WorkspaceError: for absolute paths, ``..``, folders, odd characters, or a link
                that points outside the workspace.
        """
        if not name or "/" in name or "\\" in name or name in (".", "..") or ".." in name:
            msg = f"'{name}' is not a flow name: use a plain file name inside the workspace"
            raise WorkspaceError(msg)
        if not _NAME.fullmatch(name):
            msg = (f"'{name}' is not a flow name: use letters, digits, spaces, '_', '-' "
                   "and '.'")
            raise WorkspaceError(msg)
        if not name.endswith(FLOW_SUFFIX):
            name += FLOW_SUFFIX
        longest = self.longest_name()
        if len(name.encode()) > longest:
            msg = (f"'{name[:24]}…' is too long for a file name here: {len(name.encode())} "
                   f"characters with '{FLOW_SUFFIX}', at most {longest}")
            raise WorkspaceError(msg)
        path = self.root / name
        if self.root not in path.resolve().parents:
            msg = f"'{name}' points outside the workspace; refused"
            raise WorkspaceError(msg)
        return path

    def list(self) -> list[FlowEntry]:
        """Every flow file in the workspace, by name."""
        entries: list[FlowEntry] = []
        if not self.root.is_dir():
            return entries
        for path in sorted(self.root.glob(f"*{FLOW_SUFFIX}")):
            try:
                self.path(path.name)
            except WorkspaceError:
                continue
            if not path.is_file():  # a folder, or a link to nothing
                continue
            title = path.stem
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and isinstance(data.get("name"), str):
                    title = data["name"]
            except (OSError, ValueError):
                pass
            entries.append(FlowEntry(name=path.name, title=title,
                                     modified=path.stat().st_mtime))
        return entries

    def read(self, name: str) -> str:
        """Return the text of a flow file."""
        path = self.path(name)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            msg = f"no flow '{path.name}' in the workspace"
            raise WorkspaceError(msg) from None
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"cannot read '{path.name}': {exc}"
            raise WorkspaceError(msg) from exc

    def write(self, name: str, text: str) -> Path:
        """Save a flow file atomically: write a temporary file, then rename it over."""
        path = self.path(name)
        self.ensure()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        """Save a flow document as indented JSON, atomically."""
        return self.write(name, json.dumps(data, indent=2) + "\n")

    def create(self, name: str, flow_name: str | None = None) -> str:
        """Create an empty flow; refuse to overwrite an existing one. Return its file name."""
        path = self.path(name)
        if path.exists():
            msg = f"a flow '{path.name}' exists already"
            raise WorkspaceError(msg)
        doc = {"edgewise": 1, "name": flow_name or path.stem, "nodes": [], "edges": []}
        self.write_json(path.name, doc)
        return path.name

    def rename(self, old: str, new: str) -> str:
        """Rename a flow file; refuse to overwrite. Return the new file name."""
        source, target = self.path(old), self.path(new)
        if not source.exists():
            msg = f"no flow '{source.name}' in the workspace"
            raise WorkspaceError(msg)
        if target.exists():
            msg = f"a flow '{target.name}' exists already"
            raise WorkspaceError(msg)
        try:
            os.replace(source, target)
        except OSError as exc:
            msg = f"cannot rename '{source.name}' to '{target.name}': {exc.strerror or exc}"
            raise WorkspaceError(msg) from exc
        return target.name

    def delete(self, name: str) -> None:
        """Delete a flow file."""
        path = self.path(name)
        if not path.exists():
            msg = f"no flow '{path.name}' in the workspace"
            raise WorkspaceError(msg)
        try:
            path.unlink()
        except OSError as exc:
            msg = f"cannot delete '{path.name}': {exc.strerror or exc}"
            raise WorkspaceError(msg) from exc
