"""The ``frame`` family: row and column operations on pandas DataFrames that keep row ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from components._columns import select_columns
from runtime import (
    ExpressionError,
    Params,
    check_expression,
    component,
    plain,
    query_frame,
    same_columns,
)

if TYPE_CHECKING:
    import pandas as pd


class QueryParams(Params):
    """Settings of ``frame.query``."""

    expr: str = Field(min_length=1,
                      description="A pandas query, e.g. 'petal_length > 2 and target != 0'. "
                                  "Quote odd column names in `backticks`. Columns, constants, "
                                  "comparisons, and/or/not, arithmetic, 'in [...]' and a few "
                                  "methods (isna(), str.contains(...), dt.year, ...) only.")

    @field_validator("expr")
    @classmethod
    def _allowed(cls, expr: str) -> str:
        try:
            check_expression(expr)
        except ExpressionError as exc:
            msg = f"not a valid query: {exc}"
            raise ValueError(msg) from None
        return expr


@component("frame.query", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=QueryParams, columns=same_columns(),
           column_params={"data": ["expr.expressions"]})
def query(data: pd.DataFrame, *, params: QueryParams) -> pd.DataFrame:
    """Keep the rows for which a pandas query is true; row ids are kept.

    The query is checked again against the data's own columns before pandas evaluates it:
    only the expressions of :mod:`runtime._expressions` run.
    """
    columns = plain(", ".join(map(str, data.columns)))
    try:
        return query_frame(data, params.expr)
    except ExpressionError as exc:
        msg = f"query {params.expr!r} refused: {exc} (columns: {columns})"
        raise ValueError(msg) from exc
    except Exception as exc:
        msg = f"query {params.expr!r} failed: {type(exc).__name__}: {exc} (columns: {columns})"
        raise ValueError(msg) from exc


class SelectParams(Params):
    """Settings of ``frame.select``."""

    columns: list[str] = Field(min_length=1, description="The columns to keep, in this order.")


@component("frame.select", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=SelectParams, columns=select_columns, column_params={"data": ["columns"]})
def select(data: pd.DataFrame, *, params: SelectParams) -> pd.DataFrame:
    """Keep only the named columns, in the given order; row ids are kept."""
    missing = [c for c in params.columns if c not in data.columns]
    if missing:
        msg = (f"no column(s) {missing}; the DataFrame has: "
               f"{', '.join(map(str, data.columns))}")
        raise KeyError(msg)
    return data[params.columns]
