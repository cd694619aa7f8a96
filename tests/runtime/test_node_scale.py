"""The node keys ``replicas``, ``ordered`` and ``resources``: format, dumps, checks and plan."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime import (
    STATEFUL_TAG,
    UNPAIRED_TAG,
    FlowInvalidError,
    Port,
    Problem,
    Registry,
    component,
    default_registry,
    latest,
    parse_flow,
)
from tests.flowkit import flow_doc, make_flow, make_run, node, run_guarded, write_flow
from tests.runtime.test_cli import edgewise, no_traceback

SCALE_KEYS = ("replicas", "ordered", "resources")
FLOWS = sorted((Path(__file__).parents[2] / "flows").glob("*.json"))


@component("scale.pair", inputs={"left": "Any", "right": "Any"}, outputs={"data": "Any"})
def pair(left: Any, right: Any) -> Any:
    """Two stream inputs, paired message by message."""
    return (left, right)


@component("scale.window", inputs={"data": "Any"}, outputs={"data": "Any"},
           tags=[STATEFUL_TAG])
def window(data: Any) -> Any:
    """A function that declares itself stateful."""
    return data


@component("scale.join", inputs={"data": "Any"}, outputs={"data": "Any"},
           tags=[UNPAIRED_TAG])
def join(data: Any) -> Any:
    """A function tagged unpaired (and nothing else)."""
    return data


@component("scale.optional", inputs={"data": Port(required=False)},
           outputs={"data": "Any"})
def optional(data: Any = None) -> Any:
    """Its only input is optional: unconnected, the node is a source."""
    return data


@component("scale.double", inputs={"data": "Any"}, outputs={"data": "Any"})
def double(data: Any) -> Any:
    """Stateless: twice each message."""
    return data * 2


@component("scale.times", inputs={"data": "Any", "factor": latest()}, outputs={"data": "Any"})
def times(data: Any, factor: Any) -> Any:
    """Stateless, with a latest input: each message times the latest factor."""
    return data * factor


KEPT: list[Any] = []


@component("scale.keep", inputs={"data": "Any"})
def keep(data: Any) -> None:
    """A sink that keeps what it is sent, in order."""
    KEPT.append(data)


SPECS = [pair, window, join, optional, double, times, keep]


def registry() -> Registry:
    return default_registry().with_components(*SPECS)


def problems_of(nodes: list[dict[str, Any]], edges: list[str]) -> list[Problem]:
    return runtime.validate(flow_doc(nodes, edges), registry=registry())


def scaled(node_dict: dict[str, Any], replicas: int = 2, **keys: Any) -> dict[str, Any]:
    return {**node_dict, "replicas": replicas, **keys}


# --- the format and its dumps ------------------------------------------------------------


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_no_dump_of_a_flow_grows_the_keys_at_their_defaults(path: Path) -> None:
    flow = runtime.load(path)
    dumps = [json.loads(flow.to_json_text()), flow.model_dump(mode="json"),
             flow.model_dump(mode="json", exclude_none=True),
             flow.model_dump(mode="json", exclude_unset=True)]

    for dumped in dumps:
        for item in dumped["nodes"]:
            assert not set(item) & set(SCALE_KEYS), (path.name, item)
    assert json.loads(flow.to_json_text()) == json.loads(
        parse_flow(json.loads(flow.to_json_text())).to_json_text())


def test_a_flow_without_the_keys_dumps_to_the_same_document() -> None:
    doc = flow_doc([node("r", "stream.range", count=3), {"id": "d", "component": "debug"}],
                   ["r.data->d.data"])

    assert json.loads(parse_flow(doc).to_json_text()) == doc


def test_the_keys_set_are_kept_by_every_dump_and_read_back() -> None:
    doc = flow_doc([node("r", "stream.range", count=3),
                    {"id": "i", "component": "stream.identity", "replicas": 3,
                     "ordered": False, "resources": {"num_cpus": 0.5, "memory": 2**30}}],
                   ["r.data->i.data"])

    flow = parse_flow(doc)
    text = flow.to_json_text()
    written = json.loads(text)["nodes"][1]

    assert written == {"id": "i", "component": "stream.identity", "replicas": 3,
                       "ordered": False, "resources": {"num_cpus": 0.5, "memory": 2**30}}
    assert parse_flow(json.loads(text)) == flow
    assert flow.model_dump(mode="json")["nodes"][1]["resources"] == {"num_cpus": 0.5,
                                                                     "memory": 2**30}


def test_a_key_set_alone_is_kept_alone() -> None:
    flow = make_flow([{"id": "i", "component": "stream.identity", "ordered": False}])

    assert json.loads(flow.to_json_text())["nodes"][0] == {
        "id": "i", "component": "stream.identity", "ordered": False}


BAD_VALUES = [
    ({"replicas": 0}, "nodes[0].replicas", "greater than or equal to 1"),
    ({"replicas": 65}, "nodes[0].replicas", "less than or equal to 64"),
    ({"replicas": "2"}, "nodes[0].replicas", "valid integer"),
    ({"replicas": 2.0}, "nodes[0].replicas", "valid integer"),
    ({"replicas": True}, "nodes[0].replicas", "valid integer"),
    ({"ordered": "no"}, "nodes[0].ordered", "valid boolean"),
    ({"ordered": 0}, "nodes[0].ordered", "valid boolean"),
    ({"resources": {"gpus": 1}}, "nodes[0].resources.gpus", "unknown key 'gpus'"),
    ({"resources": {"num_cpus": -1}}, "nodes[0].resources.num_cpus",
     "greater than or equal to 0"),
    ({"resources": {"num_gpus": math.inf}}, "nodes[0].resources.num_gpus", "finite number"),
    ({"resources": {"num_gpus": "1"}}, "nodes[0].resources.num_gpus", "valid number"),
    ({"resources": {"memory": 1.5}}, "nodes[0].resources.memory", "valid integer"),
    ({"resources": {"memory": -1}}, "nodes[0].resources.memory", "greater than or equal"),
    ({"resources": 4}, "nodes[0].resources", "valid dictionary"),
]


@pytest.mark.parametrize(("keys", "where", "says"), BAD_VALUES,
                         ids=[f"{w}={k}" for k, w, _ in BAD_VALUES])
def test_a_bad_value_is_a_problem_naming_the_node_and_the_key(keys: dict[str, Any],
                                                             where: str, says: str) -> None:
    doc = flow_doc([{"id": "heavy", "component": "stream.identity", **keys}])

    problems = runtime.validate(doc)

    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.code, problem.node, problem.where) == ("schema", "heavy", where)
    assert problem.message.startswith(f"node 'heavy' ({where}): ")
    assert says in problem.message


def test_replicas_written_inside_params_say_where_they_go() -> None:
    problems = runtime.validate(flow_doc([node("r", "stream.range", count=3, replicas=2)]))

    assert [p.code for p in problems] == ["param"]
    assert "unknown param 'replicas'" in problems[0].message
    assert "'replicas' goes on the node itself, beside 'params'" in problems[0].message


# --- which nodes may have replicas ----------------------------------------------------------


REFUSED = [
    ("source", [scaled(node("r", "stream.range", count=3))], [], "r",
     "a source cannot be replicated"),
    ("source-with-inputs-unconnected", [scaled(node("o", "scale.optional"))], [], "o",
     "a source cannot be replicated"),
    ("class-with-end", [node("l", "dataset.load", name="iris"),
                        scaled(node("c", "stream.collect"))], ["l.data->c.data"], "c",
     "a stateful component cannot be replicated; stream.collect has an end() that emits what "
     "it kept from every call"),
    ("tagged-stateful", [node("r", "stream.range", count=3), scaled(node("w", "scale.window"))],
     ["r.data->w.data"], "w", "a stateful component cannot be replicated; scale.window keeps "
                              "state from one call to the next"),
    ("two-stream-inputs", [node("r", "stream.range", count=3), scaled(node("p", "scale.pair"))],
     ["r.data->p.left", "r.data->p.right"], "p",
     "a node with more than one stream input connected cannot be replicated; its inputs "
     "'left', 'right' are paired message by message"),
    ("unpaired", [node("r", "stream.range", count=3), scaled(node("j", "scale.join"))],
     ["r.data->j.data"], "j", "scale.join cannot be replicated; it joins its streams itself"),
]


@pytest.mark.parametrize(("nodes", "edges", "culprit", "says"),
                         [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_replicas_are_refused_with_the_reason(nodes: list[dict[str, Any]], edges: list[str],
                                              culprit: str, says: str) -> None:
    problems = problems_of(nodes, edges)

    assert len(problems) == 1, problems
    problem = problems[0]
    index = [n["id"] for n in nodes].index(culprit)
    assert (problem.code, problem.node, problem.where) == ("replicas", culprit,
                                                           f"nodes[{index}].replicas")
    assert problem.message.startswith(f"node '{culprit}', replicas 2: {says}")
    assert problem.message.endswith("; set replicas to 1")
    with pytest.raises(FlowInvalidError):
        runtime.plan(flow_doc(nodes, edges), registry=registry())


def test_a_stateful_node_is_refused_even_while_its_ports_are_unknown() -> None:
    nodes = [node("r", "stream.range", count=3),
             scaled(node("f", "python.function", code="def process(data):\n    return data",
                         inputs=[1]))]

    problems = problems_of(nodes, ["r.data->f.data"])

    assert [(p.code, p.node) for p in problems] == [("param", "f"), ("replicas", "f")]
    assert "a stateful component cannot be replicated; python.function" in problems[1].message


@pytest.mark.parametrize("component_id", ["frame.sample", "stream.throttle", "model.register",
                                          "model.supervisor"])
def test_the_components_that_keep_state_between_calls_declare_it(component_id: str) -> None:
    spec = default_registry().get(component_id)

    assert spec is not None and STATEFUL_TAG in spec.tags


def test_every_refused_node_is_listed_at_once() -> None:
    nodes = [scaled(node("r", "stream.range", count=3)), scaled(node("c", "stream.count")),
             scaled(node("i", "stream.identity"))]

    problems = problems_of(nodes, ["r.data->c.data", "r.data->i.data"])

    assert [(p.code, p.node) for p in problems] == [("replicas", "r"), ("replicas", "c")]


def test_ordered_and_resources_are_fine_with_one_replica_anywhere() -> None:
    nodes = [{**node("r", "stream.range", count=3), "ordered": False,
              "resources": {"num_cpus": 1}},
             {**node("c", "stream.count"), "replicas": 1, "resources": {"num_gpus": 1}}]

    assert problems_of(nodes, ["r.data->c.data"]) == []


def test_a_stateless_node_with_one_stream_and_latest_inputs_may_have_replicas() -> None:
    nodes = [node("r", "stream.range", count=3), node("m", "stream.range", count=1),
             scaled(node("t", "scale.times"), 8, ordered=False),
             scaled(node("d", "scale.double"), 64)]

    assert problems_of(nodes, ["r.data->t.data", "m.data->t.factor", "r.data->d.data"]) == []


def test_one_stream_input_fed_by_several_edges_may_have_replicas() -> None:
    nodes = [node("a", "stream.range", count=3), node("b", "stream.range", count=3),
             scaled(node("d", "scale.double"), 3)]

    assert problems_of(nodes, ["a.data->d.data", "b.data->d.data"]) == []


def test_the_plan_carries_the_keys() -> None:
    nodes = [node("r", "stream.range", count=3),
             scaled(node("d", "scale.double"), 4, ordered=False,
                    resources={"num_cpus": 2, "num_gpus": 0.5, "memory": 1024}),
             {**node("c", "stream.count"), "resources": {"memory": 0}}]

    plan = runtime.plan(flow_doc(nodes, ["r.data->d.data", "d.data->c.data"]),
                        registry=registry())

    first, heavy, count = plan.nodes["r"], plan.nodes["d"], plan.nodes["c"]
    assert (first.replicas, first.ordered, first.resources) == (1, True, {})
    assert (heavy.replicas, heavy.ordered) == (4, False)
    assert heavy.resources == {"num_cpus": 2.0, "num_gpus": 0.5, "memory": 1024}
    assert (count.replicas, count.ordered, count.resources) == (1, True, {"memory": 0})


def test_the_local_engine_runs_one_copy_and_gives_the_same_results() -> None:
    nodes = [node("r", "stream.range", count=5),
             scaled(node("d", "scale.double"), 3, ordered=False), node("k", "scale.keep")]
    edges = ["r.data->d.data", "d.data->k.data"]
    plain_nodes = [node("r", "stream.range", count=5), node("d", "scale.double"),
                   node("k", "scale.keep")]

    KEPT.clear()
    scaled_run = run_guarded(make_run(nodes, edges, SPECS))
    scaled_kept = list(KEPT)
    KEPT.clear()
    plain_run = run_guarded(make_run(plain_nodes, edges, SPECS))

    assert scaled_run.status == plain_run.status == "ok"
    assert scaled_run.nodes["d"].fired == plain_run.nodes["d"].fired == 5
    assert scaled_run.edges == plain_run.edges
    assert scaled_kept == KEPT == [0, 2, 4, 6, 8]


def test_validate_on_the_command_line_names_the_refused_node(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [node("l", "dataset.load", name="iris"),
                                 scaled(node("c", "stream.collect"), 4),
                                 node("d", "debug")], ["l.data->c.data", "c.data->d.data"])

    result = edgewise("validate", flow)

    assert result.code == 2, result.output
    assert result.stdout.strip() == (
        f"{flow}: node 'c', replicas 4: a stateful component cannot be replicated; "
        "stream.collect has an end() that emits what it kept from every call, and each copy "
        "would hold only part of it; set replicas to 1")
    no_traceback(result)


def test_validate_on_the_command_line_names_a_bad_key(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [{"id": "i", "component": "stream.identity",
                                  "resources": {"cpus": 2}}])

    result = edgewise("validate", flow)

    assert result.code == 2, result.output
    assert "node 'i' (nodes[0].resources.cpus): unknown key 'cpus'" in result.stdout
    no_traceback(result)
