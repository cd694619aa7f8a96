"""Column knowledge at validation time: which columns reach each port, and params naming others.

A component may declare how its output columns follow from its params and its input
columns (``columns=`` on ``@component``), and which of its params name columns of which
input (``column_params=``). Walking a flow in topological order, :func:`check_columns`
works out the columns of every DataFrame port it can and reports each param that names a
column its input will not have. ``None`` stands for "not known": a node whose input
columns are unknown is not checked, so there is never a false alarm.

``column_params`` maps an input port to param selectors::

    column_params={"data": ["target", "features"],             # str or list[str]
                   ...}

- ``"name"``: the param's value is a column, a list of columns, or a mapping whose keys
  are columns (``frame.rename``); ``None`` names nothing.
- ``"name.keys"``: only a mapping's keys; any other value names nothing
  (``frame.fillna``'s ``value``, a scalar or a mapping of column to value).
- ``"name.values"``: a mapping whose values are columns, or pairs whose first item is one
  (``frame.groupby``'s ``{"out": ["column", "function"]}``).
- ``"name.expressions"``: a pandas expression, or a mapping of names to expressions, each
  evaluated on the input (``frame.query``, ``frame.route``).
- ``"name.assignments"``: a mapping of new column to expression, evaluated in order, so a
  later expression may use an earlier new column (``frame.assign``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from runtime._errors import Problem
from runtime._expression_reading import ExpressionError
from runtime._expressions import check_expression
from runtime._registry import ColumnsFunction, ComponentSpec, Params
from runtime._terminal import plain

Columns = list[str] | None
"""The columns of a DataFrame port, in order; None when they cannot be known before a run."""

__all__ = ["ColumnsFunction", "Columns", "added", "check_columns", "same_columns"]
SHOWN = 20  # columns listed in a message, at most
NodeColumns = tuple[ComponentSpec, Params | None]


def same_columns(source: str = "data", *outputs: str) -> ColumnsFunction:
    """Columns function of a component whose outputs have its ``source`` input's columns.

    Args:
        source: The input port whose columns pass through.
        outputs: The output ports that get them; by default the port named like the input.
    """
    targets = outputs or (source,)

    def columns(_params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
        return dict.fromkeys(targets, inputs.get(source))

    return columns


def added(columns: Columns, new: Sequence[str]) -> Columns:
    """The columns after ``DataFrame.assign`` of ``new``: existing names keep their place."""
    if columns is None:
        return None
    return [*columns, *(name for name in dict.fromkeys(new) if name not in columns)]


def split_selector(selector: str) -> tuple[str, str]:
    """Split ``"param.kind"`` into the param name and the kind ("" for plain names)."""
    name, _, kind = selector.partition(".")
    return name, kind


def named_columns(value: Any, kind: str = "") -> list[str]:
    """The column names a param value names, by the rules of its selector kind."""
    if value is None:
        return []
    if kind == "keys":
        return [k for k in value if isinstance(k, str)] if isinstance(value, Mapping) else []
    if kind == "values":
        found: list[str] = []
        for item in value.values() if isinstance(value, Mapping) else []:
            first = item[0] if isinstance(item, list | tuple) and item else item
            if isinstance(first, str):
                found.append(first)
        return found
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [k for k in value if isinstance(k, str)]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _listed(columns: list[str]) -> str:
    shown = ", ".join(columns[:SHOWN])
    more = f", … ({len(columns)} in all)" if len(columns) > SHOWN else ""
    return plain(shown + more)


def _missing(node_id: str, index: int, param: str, column: str, port: str,
             columns: list[str]) -> Problem:
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f"; did you mean '{plain(close[0])}'?" if close else ""
    return Problem(
        message=f"node '{node_id}', param '{param}': no column '{plain(column)}' in the data "
                f"reaching input '{port}' (columns: {_listed(columns)}){hint}",
        code="unknown-column", node=node_id, param=param,
        where=f"nodes[{index}].params.{param}")


def _expression_problem(node_id: str, index: int, param: str, expr: str, port: str,
                        columns: list[str]) -> Problem | None:
    try:
        check_expression(expr, columns=columns)
    except ExpressionError as exc:
        if not str(exc).startswith("no column"):
            return None  # refused for another reason: the params check reports that
        said, _, hint = str(exc).partition("; did you mean")
        return Problem(
            message=f"node '{node_id}', param '{param}': expression {plain(repr(expr))}: "
                    f"{plain(said)} in the data reaching input '{port}' (columns: "
                    f"{_listed(columns)}){'; did you mean' + plain(hint) if hint else ''}",
            code="unknown-column", node=node_id, param=param,
            where=f"nodes[{index}].params.{param}")
    return None


def _expressions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [v for v in value.values() if isinstance(v, str)]
    return []


def node_problems(node_id: str, index: int, spec: ComponentSpec, params: Params,
                  inputs: dict[str, Columns]) -> list[Problem]:
    """The params of one node that name columns its known inputs lack."""
    problems: list[Problem] = []
    for port, selectors in (spec.column_params or {}).items():
        columns = inputs.get(port)
        if columns is None:
            continue
        for selector in selectors:
            param, kind = split_selector(selector)
            value = getattr(params, param, None)
            if kind == "expressions":
                for expr in _expressions(value):
                    found = _expression_problem(node_id, index, param, expr, port, columns)
                    if found is not None:
                        problems.append(found)
            elif kind == "assignments":
                available = list(columns)
                for name, expr in (value.items() if isinstance(value, Mapping) else []):
                    found = _expression_problem(node_id, index, param, str(expr), port,
                                                available)
                    if found is not None:
                        problems.append(found)
                        break  # later expressions may use this column
                    available = added(available, [str(name)]) or available
            else:
                problems.extend(_missing(node_id, index, param, column, port, columns)
                                for column in named_columns(value, kind)
                                if column not in columns)
    return problems


def _output_columns(spec: ComponentSpec, params: Params,
                    inputs: dict[str, Columns]) -> dict[str, Columns]:
    """What the component's columns function gives, kept only where it is well formed."""
    if spec.columns_function is None:
        return {}
    given = spec.columns_function(params, inputs)
    outputs: dict[str, Columns] = {}
    for port, columns in given.items() if isinstance(given, Mapping) else ():
        if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
            outputs[str(port)] = list(columns)
    return outputs


def _merge(sources: list[Columns]) -> Columns:
    """The columns reaching a port fed by these sources: known only if all agree."""
    first = sources[0] if sources else None
    if first is None or any(s != first for s in sources):
        return None
    return list(first)


def check_columns(nodes: Mapping[str, NodeColumns], edges: Sequence[tuple[str, str, str, str]],
                  order: Sequence[str], position: Mapping[str, int]) -> list[Problem]:
    """Work out the columns of every port in ``order`` and report params naming others.

    Args:
        nodes: Node id to its component (with its resolved ports) and its params (None when
            they are invalid: its outputs are then unknown).
        edges: The valid edges, as (source node, source port, target node, target port).
        order: The node ids in topological order.
        position: Node id to its index in the flow file, for the problems' locations.

    Never raises: a node whose columns function or check fails is skipped, and what it
    outputs is taken as unknown.
    """
    known: dict[tuple[str, str], Columns] = {}
    feeding: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for source, source_port, target, target_port in edges:
        feeding.setdefault((target, target_port), []).append((source, source_port))
    problems: list[Problem] = []
    for node_id in order:
        if node_id not in nodes:
            continue
        spec, params = nodes[node_id]
        if params is None:
            continue
        inputs = {port: _merge([known.get(s) for s in feeding.get((node_id, port), [])])
                  for port in spec.inputs}
        try:
            problems.extend(node_problems(node_id, position.get(node_id, 0), spec, params,
                                          inputs))
        except Exception:  # noqa: BLE001, S112 - a broken check only loses its own problems
            pass
        try:
            outputs = _output_columns(spec, params, inputs)
        except Exception:  # noqa: BLE001 - a broken columns function makes them unknown
            outputs = {}
        for port, columns in outputs.items():
            known[(node_id, port)] = columns
    return problems
