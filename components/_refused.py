"""Options a flow may not give scikit-learn: those that would load code or touch files."""

from __future__ import annotations

from typing import Any

# Options a flow may not set, at any depth and in search grids, with the values allowed and
# why. A flow is data: running it must never load code from a file, nor read or write files
# it names. Checked across scikit-learn's constructors: ``memory`` (Pipeline,
# AgglomerativeClustering, FeatureAgglomeration, OPTICS) takes a path or a joblib.Memory, and
# the text vectorizers' ``input`` makes them open the files the data names. Options that take
# callables (func, tokenizer, score_func, ...) cannot be given from JSON, and ``pre_dispatch``
# strings are read by joblib's arithmetic-only evaluator.
REFUSED_OPTIONS: dict[str, tuple[tuple[Any, ...], str]] = {
    "memory": ((None,), "it caches fits as pickle files on disk (joblib.Memory), and loading a "
                        "planted or altered pickle runs code; it also writes wherever the path "
                        "points. Flows are data: leave 'memory' unset"),
    "input": (("content",), "'filename' and 'file' make the vectorizer open the files named "
                            "in the data, so a flow could read any file. Flows are data: pass "
                            "the text itself ('content')"),
}
# Options holding a search grid of a nested search (GridSearchCV and friends).
GRID_OPTIONS = ("param_grid", "param_distributions")


def refused(key: str, value: Any) -> str | None:
    """Why an option (or a grid's 'step__option') may not take ``value``; None if it may."""
    rule = REFUSED_OPTIONS.get(key.rsplit("__", 1)[-1])
    if rule is None:
        return None
    allowed, why = rule
    if any(value is a or (isinstance(value, str) and value == a) for a in allowed):
        return None
    return f"'{key}' is refused: {why}"


def grid_refusals(grid: Any, where: str) -> list[str]:
    """The refused values of a param grid (a mapping of names to lists, or a list of them)."""
    found: list[str] = []
    grids = grid if isinstance(grid, list) else [grid]
    for index, one in enumerate(grids):
        if not isinstance(one, dict):
            continue
        at = f"{where}[{index}]" if isinstance(grid, list) else where
        for key, values in one.items():
            for value in values if isinstance(values, list) else [values]:
                why = refused(str(key), value)
                if why is not None:
                    found.append(f"{at}.{key}: {why}")
                    break
    return found
