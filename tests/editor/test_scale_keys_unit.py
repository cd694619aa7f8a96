"""The document's edits of a node's scale-out keys, and which problems the section shows."""

from __future__ import annotations

import json
from typing import Any

import runtime
from editor.document import FlowDocument
from editor.scale_section import is_scale_problem

DOC: dict[str, Any] = {"edgewise": 1, "name": "t", "nodes": [
    {"id": "r", "component": "stream.range", "params": {"count": 3}},
    {"id": "i", "component": "stream.identity"}],
    "edges": [{"source": "r.data", "target": "i.data"}]}


def document() -> FlowDocument:
    return FlowDocument(json.loads(json.dumps(DOC)), runtime.default_registry())


def test_a_key_is_set_beside_the_params_and_undone() -> None:
    doc = document()

    doc.set_node_key("i", "replicas", 4)

    assert doc.node("i") == {"id": "i", "component": "stream.identity", "replicas": 4}
    assert doc.dirty
    assert doc.undo()
    assert doc.data == DOC
    assert not doc.dirty
    assert not doc.undo()


def test_none_leaves_the_key_out_and_an_unchanged_value_is_no_edit() -> None:
    doc = document()
    doc.set_node_key("i", "resources", {"num_cpus": 1})
    doc.set_node_key("i", "ordered", False)

    doc.set_node_key("i", "resources", None)
    doc.set_node_key("i", "ordered", None)
    doc.set_node_key("r", "replicas", None)

    assert doc.data == DOC
    assert not doc.dirty


def test_the_section_shows_the_problems_of_its_keys_only() -> None:
    doc = dict(DOC, nodes=[DOC["nodes"][0], {**DOC["nodes"][1], "replicas": 0}])
    bad_key = runtime.validate(doc)
    refused = runtime.validate(dict(DOC, nodes=[{**DOC["nodes"][0], "replicas": 2},
                                                DOC["nodes"][1]]))
    param = runtime.validate(dict(DOC, nodes=[{**DOC["nodes"][0], "params": {"count": "x"}},
                                              DOC["nodes"][1]]))

    assert [is_scale_problem(p, "i") for p in bad_key] == [True]
    assert [is_scale_problem(p, "r") for p in refused] == [True]
    assert [is_scale_problem(p, "i") for p in refused] == [False]
    assert [is_scale_problem(p, "r") for p in param] == [False]
