"""The flow file format, version 1: what it accepts, what it refuses, and how it says so."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime import Edge, Flow, FlowFileError, FlowInvalidError, flow_json_schema, parse_flow

FLOWS = Path(__file__).resolve().parents[2] / "flows"

# The example of issue 2, "Flow file format, version 1", verbatim.
SPEC_EXAMPLE: dict[str, Any] = {
    "edgewise": 1,
    "name": "iris-classifier",
    "description": "optional free text",
    "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
         "label": "optional display name", "position": {"x": 80, "y": 120}},
        {"id": "split", "component": "ml.split", "params": {"target": "target"}},
    ],
    "edges": [
        {"source": "load.data", "target": "split.data"},
    ],
    "meta": {},
}

MINIMAL: dict[str, Any] = {"edgewise": 1, "name": "minimal", "nodes": [], "edges": []}


def problems_of(data: Any) -> list[runtime.Problem]:
    with pytest.raises(FlowInvalidError) as info:
        parse_flow(data)
    assert info.value.problems, "a refused flow must list at least one problem"
    return info.value.problems


def with_node(**node: Any) -> dict[str, Any]:
    return {**MINIMAL, "nodes": [{"id": "a", "component": "stream.identity", **node}]}


def with_edge(source: str = "a.data", target: str = "b.data", **extra: Any) -> dict[str, Any]:
    return {**MINIMAL, "edges": [{"source": source, "target": target, **extra}]}


# --- keys ---------------------------------------------------------------------------------


def test_spec_example_parses_with_every_optional_key_kept() -> None:
    flow = parse_flow(copy.deepcopy(SPEC_EXAMPLE))

    assert flow.name == "iris-classifier"
    assert flow.description == "optional free text"
    load = flow.node("load")
    assert load is not None
    assert load.component == "dataset.load"
    assert load.params == {"name": "iris"}
    assert load.label == "optional display name"
    assert load.position is not None
    assert (load.position.x, load.position.y) == (80, 120)
    assert [e.id for e in flow.edges] == ["load.data->split.data"]
    assert flow.node("nope") is None


def test_only_the_required_keys_are_needed() -> None:
    flow = parse_flow({**MINIMAL, "nodes": [{"id": "a", "component": "stream.identity"}]})

    node = flow.nodes[0]
    assert node.params == {}
    assert node.label is None
    assert node.position is None
    assert flow.description is None
    assert flow.meta == {}


@pytest.mark.parametrize("key", ["edgewise", "name", "nodes", "edges"])
def test_each_top_level_required_key_is_required(key: str) -> None:
    data = dict(MINIMAL)
    del data[key]

    [problem] = problems_of(data)

    assert f"required key '{key}' is missing" in problem.message
    assert problem.where == key


@pytest.mark.parametrize(("data", "key", "where"), [
    ({**MINIMAL, "nodes": [{"component": "stream.identity"}]}, "id", "nodes[0].id"),
    ({**MINIMAL, "nodes": [{"id": "a"}]}, "component", "nodes[0].component"),
    ({**MINIMAL, "edges": [{"target": "b.data"}]}, "source", "edges[0].source"),
    ({**MINIMAL, "edges": [{"source": "a.data"}]}, "target", "edges[0].target"),
    (with_node(position={"x": 1}), "y", "nodes[0].position.y"),
])
def test_required_keys_of_nodes_edges_and_positions(data: dict[str, Any], key: str,
                                                    where: str) -> None:
    [problem] = problems_of(data)

    assert f"required key '{key}' is missing" in problem.message
    assert problem.where == where
    assert where in problem.message


def test_meta_is_free_form_and_kept() -> None:
    meta = {"editor": {"zoom": 1.5, "groups": [{"name": "g", "nodes": ["a"]}]}, "x": None}

    flow = parse_flow({**MINIMAL, "meta": meta})

    assert flow.meta == meta


@pytest.mark.parametrize(("data", "key", "where", "names"), [
    ({**MINIMAL, "author": "me"}, "author", "author", None),
    (with_node(colour="red"), "colour", "nodes[0].colour", "node 'a'"),
    (with_node(position={"x": 1, "y": 2, "z": 3}), "z", "nodes[0].position.z", "node 'a'"),
    (with_edge(weight=2), "weight", "edges[0].weight", "edge 'a.data->b.data'"),
])
def test_unknown_keys_are_refused_naming_the_key_and_where(data: dict[str, Any], key: str,
                                                           where: str,
                                                           names: str | None) -> None:
    [problem] = problems_of(data)

    assert f"unknown key '{key}'" in problem.message
    assert problem.where == where
    assert where in problem.message
    if names:
        assert names in problem.message


def test_every_format_problem_is_listed_at_once() -> None:
    data = {"edgewise": 1, "name": "n", "extra": 1,
            "nodes": [{"id": "1bad", "component": "stream.identity", "colour": "red"}],
            "edges": [{"source": "nodot", "target": "b.data"}]}

    problems = problems_of(data)

    wheres = {p.where for p in problems}
    assert {"extra", "nodes[0].id", "nodes[0].colour", "edges[0].source"} <= wheres


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
def test_only_format_version_1_is_read(version: Any) -> None:
    # `true` is not the integer 1: the published schema ({"const": 1, "type": "integer"})
    # refuses it, so the reader must too.
    [problem] = problems_of({**MINIMAL, "edgewise": version})

    assert problem.where == "edgewise"


def test_an_unsupported_version_says_which_version_is_read() -> None:
    [problem] = problems_of({**MINIMAL, "edgewise": 2})

    assert "version" in problem.message
    assert "1" in problem.message


def test_the_name_must_not_be_empty() -> None:
    [problem] = problems_of({**MINIMAL, "name": ""})

    assert problem.where == "name"


@pytest.mark.parametrize("data", [[], "flow", 1, None])
def test_a_flow_must_be_a_json_object(data: Any) -> None:
    [problem] = problems_of(data)

    assert "JSON object" in problem.message


# --- node ids and edge references --------------------------------------------------------


@pytest.mark.parametrize("node_id", ["a", "Load", "fit2", "my_node", "my-node", "A_1-b"])
def test_valid_node_ids(node_id: str) -> None:
    assert parse_flow(with_node(id=node_id)).nodes[0].id == node_id


@pytest.mark.parametrize("node_id", ["", "1load", "_load", "-load", "lo ad", "lo.ad", "lo/ad",
                                     "load\n", "é"])
def test_invalid_node_ids_are_refused_with_the_rule(node_id: str) -> None:
    [problem] = problems_of(with_node(id=node_id))

    assert problem.where == "nodes[0].id"
    assert repr(node_id) in problem.message
    assert "start with a letter" in problem.message


@pytest.mark.parametrize("ref", ["load.data", "my-node.train", "n1.out_2", "n._hidden"])
def test_valid_port_references(ref: str) -> None:
    edge = parse_flow(with_edge(source=ref, target=ref)).edges[0]

    assert edge.source == ref


@pytest.mark.parametrize("ref", ["load", "load.", ".data", "1load.data", "load.2nd",
                                 "load.da-ta", "a.b.c", "load data", ""])
@pytest.mark.parametrize("end", ["source", "target"])
def test_invalid_port_references_are_refused(ref: str, end: str) -> None:
    data = with_edge(**{end: ref})

    [problem] = problems_of(data)

    assert problem.where == f"edges[0].{end}"
    assert "'<node>.<port>'" in problem.message


def test_edge_identity_is_source_arrow_target() -> None:
    edge = Edge(source="split.train", target="fit.data")

    assert edge.id == "split.train->fit.data"
    assert (edge.source_node, edge.source_port) == ("split", "train")
    assert (edge.target_node, edge.target_port) == ("fit", "data")


def test_a_format_problem_in_an_edge_names_the_edge() -> None:
    [problem] = problems_of(with_edge(target="b"))

    assert problem.edge == "a.data->b"
    assert "edge 'a.data->b'" in problem.message


# --- JSON Schema -------------------------------------------------------------------------


def test_json_schema_describes_format_version_1() -> None:
    schema = flow_json_schema()
    defs = schema["$defs"]

    assert json.loads(json.dumps(schema)) == schema
    assert sorted(schema["required"]) == ["edges", "edgewise", "name", "nodes"]
    assert schema["properties"]["edgewise"]["const"] == 1
    assert set(schema["properties"]) == {"edgewise", "name", "description", "nodes", "edges",
                                         "meta"}
    assert sorted(defs["Node"]["required"]) == ["component", "id"]
    assert set(defs["Node"]["properties"]) == {"id", "component", "params", "label",
                                               "position", "replicas", "ordered", "resources"}
    assert set(defs["Resources"]["properties"]) == {"num_cpus", "num_gpus", "memory"}
    assert defs["Node"]["properties"]["id"]["pattern"] == r"^[A-Za-z][A-Za-z0-9_-]*$"
    assert sorted(defs["Edge"]["required"]) == ["source", "target"]


def test_json_schema_refuses_unknown_keys_everywhere_but_free_form_dicts() -> None:
    schema = flow_json_schema()
    defs = schema["$defs"]

    for part in (schema, defs["Node"], defs["Edge"], defs["Position"]):
        assert part["additionalProperties"] is False
    assert schema["properties"]["meta"].get("additionalProperties", True) is not False
    assert defs["Node"]["properties"]["params"].get("additionalProperties", True) is not False


def test_json_schema_edge_pattern_agrees_with_the_reader() -> None:
    import re

    pattern = re.compile(flow_json_schema()["$defs"]["Edge"]["properties"]["source"]["pattern"])
    for ref in ["load.data", "my-node.train", "load", "a.b.c", "load.da-ta", "1a.b"]:
        accepted = True
        try:
            parse_flow(with_edge(source=ref))
        except FlowInvalidError:
            accepted = False
        assert accepted == bool(pattern.fullmatch(ref)), ref


# --- reading files -----------------------------------------------------------------------


def test_load_reads_a_flow_file(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(SPEC_EXAMPLE), encoding="utf-8")

    assert runtime.load(path) == parse_flow(SPEC_EXAMPLE)
    assert runtime.load(str(path)).name == "iris-classifier"


def test_bad_json_reports_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "edgewise": 1,\n  "name": oops,\n}\n', encoding="utf-8")

    with pytest.raises(FlowFileError) as info:
        runtime.load(path)

    assert f"{path}:3:11:" in str(info.value)
    assert "not valid JSON" in str(info.value)


@pytest.mark.parametrize("text", ["", "{", '{"edgewise": 1,}', "nodes: []", "\x00"])
def test_text_that_is_not_json_is_a_file_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "flow.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FlowFileError, match="not valid JSON"):
        runtime.load(path)


def test_absurdly_nested_json_is_a_file_error_not_a_crash(tmp_path: Path) -> None:
    # json.loads raises RecursionError (not JSONDecodeError) past ~1000 levels.
    path = tmp_path / "deep.json"
    path.write_text('{"meta": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")

    with pytest.raises(FlowFileError) as info:
        runtime.load(path)

    assert str(path) in str(info.value)


def test_missing_file_is_a_file_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"

    with pytest.raises(FlowFileError) as info:
        runtime.load(path)

    assert str(path) in str(info.value)
    assert "no such flow file" in str(info.value)


def test_a_folder_is_not_a_flow_file(tmp_path: Path) -> None:
    with pytest.raises(FlowFileError, match="folder"):
        runtime.load(tmp_path)


def test_a_file_that_is_not_utf8_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"edgewise": 1, "name": "caf\xe9", "nodes": [], "edges": []}')

    with pytest.raises(FlowFileError) as info:
        runtime.load(path)

    assert str(path) in str(info.value)


def test_valid_json_with_format_problems_is_flow_invalid(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({**MINIMAL, "colour": "red"}), encoding="utf-8")

    with pytest.raises(FlowInvalidError) as info:
        runtime.load(path)

    assert "unknown key 'colour'" in str(info.value)


# --- writing -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.json")), ids=lambda p: p.name)
def test_shipped_flows_round_trip_through_to_json_text(path: Path) -> None:
    flow = runtime.load(path)

    text = flow.to_json_text()

    assert text.endswith("\n")
    assert parse_flow(json.loads(text)) == flow
    assert parse_flow(json.loads(text)).to_json_text() == text


def test_to_json_text_round_trips_every_optional_key() -> None:
    data = copy.deepcopy(SPEC_EXAMPLE)
    data["meta"] = {"editor": {"zoom": 2}, "kept": None}
    data["nodes"][1]["params"] = {"target": "target", "nested": {"none": None}}
    flow = parse_flow(data)

    again = json.loads(flow.to_json_text())

    assert parse_flow(again) == flow
    assert again["meta"] == data["meta"]
    assert again["nodes"][1]["params"] == data["nodes"][1]["params"]
    assert again["nodes"][0]["label"] == "optional display name"
    assert again["description"] == "optional free text"


def test_to_json_text_adds_no_keys_the_file_did_not_need() -> None:
    flow = parse_flow({**MINIMAL, "nodes": [{"id": "a", "component": "stream.identity"}]})

    again = json.loads(flow.to_json_text())

    assert again == {**MINIMAL, "nodes": [{"id": "a", "component": "stream.identity"}]}


def test_flow_built_in_code_serialises_to_a_readable_file(tmp_path: Path) -> None:
    flow = Flow.model_validate({**MINIMAL, "nodes": [
        {"id": "r", "component": "stream.range", "params": {"count": 3}},
        {"id": "c", "component": "stream.count"}],
        "edges": [{"source": "r.data", "target": "c.data"}]})
    path = tmp_path / "saved.json"
    path.write_text(flow.to_json_text(), encoding="utf-8")

    assert runtime.load(path) == flow
