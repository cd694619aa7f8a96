"""The ``frame`` family: frame.query and frame.select."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from contract import contract_tests, param_problems

import runtime
from components.frame import QueryParams, query
from runtime.testing import run_component

FAMILY_MODULE = "components.frame"
CONTRACT: dict[str, dict[str, Any]] = {
    "frame.query": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"data": "DataFrame"},
        "required": {"expr"},
        "defaults": {},
    },
    "frame.select": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"data": "DataFrame"},
        "required": {"columns"},
        "defaults": {},
    },
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame({"name": ["ann", "bob", "cy", "dee", "eve"],
                         "age": [31, 17, 45, 12, 60],
                         "odd col": [1, 2, 3, 4, 5]},
                        index=[100, 101, 102, 103, 104])


# -- frame.query ------------------------------------------------------------------------

def test_query_keeps_matching_rows_with_their_row_ids(people: pd.DataFrame) -> None:
    out = run_component("frame.query", {"data": [people]}, {"expr": "age >= 18"})
    assert out.errors == []
    [adults] = out["data"]
    assert list(adults.index) == [100, 102, 104]
    assert list(adults["name"]) == ["ann", "cy", "eve"]
    assert list(adults.columns) == ["name", "age", "odd col"]


def test_query_combines_conditions_and_backticked_names(people: pd.DataFrame) -> None:
    out = run_component("frame.query", {"data": [people]},
                        {"expr": "age > 15 and `odd col` != 3 and name != 'eve'"})
    assert list(out["data"][0].index) == [100, 101]


def test_query_runs_on_every_message(people: pd.DataFrame) -> None:
    first, second = people.iloc[:2], people.iloc[2:]
    out = run_component("frame.query", {"data": [first, second]}, {"expr": "age < 40"})
    assert [list(f.index) for f in out["data"]] == [[100, 101], [103]]


def test_query_matching_nothing_emits_an_empty_frame(people: pd.DataFrame) -> None:
    [empty] = run_component("frame.query", {"data": [people]}, {"expr": "age > 1000"})["data"]
    assert empty.empty
    assert list(empty.columns) == ["name", "age", "odd col"]


def test_query_on_an_unknown_column_is_an_error_record_naming_query_and_columns(
        people: pd.DataFrame) -> None:
    good = pd.DataFrame({"height": [1, 3]})
    out = run_component("frame.query", {"data": [people, good]}, {"expr": "height > 2"})
    assert out.result.status == "errors"
    assert out.result.nodes["node"].errors == 1
    [record] = out.errors
    assert record.node == "node"
    assert record.component == "frame.query"
    assert "height > 2" in record.message
    for column in ("name", "age", "odd col"):
        assert column in record.message
    assert len(record.inputs) == 1
    # the node went on with its next message
    [kept] = out["data"]
    assert list(kept.index) == [1]


@pytest.mark.parametrize("expr", ["age >", "age > > 3", "(age > 3", "age = = 1"])
def test_query_that_does_not_parse_is_a_problem_at_validation(expr: str) -> None:
    problems = param_problems("frame.query", {"expr": expr})
    assert len(problems) == 1
    assert (problems[0].node, problems[0].param) == ("n", "expr")
    assert "not a valid query" in problems[0].message


def test_query_that_does_not_parse_stops_the_run_before_anything_runs(tmp_path: Any) -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "t",
        "nodes": [{"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
                  {"id": "q", "component": "frame.query", "params": {"expr": "target >"}}],
        "edges": [{"source": "load.data", "target": "q.data"}]})
    with pytest.raises(runtime.FlowInvalidError) as info:
        runtime.run_flow(flow)
    assert [(p.node, p.param) for p in info.value.problems] == [("q", "expr")]


def payloads(marker: Path) -> list[tuple[str, str]]:
    """Queries that ran a shell command (touching ``marker``), and the part to be named."""
    system = f"system('touch {marker}')"
    return [
        (f"index >= index.__class__.__init__.__globals__['sys'].modules['os'].{system}",
         "attribute '__class__' at column 16"),
        (f"age >= age.__class__.__init__.__globals__['sys'].modules['os'].{system}",
         "attribute '__class__' at column 12"),
        (f'name == "`" or @ast.sys.modules[\'os\'].{system} == 0 or "`"',
         "'@' at column 16"),
    ]


@pytest.mark.parametrize("which", range(3))
def test_query_that_would_run_code_is_a_problem_at_validation_naming_the_part(
        which: int, tmp_path: Path) -> None:
    expr, part = payloads(tmp_path / "ran")[which]
    problems = param_problems("frame.query", {"expr": expr})
    assert [(p.node, p.param) for p in problems] == [("n", "expr")]
    assert f"not a valid query: {part} is not allowed" in problems[0].message
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("which", range(3))
def test_query_that_would_run_code_is_refused_at_run_time_too(
        which: int, tmp_path: Path, people: pd.DataFrame) -> None:
    expr, part = payloads(tmp_path / "ran")[which]
    unchecked = QueryParams.model_construct(expr=expr)  # as if validation were skipped
    with pytest.raises(ValueError, match=f"refused: {part}"):
        query(people, params=unchecked)
    assert not (tmp_path / "ran").exists()


def test_query_of_200000_terms_is_a_problem_saying_it_is_too_long() -> None:
    [problem] = param_problems("frame.query", {"expr": " + ".join(["age"] * 200_000) + " > 0"})
    assert (problem.node, problem.param) == ("n", "expr")
    assert "characters long; the limit is 10,000" in problem.message


def test_query_with_allowed_methods_gives_what_pandas_gives(people: pd.DataFrame) -> None:
    expr = "name.str.startswith('e') or `odd col`.isin([2, 4]) or age.between(40, 50)"
    [kept] = run_component("frame.query", {"data": [people]}, {"expr": expr})["data"]
    pd.testing.assert_frame_equal(kept, people.query(expr))
    assert list(kept.index) == [101, 102, 103, 104]


def test_query_errors_show_control_characters_in_column_names_as_escapes() -> None:
    data = pd.DataFrame({"a\x1b[2Jb": [1, 2]})
    [record] = run_component("frame.query", {"data": [data]}, {"expr": "zz > 1"}).errors
    assert "\x1b" not in record.message
    assert "a\\x1b[2Jb" in record.message


def test_query_on_a_misspelt_column_suggests_the_right_one(people: pd.DataFrame) -> None:
    out = run_component("frame.query", {"data": [people]}, {"expr": "agee > 18"})
    [record] = out.errors
    assert "no column 'agee' (at column 1); did you mean 'age'?" in record.message


@pytest.mark.parametrize("params", [{}, {"expr": ""}])
def test_query_needs_an_expression(params: dict[str, Any]) -> None:
    problems = param_problems("frame.query", params)
    assert [(p.node, p.param) for p in problems] == [("n", "expr")]


# -- frame.select -----------------------------------------------------------------------

def test_select_keeps_named_columns_in_the_given_order(people: pd.DataFrame) -> None:
    out = run_component("frame.select", {"data": [people]}, {"columns": ["age", "name"]})
    assert out.errors == []
    [picked] = out["data"]
    assert list(picked.columns) == ["age", "name"]
    assert list(picked.index) == [100, 101, 102, 103, 104]
    pd.testing.assert_frame_equal(picked, people[["age", "name"]])


def test_select_of_a_missing_column_is_an_error_record_naming_it(people: pd.DataFrame) -> None:
    out = run_component("frame.select", {"data": [people, people]},
                        {"columns": ["name", "salary"]})
    assert out.result.status == "errors"
    assert out["data"] == []
    assert len(out.errors) == 2
    record = out.errors[0]
    assert record.component == "frame.select"
    assert "salary" in record.message
    for column in ("name", "age", "odd col"):  # and says what there is instead
        assert column in record.message.split("salary", 1)[1]


@pytest.mark.parametrize("params", [{}, {"columns": []}, {"columns": "name"}])
def test_select_needs_a_list_of_columns(params: dict[str, Any]) -> None:
    problems = param_problems("frame.select", params)
    assert [(p.node, p.param) for p in problems] == [("n", "columns")]
