"""The health of a kept run: its manifest's shape, damaged files, and runs whose writer died.

A run folder can be damaged by a crash, a full disk or a hand edit. Every reader checks
what it reads and raises ``DamagedRunError`` naming the file and what is wrong with it, so
the commands can say so instead of failing with a traceback. A run whose manifest still
says ``running`` but whose recording process is gone was interrupted (killed, or its
machine stopped): it reads up to the last batches its recorder committed.
"""

from __future__ import annotations

import datetime
import os
import shlex
import socket
from pathlib import Path
from typing import Any

from runtime._errors import EdgewiseError

_NAMES = {str: "text", dict: "an object", list: "a list", int: "a whole number",
          float: "a number", bool: "true or false", type(None): "null"}

# key: (allowed types, required)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "status": ((str,), True),
    "flow": ((dict,), True),
    "started": ((str,), True),
    "run": ((str,), False),
    "flow_hash": ((str,), False),
    "base_dir": ((str,), False),
    "ended": ((str, type(None)), False),
    "seconds": ((int, float, type(None)), False),
    "versions": ((dict,), False),
    "policy": ((dict,), False),
    "nodes": ((dict,), False),
    "edges": ((dict,), False),
    "recording": ((dict,), False),
    "process": ((dict,), False),
    "first_error": ((dict, type(None)), False),
    "flow_file": ((str, type(None)), False),
    "replay_of": ((str, type(None)), False),
    "replay_from": ((str, type(None)), False),
    "replay_inputs": ((dict, type(None)), False),
}
_COUNTS = ("messages_indexed", "values_kept", "values_not_kept", "bytes")


class DamagedRunError(EdgewiseError, LookupError):
    """A file of a kept run is missing, cut short, or not what a recorder writes.

    Attributes:
        path: The damaged file.
        problem: What is wrong with it.
    """

    def __init__(self, path: Path, problem: str) -> None:
        """Name the damaged file and what is wrong with it."""
        self.path = path
        self.problem = problem
        folder = path.parent.parent if path.parent.name == "values" else path.parent
        super().__init__(f"run {folder.name} is damaged: {path} {problem}; restore that file, "
                         f"or delete the run with `rm -r {shlex.quote(str(folder))}`")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _is(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _expect(path: Path, where: str, value: Any, types: tuple[type, ...]) -> None:
    if not _is(value, types):
        wanted = " or ".join(_NAMES.get(t, t.__name__) for t in types)
        msg = f"has {where} = {_shown(value)}, which should be {wanted}"
        raise DamagedRunError(path, msg)


def check_manifest(path: Path, data: Any) -> dict[str, Any]:
    """The manifest ``data`` read from ``path``, checked to have the shape a recorder writes.

    Raises:
        DamagedRunError: naming the first key whose value has the wrong shape.
    """
    if not isinstance(data, dict):
        msg = f"should hold a JSON object, but holds {_NAMES.get(type(data), 'something else')}"
        raise DamagedRunError(path, msg)
    for key, (types, required) in _FIELDS.items():
        if key not in data:
            if required:
                raise DamagedRunError(path, f"has no '{key}'")
            continue
        _expect(path, f"'{key}'", data[key], types)
    try:
        started = datetime.datetime.fromisoformat(data["started"])
    except ValueError:
        started = None
    if started is None or started.tzinfo is None:
        msg = f"has 'started' = {_shown(data['started'])}, which is not a time with a zone"
        raise DamagedRunError(path, msg)
    flow = data["flow"]
    for key, fields in (("nodes", ("id", "component")), ("edges", ("source", "target"))):
        items = flow.get(key, [])
        _expect(path, f"'flow.{key}'", items, (list,))
        for i, item in enumerate(items):
            _expect(path, f"'flow.{key}[{i}]'", item, (dict,))
            for name in fields:
                if name in item or name in ("id", "source", "target"):
                    _expect(path, f"'flow.{key}[{i}].{name}'", item.get(name), (str,))
            if "params" in item:
                _expect(path, f"'flow.{key}[{i}].params'", item["params"], (dict,))
    for key in ("nodes", "edges"):
        for name, entry in data.get(key, {}).items():
            _expect(path, f"'{key}.{name}'", entry, (dict,))
            if key == "edges":
                _expect(path, f"'edges.{name}.count'", entry.get("count"), (int,))
    recording = data.get("recording", {})
    for key in _COUNTS:
        if key in recording:
            _expect(path, f"'recording.{key}'", recording[key], (int, type(None)))
    for key, types in (("ports", (dict,)), ("errors", (list,)), ("failure", (str, type(None)))):
        if key in recording:
            _expect(path, f"'recording.{key}'", recording[key], types)
    for port, entry in recording.get("ports", {}).items():
        _expect(path, f"'recording.ports.{port}'", entry, (dict,))
    return data


def process_start(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (clock ticks after boot) of a process, on Linux."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rindex(")") + 2:].split()
        return fields[0], int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def this_process() -> dict[str, Any]:
    """What the manifest of a running recording says of the process that writes it."""
    found = process_start(os.getpid())
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "start": found[1] if found else None}


def writer_alive(process: dict[str, Any]) -> bool:
    """Whether the process that wrote a ``running`` manifest may still be running.

    A process on another host, or one this system cannot check, counts as alive.
    """
    pid = process.get("pid")
    if os.name != "posix" or process.get("host") != socket.gethostname():
        return True
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 2**31:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        pass
    found = process_start(pid)
    if found is None:
        return True
    state, start = found
    if state in ("Z", "X"):
        return False
    recorded = process.get("start")
    return not (isinstance(recorded, int) and recorded != start)


def process_status(manifest: dict[str, Any]) -> str:
    """The run's status: ``interrupted`` for a ``running`` one whose recorder is gone."""
    status: str = manifest["status"]
    process = manifest.get("process")
    if status == "running" and isinstance(process, dict) and not writer_alive(process):
        return "interrupted"
    return status
