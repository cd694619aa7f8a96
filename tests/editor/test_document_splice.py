"""FlowDocument's wiring edits: a node spliced into an edge, a node added wired to a port,
and paste at a point; each one undo step, each checked by the runtime's connection rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import runtime
from editor.document import FlowDocument
from tests.editor.test_document import IRIS, edge_ids


@pytest.fixture(scope="module")
def registry() -> runtime.Registry:
    return runtime.default_registry()


@pytest.fixture
def iris(registry: runtime.Registry) -> FlowDocument:
    return FlowDocument(copy.deepcopy(IRIS), registry)


def valid(doc: FlowDocument) -> bool:
    return runtime.validate(copy.deepcopy(doc.data)) == []


def test_splice_puts_a_node_between_the_ends_of_an_edge(iris: FlowDocument) -> None:
    before = edge_ids(iris)
    node = iris.add_node("frame.query", 160, 300)
    iris.set_params(node, {"expr": "target >= 0"})
    assert iris.splice(node, "load.data->split.data") is None
    assert edge_ids(iris) == (before - {"load.data->split.data"}) | {
        "load.data->query.data", "query.data->split.data"}
    assert valid(iris)
    iris.undo()  # the splice is one step: the edge comes back, the node stays
    assert edge_ids(iris) == before
    assert iris.node(node) is not None


def test_splice_in_the_step_of_the_drop(iris: FlowDocument) -> None:
    before = copy.deepcopy(iris.data)
    node = iris.add_node("stream.identity", 160, 300)
    assert iris.splice(node, "fit.model->predict.model", new_step=False) is None
    assert {"fit.model->identity.data", "identity.data->predict.model"} <= edge_ids(iris)
    assert "fit.model->predict.model" not in edge_ids(iris)
    assert iris.undo()
    assert iris.data == before
    assert not iris.undo()


def test_splice_skips_ports_that_do_not_fit_and_the_error_port(iris: FlowDocument) -> None:
    # ml.predict: 'model' does not take a DataFrame, 'data' does; its 'error' is not used
    node = iris.add_node("ml.predict", 0, 400)
    assert iris.splice(node, "split.test->predict.data") is None
    assert {"split.test->predict2.data", "predict2.data->predict.data"} <= edge_ids(iris)


def test_splice_refused_changes_nothing(iris: FlowDocument) -> None:
    node = iris.add_node("ml.score", 0, 400)
    snapshot = copy.deepcopy(iris.data)
    # ml.score gives metrics (a record), which predict's 'model' input does not take
    reason = iris.splice(node, "fit.model->predict.model")
    assert reason is not None and "score" in reason
    assert iris.data == snapshot
    assert "is an end" in (iris.splice("fit", "fit.model->predict.model") or "")
    assert "no edge" in (iris.splice(node, "nope.x->other.y") or "")
    assert iris.data == snapshot


@pytest.mark.parametrize(("component", "port", "direction", "edge"), [
    ("frame.query", "split.test", "out", "split.test->query.data"),
    ("ml.fit", "predict.model", "in", "fit2.model->predict.model"),
    ("debug", "score.metrics", "out", "score.metrics->debug.data"),
])
def test_add_wired(iris: FlowDocument, component: str, port: str, direction: str,
                   edge: str) -> None:
    before = copy.deepcopy(iris.data)
    node, reason = iris.add_wired(component, 500, 500, port, direction)
    assert reason is None
    assert edge in edge_ids(iris)
    assert iris.node(node)["position"] == {"x": 500, "y": 500}  # type: ignore[index]
    iris.undo()
    assert iris.data == before


def test_add_wired_keeps_a_node_that_fits_no_port(iris: FlowDocument) -> None:
    node, reason = iris.add_wired("dataset.load", 0, 0, "split.test", "out")
    assert reason is not None and "dataset.load" in reason
    assert iris.node(node) is not None
    assert edge_ids(iris) == edge_ids(FlowDocument(copy.deepcopy(IRIS), iris.registry))


def positions(doc: FlowDocument, ids: list[str]) -> dict[str, Any]:
    return {i: doc.node(i)["position"] for i in ids}  # type: ignore[index]


def test_paste_at_a_point_puts_the_top_left_there(iris: FlowDocument) -> None:
    clip = iris.copy(["load", "split"])  # at (60, 160) and (260, 160)
    new = iris.paste(clip, at=(500, 700))
    assert positions(iris, new) == {"load2": {"x": 500, "y": 700},
                                    "split2": {"x": 700, "y": 700}}
    assert "load2.data->split2.data" in edge_ids(iris)


def test_paste_at_the_original_is_shifted_off_its_ports(iris: FlowDocument) -> None:
    clip = iris.copy(["load"])
    new = iris.paste(clip, at=(70, 150))  # almost on the original at (60, 160)
    assert positions(iris, new) == {"load2": {"x": 110, "y": 190}}
    new = iris.paste(clip)  # no point: shifted from the original
    assert positions(iris, new) == {"load3": {"x": 100, "y": 200}}
