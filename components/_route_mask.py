"""Which rows a ``frame.route`` query matches, a comparison with a missing value being unknown.

pandas answers ``x > 2`` with False where ``x`` is missing, so ``not (x > 2)`` and
``~(x > 2)`` answer True there, and ``s != 'a'`` is True where ``s`` is None: rows with
missing values would go to a route instead of falling through to ``otherwise``. Here the
query's ``and``/``or``/``not`` (``&``/``|``/``~``) are evaluated in three-valued logic, as
SQL does: each part below them (a comparison, a method call, a boolean column) is evaluated
by pandas, exactly as ``DataFrame.eval`` evaluates it, and is *unknown* on the rows where a
missing value goes into it; ``not unknown`` is unknown, ``unknown and False`` is False,
``unknown or True`` is True, and an unknown answer is no match. On rows without missing
values the answer is pandas' own. ``isna()``, ``notna()`` (and ``isnull``, ``notnull``)
and a method given ``na=`` say what a missing value means, so nothing in them is unknown.
"""

from __future__ import annotations

import ast
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from runtime import column_identifier, evaluate_frame, expression_tree, frame_names

if TYPE_CHECKING:
    import pandas as pd

NULL_CHECKS = frozenset({"isna", "notna", "isnull", "notnull"})


class NotTrueOrFalseError(ValueError):
    """A part of the query gives values that are not true or false."""

    def __init__(self, kind: str) -> None:
        """Keep the kind of values the part gave, for the message."""
        super().__init__(kind)
        self.kind = kind


def _columns(data: pd.DataFrame) -> dict[str, Hashable]:
    """The identifier of each column and index name, as pandas offers it to expressions."""
    found: dict[str, Hashable] = {}
    for name in frame_names(data):
        identifier = column_identifier(name)
        if identifier is not None:
            found.setdefault(identifier, name)
    return found


class _Evaluator:
    """Evaluate a checked query's tree over one DataFrame, in three-valued logic."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data
        self.columns = _columns(data)

    def missing(self, node: ast.AST) -> Any:
        """Rows where a missing value goes into ``node``: a numpy bool array, or False."""
        import numpy as np

        if isinstance(node, ast.Name):
            return self.name_missing(node.id)
        if isinstance(node, ast.Constant):
            return np.ones(len(self.data), dtype=bool) if node.value is None else False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in NULL_CHECKS or any(k.arg == "na" for k in node.keywords)):
            return False
        if isinstance(node, ast.List | ast.Tuple):  # a literal list: 'x in [1, None]'
            return False
        result: Any = False
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                result = result | self.missing(child)
        return result

    def name_missing(self, identifier: str) -> Any:
        import numpy as np
        import pandas as pd

        data = self.data
        if identifier not in self.columns:
            if identifier == "index" and data.index.nlevels == 1:
                return np.asarray(data.index.isna(), dtype=bool)
            return False  # inf, or a name pandas resolves itself
        name = self.columns[identifier]
        if name in data.columns:
            column = data[name]
            if isinstance(column, pd.DataFrame):  # the same name twice
                return column.isna().any(axis=1).to_numpy(dtype=bool)
            return column.isna().to_numpy(dtype=bool)
        level = list(data.index.names).index(name)
        return np.asarray(pd.isna(data.index.get_level_values(level)), dtype=bool)

    def truth(self, node: ast.expr) -> Any:
        """The node's answer for each row, as a pandas nullable boolean array."""
        if isinstance(node, ast.BoolOp):
            answers = [self.truth(value) for value in node.values]
            result = answers[0]
            for answer in answers[1:]:
                result = result & answer if isinstance(node.op, ast.And) else result | answer
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
            return ~self.truth(node.operand)
        answer = self.part(node)
        unknown = self.missing(node)
        if unknown is not False and unknown.any():
            answer[unknown] = None
        return answer

    def part(self, node: ast.expr) -> Any:
        """What pandas answers for one part of the query, as a nullable boolean array."""
        import numpy as np
        import pandas as pd

        value = evaluate_frame(self.data, ast.unparse(node))
        rows = len(self.data)
        if isinstance(value, bool | np.bool_):
            return pd.array(np.full(rows, bool(value)), dtype="boolean")
        if isinstance(value, pd.Series) and len(value) == rows:
            if pd.api.types.is_bool_dtype(value.dtype):
                return value.astype("boolean").array
            if value.dtype == object:
                missing = value.map(lambda v: v is None or v is pd.NA
                                    or (isinstance(v, float) and v != v))
                if value.map(lambda v: isinstance(v, bool | np.bool_)).where(
                        ~missing, other=True).all():
                    answer = pd.array(value.where(~missing, other=False).to_numpy(dtype=bool),
                                      dtype="boolean")
                    answer[missing.to_numpy(dtype=bool)] = None
                    return answer
        kind = value.dtype if isinstance(value, pd.Series) else type(value).__name__
        raise NotTrueOrFalseError(str(kind))


def matches(data: pd.DataFrame, expr: str) -> Any:
    """The rows ``expr`` is true for, as a numpy bool array; unknown is not a match.

    ``expr`` must have passed ``check_expression`` against ``data``'s names; each part is
    checked again as pandas evaluates it.

    Raises:
        ExpressionError: the query is refused; nothing was evaluated.
        NotTrueOrFalseError: a part of it gives values that are not true or false.
    """
    answer = _Evaluator(data).truth(expression_tree(expr))
    return answer.fillna(False).to_numpy(dtype=bool)
