"""The one whitelist for the pandas expressions of flows, checked before pandas sees them.

pandas evaluates attribute chains and calls, so ``index.__class__.__init__.__globals__``
reaches ``os``. :func:`check_expression` reads an expression exactly as pandas will (see
:mod:`runtime._expression_reading`), parses it with :mod:`ast` and allows only:

- column names, plain or in ```backticks```, and ``index`` and ``inf``;
- constants: strings, numbers, ``True``, ``False``, ``None``;
- comparisons, ``and``/``or``/``not``, ``&``/``|``/``~`` and ``+ - * / // % **``;
- ``in``/``not in`` (and ``==``/``!=``) with a literal list such as ``[1, 2]``;
- the methods in :data:`ALLOWED_METHODS` and the fields in :data:`ALLOWED_FIELDS`,
  with literal arguments.

Everything else is refused with a message naming the part and its column: names starting
with ``__`` and attributes starting with ``_``, any other call or attribute, ``@`` locals,
subscripts, lambdas, comprehensions, f-strings, ``:=``, ``*`` unpacking, and arithmetic on
constants alone (``9**9**9`` would never finish). :data:`MAX_LENGTH`, :data:`MAX_OPERATIONS`
and :data:`MAX_DEPTH` keep an expression within what pandas evaluates without running out
of stack.
"""

from __future__ import annotations

import ast
import importlib
import tokenize
from collections.abc import Collection, Hashable
from typing import TYPE_CHECKING, Any

from runtime._expression_reading import (
    ExpressionError,
    Reading,
    column_identifier,
    python_source,
    read,
    where,
)
from runtime._expression_tree import (
    ALLOWED_FIELDS,
    ALLOWED_METHODS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_OPERATIONS,
    Method,
    check_tree,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ALLOWED_FIELDS", "ALLOWED_METHODS", "MAX_DEPTH", "MAX_LENGTH", "MAX_OPERATIONS",
           "ExpressionError", "Method", "check_expression", "column_identifier", "evaluate_frame",
           "expression_tree", "frame_names", "query_frame"]


def check_expression(expr: str, *, columns: Collection[Hashable] | None = None) -> None:
    """Refuse an expression pandas must not evaluate; return if it may.

    Args:
        expr: The expression as written in the flow, e.g. ``frame.query``'s ``expr``.
        columns: The column (and index) names of the data, if known: then any other name
            is refused, with the closest column suggested. Without them, any plain name is
            taken for a column.

    Raises:
        ExpressionError: Its message names the refused part and its column.
    """
    _check(expr, columns)


def expression_tree(expr: str, *, columns: Collection[Hashable] | None = None) -> ast.expr:
    """The syntax tree pandas evaluates for ``expr``, once the expression passed the check.

    For a component that evaluates an expression part by part (``frame.route`` does, to
    give missing values three-valued logic): names in it are the identifiers pandas gives
    the columns (see :func:`column_identifier`), and ``ast.unparse`` of a part is an
    expression :func:`evaluate_frame` takes, checking it again.

    Args:
        expr: The expression as written in the flow.
        columns: The names the data has, if known (see :func:`check_expression`).

    Raises:
        ExpressionError: The expression is refused.
    """
    return _checked_tree(expr, columns)[1]


def _check(expr: str, columns: Collection[Hashable] | None) -> Reading:
    return _checked_tree(expr, columns)[0]


def _checked_tree(expr: str, columns: Collection[Hashable] | None) -> tuple[Reading, ast.expr]:
    if len(expr) > MAX_LENGTH:
        msg = (f"the expression is {len(expr):,} characters long; the limit is "
               f"{MAX_LENGTH:,}: split it over several nodes")
        raise ExpressionError(msg, part="length")
    surrogate = next((i for i, char in enumerate(expr) if "\ud800" <= char <= "\udfff"), None)
    if surrogate is not None:
        msg = (f"character {expr[surrogate]!r} at {where(expr, surrogate)} is half of a "
               f"character (a lone surrogate) and cannot be read")
        raise ExpressionError(msg, part="character", offset=surrogate)
    reading = read(expr)
    source = python_source(expr, reading)
    try:
        tree = ast.parse(source.text, mode="eval")
    except SyntaxError as exc:
        if not exc.offset or exc.offset > len(source.text):
            msg = f"{exc.msg}: the expression ends too soon"
            raise ExpressionError(msg, part="syntax", offset=len(expr)) from None
        offset = source.origin(exc.offset - 1)
        msg = f"{exc.msg} at {where(expr, offset)}"
        raise ExpressionError(msg, part="syntax", offset=offset) from None
    except ValueError as exc:  # e.g. a null character
        msg = f"the expression cannot be read: {exc}"
        raise ExpressionError(msg, part="syntax") from None
    except (RecursionError, MemoryError):
        msg = (f"the expression is nested more than {MAX_DEPTH} levels deep: "
               f"split it over several nodes")
        raise ExpressionError(msg, part="depth") from None
    check_tree(expr, source, reading, tree.body, columns)
    return reading, tree.body


def frame_names(data: pd.DataFrame) -> list[Hashable]:
    """The names an expression on ``data`` may use: its columns and its index names."""
    return [*data.columns, *(name for name in data.index.names if name is not None)]


def _agree_with_pandas(reading: Reading) -> None:
    """Refuse, rather than evaluate, an expression pandas would tokenise differently."""
    parsing = importlib.import_module("pandas.core.computation.parsing")
    try:
        theirs = list(parsing.tokenize_string(reading.line))
    except (tokenize.TokenError, SyntaxError):
        theirs = []
    if theirs != [(tok.type, tok.string) for tok in reading.tokens]:
        msg = "pandas reads this expression differently from the check, so it is refused"
        raise ExpressionError(msg, part="tokens")


def query_frame(data: pd.DataFrame, expr: str) -> pd.DataFrame:
    """``data.query(expr)``, once the expression passed the check against ``data``'s names.

    pandas runs with its python engine and empty local and global scopes, so nothing of the
    program is reachable, even by name.

    Raises:
        ExpressionError: The expression is refused; nothing was evaluated.
    """
    _agree_with_pandas(_check(expr, frame_names(data)))
    return data.query(expr, parser="pandas", engine="python", local_dict={}, global_dict={})


def evaluate_frame(data: pd.DataFrame, expr: str) -> Any:
    """``data.eval(expr)``, a column or a value, once the expression passed the check.

    Raises:
        ExpressionError: The expression is refused; nothing was evaluated.
    """
    _agree_with_pandas(_check(expr, frame_names(data)))
    return data.eval(expr, parser="pandas", engine="python", local_dict={}, global_dict={})
