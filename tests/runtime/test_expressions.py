"""The expression whitelist: what pandas may evaluate, what is refused, and how it is said."""

from __future__ import annotations

import ast
import itertools
import tokenize
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.core.computation import parsing
from test_cli import edgewise, no_traceback

from runtime import _expression_reading as expression_reading
from runtime._expressions import (
    ALLOWED_FIELDS,
    ALLOWED_METHODS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_OPERATIONS,
    ExpressionError,
    check_expression,
    column_identifier,
    evaluate_frame,
    expression_tree,
    query_frame,
)
from tests.flowkit import write_flow


def refusal(expr: str, **kwargs: Any) -> str:
    with pytest.raises(ExpressionError) as info:
        check_expression(expr, **kwargs)
    return str(info.value)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["ann", "Bob", None, "dee", " eve "],
        "age": [31, -17, 45, np.nan, 60],
        "when": pd.to_datetime(["2020-01-01 00:00", "2021-06-01 10:30", "2022-01-03 00:00",
                                None, "2023-03-04 00:00"]),
        "odd col": [1, 2, 3, 4, 5],
        "target": [0, 1, 2, 1, 0]},
        index=pd.Index([100, 101, 102, 103, 104], name="row"))


# -- the payloads of the issue ------------------------------------------------------------

def payloads(marker: Path) -> list[tuple[str, str]]:
    """The issue's three payloads, each touching ``marker``, with the part to be named."""
    system = f"system('touch {marker}')"
    return [
        (f"index >= index.__class__.__init__.__globals__['sys'].modules['os'].{system}",
         "attribute '__class__' at column 16"),
        (f"target >= target.__class__.__init__.__globals__['sys'].modules['os'].{system}",
         "attribute '__class__' at column 18"),
        (f'target == "`" or @ast.sys.modules[\'os\'].{system} == 0 or "`"',
         "'@' at column 18"),
    ]


@pytest.mark.parametrize("which", range(3))
def test_the_payloads_are_refused_naming_the_part_and_nothing_runs(
        which: int, tmp_path: Path, frame: pd.DataFrame) -> None:
    expr, part = payloads(tmp_path / "ran")[which]

    assert part in refusal(expr)
    with pytest.raises(ExpressionError, match=part):
        query_frame(frame, expr)
    with pytest.raises(ExpressionError, match=part):
        evaluate_frame(frame, expr)
    assert not (tmp_path / "ran").exists()


STARTS = ["index", "target", "`odd col`", "'abc'", "1 ", "(index + 1)", "target.str",
          "target.abs()", "when.dt"]
DUNDERS = ["__class__", "__init__", "__globals__", "__dict__", "__subclasses__",
           "__builtins__", "__reduce_ex__", "_private", "__call__"]
FORMS = ["{start}.{attr}", "{start}.{attr}()", "{start}.{attr}.modules",
         "{start}.{attr}['sys']", "{start} . {attr}", "({start}).{attr}.x.y()",
         "{start}.{attr}(1, k='v')"]
CONTEXTS = ["{chain}", "index >= {chain}", "target > 1 and {chain} == 0",
            "not {chain}", "-{chain} < 3", "(target + {chain}) > 0"]


def test_generated_attribute_chains_are_all_refused_naming_the_attribute() -> None:
    checked = 0
    for start, attr, form, context in itertools.product(STARTS, DUNDERS, FORMS, CONTEXTS):
        expr = context.format(chain=form.format(start=start, attr=attr))
        message = refusal(expr)
        assert f"attribute {attr!r} at column " in message, (expr, message)
        column = int(message.split(" at column ")[1].split()[0])
        assert expr[column - 1:].startswith(attr), (expr, message)
        checked += 1
    assert checked == len(STARTS) * len(DUNDERS) * len(FORMS) * len(CONTEXTS)


@pytest.mark.parametrize("chain", [
    "target.values", "target.to_csv('x')", "target.str.format('x')", "target.apply(1)",
    "index.map(1)", "target.str", "when.dt", "when.dt.tz_localize('UTC')",
    "target.abs", "target.pipe(1)"])
def test_any_other_attribute_or_method_is_refused_naming_it(chain: str) -> None:
    name = chain.split("(")[0].split(".", 1)[1]
    message = refusal(f"{chain} == 1")
    assert "is not allowed" in message
    assert name in message.split(" at ")[0], message


# -- everything else that is refused -------------------------------------------------------

@pytest.mark.parametrize(("expr", "named"), [
    ("sin(target) > 0", "call of sin()"),
    ("`odd col`(1) > 0", "call of `odd col`()"),
    ("Timestamp('2020') < when", "call of Timestamp()"),
    ("Timestamp < when", "name 'Timestamp'"),
    ("(lambda: 1)() == 1", "lambda"),
    ("target[0] == 1", "subscript [0]"),
    ("target in [x for x in [1]]", "list comprehension"),
    ("f'{target}' == 'a'", "f-string"),
    ("target == {1: 2}", "dict"),
    ("target == {1, 2}", "set"),
    ("(x := 1) > 0", "':=' assignment"),
    ("target.isin([*index])", "'*' unpacking in a list"),
    ("target.isin([age])", "this element in a list"),
    ("target.round(decimals=age)", "this argument in round()"),
    ("target.round(**age)", "'**' unpacking in round()"),
    ("target.between(1, 2, closed=3)", "keyword 'closed' in between()"),
    ("target.isna(1)", "call of isna()"),
    ("1 if target else 2", "'if ... else'"),
    ("target is None", "'is'"),
    ("target is not None", "'is not'"),
    ("target ^ 1", "operator '^'"),
    ("target << 1", "operator '<<'"),
    ("target @ target", "'@'"),
    ("@target > 1", "'@'"),
    ("__pd_eval_local_os > 1", "name '__pd_eval_local_os'"),
    ("list == target", "name 'list'"),
    ("target > 9 ** 9 ** 9", "arithmetic on constants '9 ** 9 ** 9'"),
    ("'a' * 10000000000 == name", "arithmetic on constants"),
    ("target == b'x'", "constant b'x'"),
    ("target == ...", "constant Ellipsis"),
    ("target in [1, 2] < 3", "list"),
    ("[1, 2] == target", "list"),
])
def test_refused_parts_are_named(expr: str, named: str) -> None:
    message = refusal(expr)
    assert named in message.split(" is not allowed")[0], message


@pytest.mark.parametrize(("expr", "expected"), [
    ("age >", "ends too soon"),
    ("age > > 3", "invalid syntax at column 7"),
    ("(age > 3", "never closed"),
    ("name == 'ann", "string at column 9 is never closed"),
    ("age $ 3", "unexpected character '$' at column 5"),
    ("age > 1\nage < 3", "must be one line, but a second line starts at line 2, column 1"),
    ("age > 1\x0cage < 3", "must be one line"),
    ("  \n ", "empty"),
    ("`a\x00b` > 1", "name `a\\x00b` at column 1 is not allowed: pandas cannot make a name"),
    ("age = 3", "invalid syntax"),
    ("age > 1; age < 3", "invalid syntax"),
])
def test_what_cannot_be_read_says_why_and_where(expr: str, expected: str) -> None:
    assert expected in refusal(expr)


def test_refusals_show_control_characters_as_visible_escapes() -> None:
    message = refusal("target > '\x1b[2J' * 3")
    assert "\x1b" not in message
    assert "'\\x1b[2J' * 3" in message


def test_backticks_inside_string_literals_do_not_hide_anything() -> None:
    assert "'@' at column 18" in refusal('target == "`" or @target == 0 or "`"')
    assert "'@' at column 10" in refusal("a == '`' @x")
    # but '@' inside a string, or a backticked name, is plain text
    check_expression("name == '@home' and `odd col` > 1 and `a@b` == '`'")


# -- limits ---------------------------------------------------------------------------------

def test_a_query_of_200000_terms_is_too_long_not_a_recursion_error() -> None:
    expr = " + ".join(["target"] * 200_000) + " > 0"
    message = refusal(expr)
    assert f"is {len(expr):,} characters long; the limit is {MAX_LENGTH:,}" in message


@pytest.mark.parametrize("expr", [
    " & ".join(["target > 0"] * (MAX_OPERATIONS // 2 + 2)),
    " + ".join(["target"] * (MAX_OPERATIONS + 1)) + " > 0",
    "target < " + " < ".join(["1"] * MAX_OPERATIONS),
])
def test_more_operations_than_the_limit_are_refused(expr: str) -> None:
    assert f"more than {MAX_OPERATIONS} operators" in refusal(expr)


@pytest.mark.parametrize("expr", ["target" + "[0]" * 3000, "target" + ".x" * 4000,
                                  "when" + ".dt.year" * (MAX_DEPTH + 1) + " > 0",
                                  "-" * 4000 + "target", "~" * 4900 + "target"])
def test_deeper_than_the_limit_is_refused(expr: str) -> None:
    assert f"more than {MAX_DEPTH} levels deep" in refusal(expr)


@pytest.mark.parametrize("expr", [
    " & ".join(["target >= 0"] * (MAX_OPERATIONS // 2)),
    " + ".join(["target"] * MAX_OPERATIONS) + " > 0",
    "-" * (MAX_DEPTH - 2) + "target <= 0",
    "(" * 150 + "target" + ")" * 150 + " >= 0",
])
def test_the_largest_allowed_expressions_really_evaluate(expr: str,
                                                          frame: pd.DataFrame) -> None:
    check_expression(expr)
    pd.testing.assert_frame_equal(query_frame(frame, expr), frame.query(expr))


# -- what is allowed gives exactly what pandas gives ---------------------------------------

ALLOWED = [
    "age > 30", "age >= 18 and `odd col` != 3", "age > 30 & `odd col` < 5",
    "age > 30 | -age > 10", "not age > 30", "~(age > 30)", "2 < `odd col` <= 4",
    "(age + `odd col`) * 2 > 70", "age ** 2 > 900", "age // 2 == 15", "age % 2 == 1",
    "age / 2 > 10", "age - 1 > 30", "+age > 30", "age != age", "age > -1e3",
    "name == 'ann' or name.isna()", "name in ['ann', 'dee']", "name not in ('ann', 'dee')",
    "age == [31, 45]", "age != [31, 45]", "index > 101", "index in [100, 104]",
    "row > 102", "age.isna()", "age.notna()", "age.isnull()", "age.notnull()",
    "age.abs() > 20", "(age * 2).abs() > 60", "age.round() > 30", "age.round(0) > 30",
    "age.round(decimals=-1) == 30", "age.between(20, 50)",
    "age.between(20, 50, inclusive='left')", "age.isin([31, 45])", "index.isin([100])",
    "name.str.contains('e')", "name.str.contains('E', case=False, na=False)",
    "name.str.contains('e', regex=False, na=False)", "name.str.startswith('a')",
    "name.str.startswith('a', na=False)", "name.str.endswith('e')",
    "name.str.lower() == 'bob'", "name.str.upper() == 'BOB'", "name.str.len() > 2",
    "name.str.strip() == 'eve'", "name.str.strip(' e') == 'v'", "when.dt.year == 2021",
    "when.dt.month > 2", "when.dt.day == 1", "when.dt.hour == 10", "when.dt.minute == 30",
    "when.dt.day_of_week == 0", "when > '2021-01-01'", "age < inf", "target == True",
    "name == \"a`b\" or age > 40", "name == '@home' or target == 2",
    "age > 30 # older than thirty", "  age > 30  ", "\n age > 30\n",
]


def test_every_allowed_method_and_field_is_exercised() -> None:
    text = " ".join(ALLOWED)
    for path in ALLOWED_METHODS:
        assert f".{path}(" in text, path
    for path in ALLOWED_FIELDS:
        assert f".{path} " in text, path


@pytest.mark.parametrize("expr", ALLOWED)
def test_allowed_expressions_give_exactly_what_pandas_gives(expr: str,
                                                            frame: pd.DataFrame) -> None:
    check_expression(expr)
    check_expression(expr, columns=[*frame.columns, "row"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = frame.query(expr)
    got = query_frame(frame, expr)
    pd.testing.assert_frame_equal(got, expected)
    assert 0 < len(got) < len(frame), "pick an expression that keeps some rows, not all"


def test_evaluate_frame_gives_what_pandas_eval_gives(frame: pd.DataFrame) -> None:
    expr = "(age + `odd col`) * 2"
    pd.testing.assert_series_equal(evaluate_frame(frame, expr), frame.eval(expr))


# -- names, when the columns are known -----------------------------------------------------

def test_unknown_names_are_refused_with_the_closest_column() -> None:
    columns = ["height", "odd col", "name"]
    assert "no column 'hieght' (at column 11); did you mean 'height'?" in refusal(
        "1 == 1 or hieght > 2", columns=columns)
    assert "no column 'odd coll' (at column 1); did you mean 'odd col'?" in refusal(
        "`odd coll` > 1", columns=columns)
    assert "no column 'zzz'" in refusal("zzz > 1", columns=columns)
    check_expression("`odd col` > 1 and height > 2 and index > 0 and name == 'a'",
                     columns=columns)
    check_expression("`a``b` == 1", columns=["a`b"])
    check_expression("`0` > 1 and `1.5` < 2 and `if` == 3", columns=[0, 1.5, "if"])
    assert "no column 'a b'" in refusal("`a b` > 1", columns=["a_b", "a-b"])


COLUMN_NAMES: list[Any] = ["a", "a b", "a`b", "it's", 'say "x"', "a``b", "é", "1st", "if",
                           "", " ", "a-b", 0, 1.5, ("a", "b"), "x#y", "\\", "a'`b", "😀"]


@pytest.mark.parametrize("column", COLUMN_NAMES)
def test_columns_are_offered_under_the_names_pandas_gives_them(column: Any) -> None:
    assert expression_reading.column_identifier(column) == parsing.clean_column_name(column)
    frame = pd.DataFrame({column: [1, 2, 3]})
    written = "`" + str(column).replace("`", "``") + "`"
    check_expression(f"{written} > 1", columns=list(frame.columns))
    pd.testing.assert_frame_equal(query_frame(frame, f"{written} > 1"),
                                  frame.query(f"{written} > 1"))


def test_unknown_names_are_fine_when_the_columns_are_not_known() -> None:
    check_expression("anything > 1 and `whatever you like` < 2 and _id == 3")


# -- the check reads what pandas reads ------------------------------------------------------

READS = ["a > 1", "`odd col` > 1", "name == '`' or `x y` == \"`\"", "`a``b` > `c`",
         "name == 'it\\'s `x`' and `y z` > 1", "n == 'a\\\\' and `b c` > 1",
         "`é ü` > 1", "`a-b` + `c/d` > `e.f`", "`unclosed > 1", "name == '''it's `q`'''",
         "`if` > 1", "`` > 1", "`a#b` > 1", "`1st` > 1", "x == \"a'b\" and `c d` > 0"]


@pytest.mark.parametrize("line", READS)
def test_backticks_are_cut_and_named_exactly_as_pandas_does(line: str) -> None:
    ours = expression_reading.backtick_segments(line)
    theirs = parsing._split_by_backtick(line)
    assert ours == theirs
    for quoted, text in ours:
        if quoted:
            assert expression_reading.pandas_identifier(text[1:-1]) == \
                parsing.create_valid_python_identifier(text[1:-1])
    tokens = expression_reading.read(line).tokens
    assert [(t.type, t.string) for t in tokens] == list(parsing.tokenize_string(line))


def test_an_expression_pandas_would_read_differently_is_refused_at_run_time(
        monkeypatch: pytest.MonkeyPatch, frame: pd.DataFrame) -> None:
    # If the check ever named backticked columns differently from pandas, the run
    # refuses rather than evaluates a tree nobody checked.
    monkeypatch.setattr(expression_reading, "pandas_identifier", lambda name: "renamed")
    with pytest.raises(ExpressionError, match="pandas reads this expression differently"):
        query_frame(frame, "`odd col` > 4")


def test_expression_tree_is_the_tree_pandas_evaluates_with_column_identifiers(
        frame: pd.DataFrame) -> None:
    data = frame.rename(columns={"age": "age in years"})
    tree = expression_tree("`age in years` > 30 and not name.isna()", columns=data.columns)

    assert isinstance(tree, ast.BoolOp)
    compared, negated = tree.values
    assert isinstance(compared, ast.Compare) and isinstance(compared.left, ast.Name)
    assert compared.left.id == column_identifier("age in years")
    assert isinstance(negated, ast.UnaryOp)
    # each part, unparsed, is an expression evaluate_frame takes
    part = evaluate_frame(data, ast.unparse(compared))
    pd.testing.assert_series_equal(part, data["age in years"] > 30, check_names=False)


def test_columns_may_be_given_as_a_pandas_index(frame: pd.DataFrame) -> None:
    check_expression("age > 30", columns=frame.columns)
    assert "did you mean 'age'" in refusal("agee > 30", columns=frame.columns)


@pytest.mark.parametrize(("expr", "columns", "part"), [
    ("__import__('os')", None, "call of __import__()"),
    ("age.__class__", None, "attribute '__class__'"),
    ("agee > 3", ["age"], "name 'agee'"),
])
def test_expression_tree_refuses_what_the_check_refuses(expr: str, columns: list[str] | None,
                                                        part: str) -> None:
    with pytest.raises(ExpressionError) as info:
        expression_tree(expr, columns=columns)
    assert info.value.part == part


def test_tokenize_of_pandas_is_the_standard_one() -> None:
    assert parsing.tokenize is tokenize


# -- the command line: exit 2, a clear message, no traceback --------------------------------

def query_flow(folder: Path, expr: str) -> Path:
    return write_flow(folder, [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
        {"id": "q", "component": "frame.query", "params": {"expr": expr}},
    ], [("load.data", "q.data")])


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_refuses_the_payload_naming_node_param_and_part(command: str,
                                                            tmp_path: Path) -> None:
    expr, part = payloads(tmp_path / "ran")[1]
    result = edgewise(command, query_flow(tmp_path, expr))

    assert result.code == 2, result.output
    assert "node 'q', param 'expr'" in result.output
    assert part in result.output
    no_traceback(result)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_says_a_200000_term_query_is_too_long(command: str, tmp_path: Path) -> None:
    result = edgewise(command, query_flow(tmp_path, " + ".join(["target"] * 200_000) + " > 0"))

    assert result.code == 2, result.output[:2000]
    assert "node 'q', param 'expr'" in result.output
    assert f"the limit is {MAX_LENGTH:,}" in result.output
    assert len(result.output) < 5_000  # the 1.8 MB query is quoted in part, not whole
    no_traceback(result)
