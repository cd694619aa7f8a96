"""What identifies a kept run: its id, the hash of its flow, and the versions it ran with."""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import platform
import secrets
import sys
import threading
import time
from typing import Any

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
