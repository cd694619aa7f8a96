"""What a standby run worker imports before Run is pressed, so that a run starts at once."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

WARM_MODULES = ("pandas", "sklearn.base", "sklearn.linear_model", "sklearn.model_selection",
                "sklearn.metrics", "sklearn.datasets", "pyarrow.parquet", "skops.io",
                "scipy.stats")
MAX_HINTS = 40
WORKER_NICENESS = 5  # how much lower a worker's priority is than the editor's
_DOTTED = re.compile(r"^(sklearn|pandas|numpy|scipy)(\.[A-Za-z_]\w*)+$")


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a param value (nested lists and mappings too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def module_of(name: str) -> str | None:
    """The module a dotted name in a param lives in (``sklearn.svm.SVC`` -> ``sklearn.svm``).

    Only names from the libraries a flow runs on are taken; anything else gives None.
    """
    if not _DOTTED.match(name):
        return None
    parts = name.split(".")
    while len(parts) > 1 and parts[-1][:1].isupper():  # a class, not a module
        parts.pop()
    return ".".join(parts)


def flow_hints(flow: dict[str, Any]) -> list[str]:
    """Modules a flow's run will import besides the usual ones: the estimators in its params.

    Every installed component family is imported anyway (``runtime.default_registry``);
    their heavy imports happen inside their functions, so the params say what a run needs.

    Args:
        flow: a decoded flow document (maybe invalid: anything unexpected is skipped).
    """
    found: list[str] = []
    nodes = flow.get("nodes") if isinstance(flow.get("nodes"), list) else []
    for node in nodes or []:
        if not isinstance(node, dict):
            continue
        for text in _strings(node.get("params")):
            named = module_of(text)
            if named:
                found.append(named)
    return list(dict.fromkeys(found))[:MAX_HINTS]


def warm_up(hints: Iterable[str] = ()) -> None:
    """Import the heavy libraries and the flow's own modules; a module that fails is skipped.

    A hint names only modules of the libraries a flow runs on (see ``module_of``); plugin
    code of a workspace is never imported here.
    """
    for name in (*WARM_MODULES, *hints):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - warming is best effort; the run reports
            continue
    import runtime

    runtime.default_registry()
