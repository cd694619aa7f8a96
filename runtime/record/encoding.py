"""What a recording writes besides DataFrames and models: ids, hashes, encodings, the index."""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import platform
import secrets
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from runtime.messages import ErrorRecord, IdRanges
from runtime.record.store import SCHEMA, pack_ints

VERSIONED = ("pandas", "numpy", "sklearn", "pyarrow", "pydantic", "networkx", "skops")

_id_lock = threading.Lock()
_last_id = ""


def new_run_id(after: str = "") -> str:
    """A unique run id that sorts after ``after``.

    It is the UTC time to the millisecond and a few random letters, for example
    ``20261122-024500-123-9f3a1c``.
    """
    global _last_id
    with _id_lock:
        after = max(after, _last_id)
        while True:
            now = datetime.datetime.now(datetime.UTC)
            run_id = (now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond // 1000:03d}-"
                      + secrets.token_hex(3))
            if run_id[:19] > after[:19]:
                _last_id = run_id
                return run_id
            time.sleep(0.001)


def flow_hash(flow: dict[str, Any]) -> str:
    """A stable hash of a flow document."""
    text = json.dumps(flow, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def versions() -> dict[str, str]:
    """The versions of Python, Edgewise and the libraries a kept run depends on."""
    import importlib.metadata

    found = {"python": platform.python_version()}
    try:
        found["edgewise"] = importlib.metadata.version("edgewise")
    except importlib.metadata.PackageNotFoundError:
        found["edgewise"] = "unknown"
    for name in VERSIONED:
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module else None
        if version is None:
            try:
                version = importlib.metadata.version("scikit-learn" if name == "sklearn"
                                                     else name)
            except importlib.metadata.PackageNotFoundError:
                continue
        found[name] = str(version)
    return found


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


UNSTORABLE = object()
SCALARS = {int, float, str, bool, type(None)}
ERROR_KEY = "$error_record"


def json_value(value: Any, depth: int = 0) -> Any:
    """The value as exact JSON types, or UNSTORABLE."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth > 20:
        return UNSTORABLE
    if isinstance(value, ErrorRecord):
        return {ERROR_KEY: value.to_json()}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            plain = json_value(item, depth + 1)
            if plain is UNSTORABLE or not isinstance(key, str):
                return UNSTORABLE
            out[key] = plain
        return out
    if isinstance(value, list | tuple):
        items = [json_value(v, depth + 1) for v in value]
        return UNSTORABLE if any(i is UNSTORABLE for i in items) else items
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return json_value(item(), depth + 1)
    return UNSTORABLE


def new_index(path: Path) -> sqlite3.Connection:
    """Make the index whole under a temporary name, then open it in WAL mode.

    A run killed at any point has either no index or one with every table.
    """
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    made = sqlite3.connect(part)
    try:
        made.executescript(SCHEMA)
        made.commit()
    finally:
        made.close()
    os.replace(part, path)
    db = sqlite3.connect(path, check_same_thread=False)
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;")
    return db


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under a folder."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
