"""Validation of flows against the components: every problem found, named and located."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime import (
    FlowInvalidError,
    NoParams,
    Plan,
    Problem,
    Registry,
    component,
    default_registry,
    latest,
)
from tests.flowkit import make_flow, node, write_flow


def check(nodes: list[dict[str, Any]], edges: Sequence[tuple[str, str]] = (),
          **kwargs: Any) -> list[Problem]:
    return runtime.validate(make_flow(nodes, edges), **kwargs)


def one(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


def rng(node_id: str = "r", count: int = 3) -> dict[str, Any]:
    return {"id": node_id, "component": "stream.range", "params": {"count": count}}


def test_a_good_flow_has_no_problems_and_plans() -> None:
    nodes = [rng(), node("i", "stream.identity"), node("c", "stream.count"),
             node("d", "debug")]
    edges = [("r.data", "i.data"), ("i.data", "c.data"), ("c.count", "d.data")]

    assert check(nodes, edges) == []
    plan = runtime.plan(make_flow(nodes, edges))
    assert isinstance(plan, Plan)
    assert set(plan.nodes) == {"r", "i", "c", "d"}
    assert plan.edge_ids == ["r.data->i.data", "i.data->c.data", "c.count->d.data"]


def test_plan_orders_nodes_upstream_first_whatever_the_file_order() -> None:
    nodes = [node("d", "debug"), node("c", "stream.count"), node("i", "stream.identity"), rng()]
    edges = [("r.data", "i.data"), ("i.data", "c.data"), ("c.count", "d.data")]

    assert runtime.plan(make_flow(nodes, edges)).order == ["r", "i", "c", "d"]


def test_fan_out_and_fan_in_are_allowed() -> None:
    nodes = [rng("a"), rng("b"), node("i", "stream.identity"), node("c1", "stream.count"),
             node("c2", "stream.count")]
    edges = [("a.data", "i.data"), ("b.data", "i.data"),  # fan-in
             ("i.data", "c1.data"), ("i.data", "c2.data")]  # fan-out

    assert check(nodes, edges) == []


def test_plan_raises_flow_invalid_with_every_problem() -> None:
    flow = make_flow([node("x", "no.such"), node("y", "stream.rang")])

    with pytest.raises(FlowInvalidError) as info:
        runtime.plan(flow)

    assert [p.node for p in info.value.problems] == ["x", "y"]
    assert "the flow has 2 problem(s)" in str(info.value)


# --- components and params ---------------------------------------------------------------


def test_unknown_component_names_the_node_and_suggests_a_close_id() -> None:
    problem = one(check([node("r", "stream.rang", count=3)]), "unknown-component")

    assert problem.node == "r"
    assert problem.where == "nodes[0].component"
    assert "unknown component 'stream.rang'" in problem.message
    assert "did you mean 'stream.range'?" in problem.message


@pytest.mark.parametrize(("wanted", "suggested"), [
    ("frame.qeury", "frame.query"), ("ml.fitt", "ml.fit"), ("fram.query", "frame.query"),
    ("csv.raed", "csv.read")])
def test_a_typo_in_a_component_id_gets_the_right_id(wanted: str, suggested: str) -> None:
    problem = one(check([node("n", wanted)]), "unknown-component")

    assert problem.message.endswith(f"; did you mean '{suggested}'?")


@pytest.mark.parametrize("wanted", ["my.double", "frame.dbl", "sklearn.fit", "double"])
def test_an_unrelated_component_id_gets_no_suggestion(wanted: str) -> None:
    problem = one(check([node("n", wanted)]), "unknown-component")

    assert problem.message == f"node 'n': unknown component '{wanted}'"


def test_unknown_component_without_any_close_id_gives_no_suggestion() -> None:
    problem = one(check([node("r", "zzzzzz")]), "unknown-component")

    assert "did you mean" not in problem.message


def test_missing_required_param_names_node_and_param() -> None:
    problem = one(check([node("r", "stream.range")]), "param")

    assert (problem.node, problem.param) == ("r", "count")
    assert "node 'r', param 'count'" in problem.message
    assert "missing" in problem.message


def test_our_validators_messages_lose_pydantics_prefix_and_the_repeated_value() -> None:
    code = "def process(data, params):\n    return data +\n"
    problems = check([node("fn", "python.function", code=code),
                      node("r", "frame.route", routes={"big": "target >"}),
                      node("q", "frame.query", expr="a >")])

    messages = [p.message for p in problems if p.code == "param"]
    assert messages == [
        "node 'fn', param 'code': syntax error at line 2, column 18: invalid syntax: "
        "return data +",
        "node 'r', param 'routes': route 'big': not a valid query: invalid syntax: the "
        "expression ends too soon",
        "node 'q', param 'expr': not a valid query: invalid syntax: the expression ends "
        "too soon"]


def test_pydantics_own_errors_still_show_the_value_given() -> None:
    problem = one(check([node("r", "stream.range", count="abc")]), "param")

    assert problem.message == ("node 'r', param 'count': Input should be a valid integer, "
                               "unable to parse string as an integer (got 'abc')")


def test_unknown_param_names_it_suggests_and_lists_the_known_ones() -> None:
    problem = one(check([node("r", "stream.range", count=3, strat=1)]), "param")

    assert (problem.node, problem.param) == ("r", "strat")
    assert "unknown param 'strat'" in problem.message
    assert "did you mean 'start'?" in problem.message
    assert "count, start" in problem.message


@pytest.mark.parametrize(("comp", "params", "param", "shown"), [
    ("stream.range", {"count": "three"}, "count", "'three'"),
    ("stream.range", {"count": -1}, "count", "-1"),
    ("stream.chunks", {"rows": 0}, "rows", "0"),
    ("frame.select", {"columns": "a"}, "columns", "'a'"),
    ("frame.select", {"columns": [1]}, "columns", "(got 1)"),
    ("csv.read", {"path": "x.csv", "chunk_rows": "ten"}, "chunk_rows", "'ten'"),
    ("dataset.load", {"name": "mnist"}, "name", "'mnist'"),
    ("frame.query", {"expr": "a >"}, "expr", "expr': not a valid query: invalid syntax"),
])
def test_ill_typed_param_names_node_param_and_value(comp: str, params: dict[str, Any],
                                                    param: str, shown: str,
                                                    tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n", encoding="utf-8")

    problems = runtime.validate(make_flow([node("n", comp, **params)]), base_dir=tmp_path)

    problem = one(problems, "param")
    assert (problem.node, problem.param) == ("n", param)
    assert f"node 'n', param '{param}" in problem.message
    assert shown in problem.message


def test_every_param_problem_of_a_node_is_listed() -> None:
    problems = check([node("r", "stream.range", start="x", bogus=1)])

    assert {p.param for p in problems if p.code == "param"} == {"count", "start", "bogus"}


# --- nodes and edges ---------------------------------------------------------------------


def test_duplicate_node_ids_are_reported() -> None:
    problem = one(check([rng("r"), rng("r")]), "duplicate-node")

    assert problem.node == "r"
    assert problem.where == "nodes[1].id"
    assert "'r'" in problem.message


def test_duplicate_edges_are_reported_by_edge_id() -> None:
    problems = check([rng(), node("c", "stream.count")], [("r.data", "c.data")] * 2)

    problem = one(problems, "duplicate-edge")
    assert problem.edge == "r.data->c.data"
    assert problem.where == "edges[1]"
    assert "'r.data->c.data'" in problem.message


@pytest.mark.parametrize(("edge", "code", "text"), [
    (("rr.data", "c.data"), "unknown-node", "no node 'rr'; did you mean 'r'?"),
    (("r.data", "cc.data"), "unknown-node", "no node 'cc'; did you mean 'c'?"),
    (("r.dta", "c.data"), "unknown-port", "stream.range has no output 'dta'; did you mean 'data'?"),
    (("r.data", "c.dat"), "unknown-port", "stream.count has no input 'dat'; did you mean 'data'?"),
    (("r.data", "c.count"), "direction", "'c.count' is an output port"),
    (("c.data", "r.data"), "direction", "'c.data' is an input port"),
])
def test_bad_edge_ends_are_reported_on_the_edge(edge: tuple[str, str], code: str,
                                                text: str) -> None:
    problems = check([rng(), node("c", "stream.count")], [edge, ("r.data", "c.data")])

    problem = one(problems, code)
    edge_id = f"{edge[0]}->{edge[1]}"
    assert problem.edge == edge_id
    assert problem.where == "edges[0]"
    assert problem.message.startswith(f"edge '{edge_id}': ")
    assert text in problem.message


def test_self_loop_is_reported() -> None:
    problems = check([rng(), node("i", "stream.identity")],
                     [("r.data", "i.data"), ("i.data", "i.data")])

    problem = one(problems, "self-loop")
    assert problem.edge == "i.data->i.data"
    assert "'i'" in problem.message


def test_type_mismatch_names_node_input_and_types() -> None:
    nodes = [rng("r"), node("load", "stream.count"), node("x", "frame.query", expr="a > 1")]

    problems = check(nodes, [("r.data", "load.data"), ("load.count", "x.data")])

    problem = one(problems, "type-mismatch")
    assert problem.edge == "load.count->x.data"
    assert ("node 'x', input 'data' expects DataFrame but 'load.count' gives int"
            in problem.message)


def test_type_mismatch_suggests_an_output_of_the_right_type(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("a\n1\n", encoding="utf-8")
    nodes = [node("read", "csv.read", path="in.csv"), node("s", "ml.split", target="a"),
             node("w", "csv.write", path="out.csv")]

    problems = runtime.validate(make_flow(nodes, [("read.data", "s.data"),
                                                  ("s.error", "w.data")]), base_dir=tmp_path)

    problem = one(problems, "type-mismatch")
    assert "expects DataFrame but 's.error' gives ErrorRecord" in problem.message
    assert "did you mean 's.train'?" in problem.message


def test_any_typed_ports_connect_to_everything() -> None:
    assert runtime.types_compatible("int", "Any")
    assert runtime.types_compatible("Any", "DataFrame")
    assert runtime.types_compatible("DataFrame", "DataFrame")
    assert not runtime.types_compatible("int", "DataFrame")


def test_cycles_are_refused_naming_every_node_in_them() -> None:
    nodes = [rng(), node("a", "stream.identity"), node("b", "stream.identity"),
             node("c", "stream.identity"), node("d", "debug")]
    edges = [("r.data", "a.data"), ("a.data", "b.data"), ("b.data", "c.data"),
             ("c.data", "a.data"), ("c.data", "d.data")]

    problems = check(nodes, edges)

    problem = one(problems, "cycle")
    assert "'a', 'b', 'c'" in problem.message
    assert "'r'" not in problem.message
    assert "'d'" not in problem.message
    with pytest.raises(FlowInvalidError):
        runtime.plan(make_flow(nodes, edges))


def test_every_cycle_is_reported_once_and_a_long_chain_runs_in_flow_order() -> None:
    loops = [rng(), *(node(n, "stream.identity") for n in "abcxy")]
    problems = check(loops, [("r.data", "a.data"), ("a.data", "b.data"), ("b.data", "c.data"),
                             ("c.data", "a.data"), ("x.data", "y.data"), ("y.data", "x.data")])
    assert sorted(p.message.split(" form")[0] for p in problems if p.code == "cycle") == [
        "nodes 'a', 'b', 'c'", "nodes 'x', 'y'"]

    count = 3_000
    chain = [rng(), *(node(f"n{i}", "stream.identity") for i in range(count))]
    edges = [("r.data", "n0.data"), *((f"n{i}.data", f"n{i + 1}.data") for i in range(count - 1))]
    plan = runtime.plan(make_flow(chain[::-1], edges[::-1]))  # file order is not run order
    assert plan.order == ["r", *(f"n{i}" for i in range(count))]


def test_unconnected_required_input_is_reported() -> None:
    problems = check([node("i", "stream.identity")])

    problem = one(problems, "unconnected-input")
    assert problem.node == "i"
    assert "required input 'data'" in problem.message


def test_unconnected_latest_input_of_ml_predict_is_reported() -> None:
    problems = check([node("load", "dataset.load", name="iris"), node("p", "ml.predict")],
                     [("load.data", "p.data")])

    problem = one(problems, "unconnected-input")
    assert problem.node == "p"
    assert "'model'" in problem.message


def _optional_input_registry() -> Registry:
    @component("test.optional", inputs={"data": "Any", "hint": latest(required=False)})
    def optional(data: Any, hint: Any) -> None:
        """Take data and an optional hint."""

    assert optional.params_model is NoParams
    return default_registry().with_components(optional)


def test_optional_inputs_may_stay_unconnected() -> None:
    problems = check([rng(), node("o", "test.optional")], [("r.data", "o.data")],
                     registry=_optional_input_registry())

    assert problems == []


@pytest.mark.parametrize(("nodes", "edges", "code"), [
    ([node("u", "no.such.component"), node("i", "stream.identity")],
     [("u.data", "i.data")], "unknown-component"),
    ([rng(), node("c", "stream.count"), node("i", "frame.query", expr="a > 1")],
     [("r.data", "c.data"), ("c.count", "i.data")], "type-mismatch"),
], ids=["fed-by-unknown-component", "fed-by-wrong-type"])
def test_a_connected_input_is_not_also_reported_as_unconnected(
        nodes: list[dict[str, Any]], edges: list[tuple[str, str]], code: str) -> None:
    # The input 'i.data' has an edge; saying it "is not connected" sends the user (and the
    # editor's red marks) to the wrong place.
    problems = check(nodes, edges)

    assert [p.code for p in problems] == [code], [p.message for p in problems]


def test_all_problems_are_collected_at_once() -> None:
    nodes = [rng(), node("u", "stream.idenity"), node("p", "stream.range", count="x"),
             node("a", "stream.identity"), node("b", "stream.identity"), rng("r")]
    edges = [("r.data", "a.data"), ("a.data", "b.data"), ("b.data", "a.data"),
             ("r.data", "a.data"), ("p.data", "b.daat")]

    problems = check(nodes, edges)

    codes = {p.code for p in problems}
    assert {"unknown-component", "param", "duplicate-node", "duplicate-edge", "cycle",
            "unknown-port"} <= codes
    assert len(problems) >= 6


# --- files -------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_flow_files_folder(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "in.csv").write_text("a\n1\n", encoding="utf-8")
    absolute = tmp_path / "elsewhere" / "abs.csv"
    path = write_flow(project / "flows", [
        node("read", "csv.read", path="../data/in.csv"),
        node("write", "csv.write", path="out/result.csv"),
        node("keep", "csv.write", path=str(absolute)),
    ], [("read.data", "write.data"), ("read.data", "keep.data")])
    monkeypatch.chdir(tmp_path)

    assert runtime.validate(path) == []
    plan = runtime.plan(path)

    def path_of(node_id: str) -> Path:
        return Path(plan.nodes[node_id].params.model_dump()["path"])

    assert path_of("read") == project / "data" / "in.csv"
    assert path_of("write") == project / "flows" / "out" / "result.csv"
    assert path_of("keep") == absolute


def test_a_missing_input_file_is_reported_with_where_it_was_looked_for(tmp_path: Path) -> None:
    path = write_flow(tmp_path, [node("read", "csv.read", path="data/nope.csv"),
                                  node("d", "debug")], [("read.data", "d.data")])

    problem = one(runtime.validate(path), "missing-file")

    assert (problem.node, problem.param) == ("read", "path")
    assert "'data/nope.csv'" in problem.message
    assert str(tmp_path / "data" / "nope.csv") in problem.message


def test_a_folder_given_as_input_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = write_flow(tmp_path, [node("read", "csv.read", path="data"), node("d", "debug")],
                       [("read.data", "d.data")])

    problem = one(runtime.validate(path), "missing-file")

    assert (problem.node, problem.param) == ("read", "path")


def test_an_output_file_need_not_exist_yet(tmp_path: Path) -> None:
    path = write_flow(tmp_path, [rng(), node("w", "jsonl.write", path="out/new.jsonl")],
                       [("r.data", "w.data")])

    assert runtime.validate(path) == []


def test_validate_reports_an_unreadable_flow_file_as_a_problem(tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    unknown_key = tmp_path / "unknown.json"
    unknown_key.write_text(json.dumps({"edgewise": 1, "name": "n", "nodes": [], "edges": [],
                                       "x": 1}), encoding="utf-8")

    assert [p.code for p in runtime.validate(missing)] == ["file"]
    assert str(missing) in runtime.validate(missing)[0].message
    assert ":1:2:" in runtime.validate(broken)[0].message
    assert "unknown key 'x'" in runtime.validate(unknown_key)[0].message


# --- checking one new edge (the editor, while wiring) ------------------------------------

WIRED = [rng(), node("a", "stream.identity"), node("b", "stream.identity"),
         node("q", "frame.query", expr="a > 1")]
WIRED_EDGES = [("r.data", "a.data"), ("a.data", "b.data")]


@pytest.mark.parametrize(("source", "target", "code"), [
    ("r.data", "b.data", None),
    ("r.data", "q.data", "type-mismatch"),
    ("r.data", "a.data", "duplicate-edge"),
    ("a.data", "a.data", "self-loop"),
    ("b.data", "a.data", "cycle"),
    ("x.data", "a.data", "unknown-node"),
    ("a.dta", "b.data", "unknown-port"),
    ("b.data", "r.data", "direction"),
])
def test_connection_problem_applies_the_validation_rules_to_one_new_edge(
        source: str, target: str, code: str | None) -> None:
    flow = make_flow(WIRED, WIRED_EDGES)

    problem = runtime.connection_problem(flow, source, target)

    assert (problem.code if problem else None) == code
    if problem is not None:
        assert problem.edge == f"{source}->{target}"
        assert f"'{source}->{target}'" in problem.message


def test_connection_problem_names_the_nodes_of_the_cycle_it_would_close() -> None:
    problem = runtime.connection_problem(make_flow(WIRED, WIRED_EDGES), "b.data", "a.data")

    assert problem is not None
    assert "a" in problem.message and "b" in problem.message


@pytest.mark.parametrize(("source", "target"), [("a", "b.data"), ("a.data", "b.x.y")])
def test_connection_problem_reports_a_malformed_reference_as_a_problem(source: str,
                                                                      target: str) -> None:
    # It answers "why would this edge be refused?"; a malformed end is such a reason, not a
    # crash (today pydantic.ValidationError escapes).
    problem = runtime.connection_problem(make_flow(WIRED, WIRED_EDGES), source, target)

    assert problem is not None
    assert "'<node>.<port>'" in problem.message



def test_a_flow_file_value_error_loses_pydantics_prefix() -> None:
    flow = {"edgewise": True, "name": "t", "nodes": [rng()], "edges": []}

    [problem] = runtime.validate(flow)

    assert problem.message == "edgewise: the format version must be the number 1, not a boolean"
