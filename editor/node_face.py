"""The key param a node shows on its face, under its title: one table, one rule per component."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Rule = Callable[[dict[str, Any]], str]


def _text(value: Any) -> str:
    """A param value as one line of text ('' for nothing)."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return " ".join(str(value).split())


def short_class(name: Any) -> str:
    """The class name of a dotted estimator name: ``RandomForestClassifier``."""
    return str(name).rsplit(".", 1)[-1] if isinstance(name, str) else ""


def estimator(params: dict[str, Any]) -> str:
    """An estimator choice: its class, or its pipeline's classes joined by arrows."""
    steps = params.get("steps")
    if isinstance(steps, list) and steps:
        return " → ".join(short_class(s.get("estimator")) for s in steps if isinstance(s, dict))
    return short_class(params.get("estimator"))


def _basename(path: Any) -> str:
    return str(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] if path else ""


def _param(name: str) -> Rule:
    return lambda params: _text(params.get(name))


def _path(name: str = "path") -> Rule:
    return lambda params: _basename(params.get(name))


def _keys(name: str) -> Rule:
    def rule(params: dict[str, Any]) -> str:
        value = params.get(name)
        return ", ".join(str(k) for k in value) if isinstance(value, dict) else _text(value)
    return rule


def _evaluate(params: dict[str, Any]) -> str:
    found = params.get("estimators")
    if not isinstance(found, list):
        return ""
    return ", ".join(str(e.get("name") or estimator(e)) for e in found if isinstance(e, dict))


def _sql_read(params: dict[str, Any]) -> str:
    return _text(params.get("query"))


def _sql_write(params: dict[str, Any]) -> str:
    table, base = _text(params.get("table")), _basename(params.get("database"))
    return f"{base}: {table}" if base and table else base or table


def _function(params: dict[str, Any]) -> str:
    """The first line of a function's code that says something (its ``def`` line)."""
    code = params.get("code")
    if not isinstance(code, str):
        return ""
    lines = [line.strip() for line in code.splitlines()
             if line.strip() and not line.strip().startswith(("#", "import ", "from "))]
    named = [line for line in lines if line.startswith("def ")]
    return (named or lines or [""])[0].removesuffix(":")


def _split(params: dict[str, Any]) -> str:
    """The share held out: ``test 25%, stratified``."""
    size = params.get("test_size", 0.25)
    if not isinstance(size, int | float) or isinstance(size, bool):
        return ""
    return f"test {size * 100:g}%" + (", stratified" if params.get("stratify") is True else "")


def _plot(params: dict[str, Any]) -> str:
    kind, y = _text(params.get("kind") or "line"), _text(params.get("y"))
    return f"{kind}: {y}" if y else kind


def _serve(params: dict[str, Any]) -> str:
    """How a scorer shares the rows: ``mode: canary 10%``."""
    mode = _text(params.get("mode") or "champion")
    percent = params.get("canary_percent", 10)
    share = f" {percent:g}%" if mode == "canary" and isinstance(percent, int | float) else ""
    return f"mode: {mode}{share}"


FACES: dict[str, Rule] = {
    "dataset.load": _param("name"),
    "ml.fit": estimator,
    "ml.cross_validate": estimator,
    "ml.search": estimator,
    "ml.evaluate": _evaluate,
    "ml.split": _split,
    "ml.serve": _serve,
    "csv.read": _path(),
    "csv.write": _path(),
    "parquet.read": _path(),
    "parquet.write": _path(),
    "jsonl.write": _path(),
    "model.save": _path(),
    "model.load": _path(),
    "sql.read": _sql_read,
    "sql.write": _sql_write,
    "frame.query": _param("expr"),
    "frame.select": _param("columns"),
    "frame.assign": _keys("columns"),
    "frame.groupby": _param("by"),
    "frame.sort": _param("by"),
    "frame.join": _param("on"),
    "frame.dummies": _param("columns"),
    "frame.rename": _keys("columns"),
    "frame.route": _keys("routes"),
    "chart.plot": _plot,
    "python.function": _function,
    "stream.range": _param("count"),
    "stream.chunks": _param("rows"),
}


def face_text(component: str, params: Any) -> str:
    """The key param of a node, in full, as one line ('' when it has none to show).

    Args:
        component: the node's component id.
        params: the node's params as in the flow file (possibly invalid).

    Returns:
        The text for the node's face; the canvas shortens it with an ellipsis and keeps the
        full text for the node's tooltip.
    """
    rule = FACES.get(component)
    if rule is None or not isinstance(params, dict):
        return ""
    try:
        return rule(params)
    except (AttributeError, TypeError, ValueError):  # a half-edited param: show nothing
        return ""
