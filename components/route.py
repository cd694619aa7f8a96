"""The ``frame.route`` switch: each row goes to the first route it matches, or to ``otherwise``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from components._columns import route_columns
from runtime import (
    ExpressionError,
    Params,
    PortDecl,
    check_expression,
    component,
    frame_names,
    plain,
)

if TYPE_CHECKING:
    import pandas as pd

OTHERWISE = "otherwise"
RESERVED = (OTHERWISE, "error")
ROUTE_NAME = re.compile(r"[a-z][a-z0-9_]*")


class RouteParams(Params):
    """Settings of ``frame.route``."""

    routes: dict[str, str] = Field(
        default_factory=dict,
        description="Output port name to a pandas query, tried in this order, e.g. "
                    "{\"sure\": \"confidence >= 0.9\", \"unsure\": \"confidence >= 0.6\"}. "
                    "A row goes to the first route it matches; a row that matches none, "
                    "or for which the query is unknown (it compares a missing value), goes "
                    "to 'otherwise'. Names are snake_case.")
    emit_empty: bool = Field(
        default=False,
        description="Also emit a DataFrame with no rows on an output that got none, so "
                    "that every output sends one message per message received.")

    @model_validator(mode="wrap")
    @classmethod
    def _valid_routes(cls, data: Any, handler: ModelWrapValidatorHandler[RouteParams],
                      ) -> RouteParams:
        """Check every route, and report every bad one, not only the first."""
        params = handler(data)
        problems = [problem for name, expr in params.routes.items()
                    if (problem := _route_problem(name, expr)) is not None]
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, [
                InitErrorDetails(type=PydanticCustomError("value_error", "{reason}",
                                                          {"reason": problem}),
                                 loc=("routes",), input=params.routes)
                for problem in problems])
        return params


def _route_problem(name: str, expr: str) -> str | None:
    """What is wrong with one route, or None."""
    if name in RESERVED:
        return f"route name '{name}' is taken by the built-in '{name}' output; choose another name"
    if not ROUTE_NAME.fullmatch(name):
        return (f"route name {plain(repr(name))} must be snake_case: lowercase letters, "
                "digits and _, starting with a letter (e.g. 'high_risk')")
    if not expr.strip():
        return f"route '{name}' has an empty query"
    try:
        check_expression(expr)
    except ExpressionError as exc:
        return f"route '{name}': not a valid query: {exc}"
    return None


def route_outputs(params: RouteParams) -> dict[str, PortDecl]:
    """One DataFrame output per route, in order, then ``otherwise``."""
    return {**dict.fromkeys(params.routes, "DataFrame"), OTHERWISE: "DataFrame"}


def _mask(data: pd.DataFrame, name: str, expr: str) -> Any:
    """The rows a route's query is true for, as a numpy bool array.

    A comparison with a missing value is unknown, and stays unknown under ``not``/``~``;
    an unknown answer is no match (see :mod:`components._route_mask`).
    """
    from components._route_mask import NotTrueOrFalseError, matches

    columns = plain(", ".join(map(str, data.columns)))
    try:
        check_expression(expr, columns=frame_names(data))
        return matches(data, expr)
    except ExpressionError as exc:
        msg = f"route '{name}': query {expr!r} refused: {exc} (columns: {columns})"
        raise ValueError(msg) from exc
    except NotTrueOrFalseError as exc:
        msg = (f"route '{name}': query {expr!r} must be true or false for each row, "
               f"but it gives {exc.kind} values")
        raise ValueError(msg) from None
    except Exception as exc:
        msg = (f"route '{name}': query {expr!r} failed: {type(exc).__name__}: {exc} "
               f"(columns: {columns})")
        raise ValueError(msg) from exc


@component("frame.route", inputs={"data": "DataFrame"}, outputs=route_outputs,
           params=RouteParams, columns=route_columns,
           column_params={"data": ["routes.expressions"]})
def route(data: pd.DataFrame, *, params: RouteParams) -> dict[str, pd.DataFrame]:
    """Send each row to the first route whose query it matches, or to ``otherwise``.

    Routes are tried in order; a row goes to exactly one output, so the rows out always
    add up to the rows in. A comparison with a missing value (NaN, None, NA, NaT) is
    unknown, and stays unknown under ``not`` and ``~`` (so ``~(x > 2)`` and ``s != 'a'``
    do not take a row whose ``x`` or ``s`` is missing); an unknown answer is no match, so
    such a row falls through to the next route and, in the end, to ``otherwise``: no row
    is lost, unlike two complementary ``frame.query`` nodes. ``isna()``, ``notna()`` and
    ``na=`` say what a missing value means. Without missing values, a route takes exactly
    the rows ``DataFrame.query`` selects. Row ids and column types are
    kept. A query that fails on a message (an unknown column, say) gives an error record
    for that message, and none of its rows go out.

    Each message gives one DataFrame on each output that got rows; an output that got no
    rows emits nothing, because an empty table would reach models and files downstream
    (count rows with ``stream.count`` and ``unit: rows``). Set ``emit_empty`` to have
    every output emit for every message, e.g. to keep two streams paired downstream.
    """
    import numpy as np
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        msg = f"frame.route routes the rows of DataFrames, but got a {type(data).__name__}"
        raise TypeError(msg)
    remaining = np.ones(len(data), dtype=bool)
    parts: dict[str, Any] = {}
    for name, expr in params.routes.items():
        taken = _mask(data, name, expr) & remaining
        remaining &= ~taken
        parts[name] = taken
    parts[OTHERWISE] = remaining
    return {name: data[mask] for name, mask in parts.items()
            if params.emit_empty or mask.any()}
