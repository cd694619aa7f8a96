"""The walk over an expression's syntax tree that lets through only the whitelist.

:func:`check_tree` visits the tree left to right, so the first refused part is the
leftmost one, and refuses with a message naming the part and where it is written. The
whitelist itself is :data:`ALLOWED_METHODS` and :data:`ALLOWED_FIELDS` with the limits
:data:`MAX_LENGTH`, :data:`MAX_OPERATIONS` and :data:`MAX_DEPTH`; :mod:`runtime._expressions`
describes the rules and is the module to use.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, NoReturn

from runtime._expression_reading import (
    ExpressionError,
    Reading,
    Source,
    column_identifier,
    refusal,
    where,
)
from runtime._terminal import plain

MAX_LENGTH: Final = 10_000
"""The longest expression, in characters."""
MAX_OPERATIONS: Final = 100
"""The most operators, comparisons and calls in one expression (pandas recurses over them)."""
MAX_DEPTH: Final = 100
"""The deepest nesting of parts, such as parentheses inside parentheses."""


@dataclass(frozen=True)
class Method:
    """What an allowed method takes; every argument must be a literal."""

    required: int = 0
    optional: int = 0
    keywords: tuple[str, ...] = ()
    list_argument: bool = False


ALLOWED_METHODS: Final[Mapping[str, Method]] = MappingProxyType({
    "isna": Method(), "notna": Method(), "isnull": Method(), "notnull": Method(),
    "abs": Method(),
    "round": Method(optional=1, keywords=("decimals",)),
    "between": Method(required=2, keywords=("inclusive",)),
    "isin": Method(required=1, list_argument=True),
    "str.contains": Method(required=1, keywords=("case", "regex", "na")),
    "str.startswith": Method(required=1, keywords=("na",)),
    "str.endswith": Method(required=1, keywords=("na",)),
    "str.lower": Method(), "str.upper": Method(), "str.len": Method(),
    "str.strip": Method(optional=1),
})
"""The methods an expression may call, e.g. ``age.isna()``, ``name.str.contains('an')``.

Arguments are literals only: strings, numbers, ``True``, ``False``, ``None``, and for
``isin`` a literal list.
"""

ALLOWED_FIELDS: Final = frozenset({"dt.year", "dt.month", "dt.day", "dt.hour", "dt.minute",
                                   "dt.day_of_week"})
"""The accessor fields an expression may read, e.g. ``when.dt.year == 2024``."""

_ACCESSORS = frozenset(path.split(".")[0] for path in (*ALLOWED_METHODS, *ALLOWED_FIELDS)
                       if "." in path)
_ALWAYS_NAMES = frozenset({"index", "inf", "Inf"})
# pandas reads these names as its own built-ins (classes), never as columns.
_PANDAS_BUILTINS = frozenset({"Timestamp", "datetime", "list", "tuple"})
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_BINARY: Mapping[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|"}
_REFUSED_BINARY: Mapping[type[ast.operator], str] = {
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@"}
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_LIST_COMPARE = (ast.In, ast.NotIn, ast.Eq, ast.NotEq)
_PARTS: Mapping[type[ast.AST], str] = {
    ast.Lambda: "lambda", ast.Subscript: "subscript", ast.JoinedStr: "f-string",
    ast.Dict: "dict", ast.Set: "set", ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression", ast.NamedExpr: "':=' assignment",
    ast.Starred: "'*' unpacking", ast.IfExp: "'if ... else'", ast.Slice: "slice",
    ast.List: "list", ast.Tuple: "tuple", ast.Await: "'await'", ast.Yield: "'yield'"}
_LITERALS = "arguments must be literal strings, numbers, True, False or None"


def check_tree(expr: str, source: Source, reading: Reading, body: ast.expr,
               columns: Collection[Hashable] | None) -> None:
    """Refuse the first part of a parsed expression that is not on the whitelist.

    Args:
        expr: The expression as written.
        source: The Python text pandas parses, with the way back to ``expr``'s offsets.
        reading: The tokens of ``expr`` as pandas reads them.
        body: The parsed tree of ``source``.
        columns: The names the data has, if known (any other name is refused).

    Raises:
        ExpressionError: Its message names the refused part and where it is written.
    """
    _Checker(expr, source, reading, columns).check(body, 0)


class _Checker:
    """Walk the tree left to right, so the first refused part is the leftmost one."""

    def __init__(self, expr: str, source: Source, reading: Reading,
                 columns: Collection[Hashable] | None) -> None:
        self.expr, self.source, self.reading = expr, source, reading
        self.encoded = source.text.encode()
        self.columns = None if columns is None else [str(c) for c in columns]
        self.known = {column_identifier(c) for c in (() if columns is None else columns)}
        self.operations = 0

    def at(self, node: ast.AST, *, end_minus: int | None = None) -> int:
        """Where ``node`` starts in the expression; or ``end_minus`` characters before its end."""
        column = getattr(node, "col_offset", 0)
        if end_minus is not None:
            column = getattr(node, "end_col_offset", 0)
        chars = len(self.encoded[:column].decode(errors="ignore"))
        return self.source.origin(chars - (end_minus or 0))

    def refuse(self, part: str, offset: int, why: str) -> NoReturn:
        raise refusal(self.expr, part, offset, why)

    def count(self, node: ast.AST, operations: int) -> None:
        self.operations += operations
        if self.operations > MAX_OPERATIONS:
            msg = (f"the expression has more than {MAX_OPERATIONS} operators, comparisons "
                   f"and calls: split it over several nodes")
            raise ExpressionError(msg, part="operations", offset=self.at(node))

    def check(self, node: ast.expr, depth: int) -> None:
        if depth > MAX_DEPTH:
            msg = (f"the expression is nested more than {MAX_DEPTH} levels deep at "
                   f"{where(self.expr, self.at(node))}: split it over several nodes")
            raise ExpressionError(msg, part="depth", offset=self.at(node))
        deeper = depth + 1
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.BoolOp):
            self.count(node, len(node.values) - 1)
            for value in node.values:
                self.check(value, deeper)
        elif isinstance(node, ast.BinOp):
            self.binary(node, deeper)
        elif isinstance(node, ast.UnaryOp):  # not, ~, -, +: all of Python's
            self.count(node, 1)
            self.check(node.operand, deeper)
        elif isinstance(node, ast.Compare):
            self.compare(node, deeper)
        elif isinstance(node, ast.Call):
            self.call(node, deeper)
        elif isinstance(node, ast.Attribute):
            path = self.attribute_path(node, deeper)
            if path not in ALLOWED_FIELDS:
                self.refuse_attribute(node, path, call=False)
        elif isinstance(node, ast.Subscript):
            self.check(node.value, deeper)
            segment = ast.get_source_segment(self.source.text, node.slice) or "..."
            self.refuse(f"subscript [{plain(segment[:40])}]", self.at(node.slice),
                        "use a method such as str.startswith() instead")
        else:
            part = _PARTS.get(type(node), type(node).__name__)
            why = ("a literal list is allowed only after 'in', 'not in', '==' or '!=', "
                   "or in isin()") if isinstance(node, ast.List | ast.Tuple) else \
                "expressions may only compare, combine and compute on columns"
            self.refuse(part, self.at(node), why)

    def constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, _CONSTANT_TYPES):
            self.refuse(f"constant {node.value!r}", self.at(node),
                        "constants are strings, numbers, True, False or None")

    def name(self, node: ast.Name) -> None:
        written = self.reading.written[self.token_index(node)]
        if node.id.startswith("__"):
            self.refuse(f"name {written!r}", self.at(node),
                        "names starting with '__' are refused")
        if node.id in _PANDAS_BUILTINS:
            self.refuse(f"name {written!r}", self.at(node),
                        "pandas reads it as its own built-in, not as a column")
        if self.columns is None or node.id in _ALWAYS_NAMES or node.id in self.known:
            return
        column = written[1:-1].replace("``", "`") if written.startswith("`") else node.id
        close = difflib.get_close_matches(column, self.columns, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"no column {column!r} (at {where(self.expr, self.at(node))}){hint}"
        raise ExpressionError(msg, part=f"name {written!r}", offset=self.at(node))

    def token_index(self, node: ast.AST) -> int:
        offset = self.at(node)
        return max((i for i, at in enumerate(self.reading.origins) if at <= offset),
                   default=0)

    def binary(self, node: ast.BinOp, deeper: int) -> None:
        self.count(node, 1)
        self.check(node.left, deeper)
        if type(node.op) not in _BINARY:
            self.refuse(f"operator {_REFUSED_BINARY.get(type(node.op), '?')!r}",
                        self.operator_at(node.left, node.right),
                        "the operators are + - * / // % ** & |")
        if not (_has_name(node.left) or _has_name(node.right)):
            segment = ast.get_source_segment(self.source.text, node) or ""
            self.refuse(f"arithmetic on constants '{plain(segment[:40])}'", self.at(node),
                        "write the value itself (some, like 9**9**9, never finish)")
        self.check(node.right, deeper)

    def operator_at(self, left: ast.AST, right: ast.AST) -> int:
        """Where the operator between ``left`` and ``right`` is written."""
        start = len(self.encoded[:getattr(left, "end_col_offset", 0)].decode(errors="ignore"))
        end = len(self.encoded[:getattr(right, "col_offset", 0)].decode(errors="ignore"))
        between = self.source.text[start:end]
        skipped = len(between) - len(between.lstrip(" ()"))
        return self.source.origin(start + skipped)

    def compare(self, node: ast.Compare, deeper: int) -> None:
        self.count(node, 2 * len(node.ops) - 1)
        self.check(node.left, deeper)
        left: ast.expr = node.left
        for index, (op, right) in enumerate(zip(node.ops, node.comparators, strict=True)):
            if not isinstance(op, _COMPARE):
                word = "'is not'" if isinstance(op, ast.IsNot) else "'is'"
                self.refuse(word, self.operator_at(left, right),
                            "compare with '==' or use isna() / notna()")
            last = index == len(node.ops) - 1
            if isinstance(right, ast.List | ast.Tuple) and last and isinstance(
                    op, _LIST_COMPARE):
                self.literal_list(right)
            else:
                self.check(right, deeper)
            left = right

    def literal(self, node: ast.expr, call: str) -> None:
        value = node.operand if isinstance(node, ast.UnaryOp) and isinstance(
            node.op, ast.USub | ast.UAdd) else node
        if not (isinstance(value, ast.Constant) and isinstance(value.value, _CONSTANT_TYPES)):
            part = _PARTS.get(type(value), "this argument")
            self.refuse(f"{part} in {call}", self.at(node), _LITERALS)

    def literal_list(self, node: ast.List | ast.Tuple) -> None:
        for element in node.elts:
            value = element.operand if isinstance(element, ast.UnaryOp) and isinstance(
                element.op, ast.USub | ast.UAdd) else element
            if not (isinstance(value, ast.Constant)
                    and isinstance(value.value, _CONSTANT_TYPES)):
                self.refuse(_PARTS.get(type(value), "this element") + " in a list",
                            self.at(element),
                            "list elements must be literal strings or numbers")

    def attribute_path(self, node: ast.Attribute, deeper: int) -> str:
        """Check what ``node`` is read from; return its path: ``isna``, ``str.contains``."""
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr in _ACCESSORS:
            self.check(value.value, deeper)
            return f"{value.attr}.{node.attr}"
        self.check(value, deeper)
        return node.attr

    def refuse_attribute(self, node: ast.Attribute, path: str, *, call: bool) -> NoReturn:
        offset = self.at(node, end_minus=len(node.attr))
        if node.attr.startswith("_"):
            self.refuse(f"attribute {node.attr!r}", offset,
                        "names starting with '_' are refused")
        if call:
            self.refuse(f"call of {path}()", offset,
                        f"the methods are {', '.join(ALLOWED_METHODS)}")
        self.refuse(f"attribute {path!r}", offset,
                    f"the fields are {', '.join(sorted(ALLOWED_FIELDS))} and the "
                    f"methods {', '.join(ALLOWED_METHODS)} (called with '()')")

    def call(self, node: ast.Call, deeper: int) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            written = self.reading.written[self.token_index(func)] if isinstance(
                func, ast.Name) else ast.get_source_segment(self.source.text, func) or "this"
            self.refuse(f"call of {plain(written[:40])}()", self.at(func),
                        f"only methods may be called: {', '.join(ALLOWED_METHODS)}")
        path = self.attribute_path(func, deeper)
        method = ALLOWED_METHODS.get(path)
        if method is None:
            self.refuse_attribute(func, path, call=True)
        self.count(node, 1)
        name = f"{path}()"
        if not method.required <= len(node.args) <= method.required + method.optional:
            wanted = method.required if not method.optional else \
                f"{method.required} to {method.required + method.optional}"
            self.refuse(f"call of {name}", self.at(func, end_minus=len(func.attr)),
                        f"it takes {wanted} argument(s), not {len(node.args)}")
        for arg in node.args:
            if method.list_argument and isinstance(arg, ast.List | ast.Tuple):
                self.literal_list(arg)
            else:
                self.literal(arg, name)
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg not in method.keywords:
                part = "'**' unpacking" if keyword.arg is None else f"keyword {keyword.arg!r}"
                known = ", ".join(method.keywords) or "none"
                self.refuse(f"{part} in {name}", self.at(keyword.value),
                            f"its keywords are: {known}")
            self.literal(keyword.value, name)


def _has_name(node: ast.AST) -> bool:
    return any(isinstance(part, ast.Name) for part in ast.walk(node))
