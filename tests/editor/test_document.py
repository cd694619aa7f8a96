"""The flow being edited: node ids, edges checked by the runtime, undo and redo, copy and paste."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

import runtime
from editor import history
from editor.document import FlowDocument, fresh_id
from editor.history import TYPING_PAUSE

# like flows/iris.json, but fixed here so that edits of the example do not matter
IRIS: dict[str, Any] = {
    "edgewise": 1, "name": "iris-classifier", "description": "Train and score on iris.",
    "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
         "position": {"x": 60, "y": 160}},
        {"id": "split", "component": "ml.split",
         "params": {"target": "target", "test_size": 0.25, "stratify": True},
         "position": {"x": 260, "y": 160}},
        {"id": "fit", "component": "ml.fit", "label": "fit logistic regression",
         "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                    "options": {"max_iter": 500}, "target": "target"},
         "position": {"x": 480, "y": 80}},
        {"id": "predict", "component": "ml.predict", "position": {"x": 700, "y": 200}},
        {"id": "score", "component": "ml.score", "params": {"target": "target"},
         "position": {"x": 900, "y": 200}},
        {"id": "metrics", "component": "debug", "position": {"x": 1100, "y": 200}}],
    "edges": [{"source": "load.data", "target": "split.data"},
              {"source": "split.train", "target": "fit.data"},
              {"source": "split.test", "target": "predict.data"},
              {"source": "fit.model", "target": "predict.model"},
              {"source": "predict.data", "target": "score.data"},
              {"source": "score.metrics", "target": "metrics.data"}],
}
NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")  # the flow format's rule for node ids


@pytest.fixture(scope="module")
def registry() -> runtime.Registry:
    return runtime.default_registry()


@pytest.fixture
def iris(registry: runtime.Registry) -> FlowDocument:
    return FlowDocument(copy.deepcopy(IRIS), registry)


@pytest.fixture
def empty(registry: runtime.Registry) -> FlowDocument:
    return FlowDocument({"edgewise": 1, "name": "empty", "nodes": [], "edges": []}, registry)


class Clock:
    """A stand-in for time.monotonic that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(history.time, "monotonic", fake)
    return fake


def original(node_id: str) -> dict[str, Any]:
    return next(n for n in IRIS["nodes"] if n["id"] == node_id)


def ids(doc: FlowDocument) -> list[str]:
    return [n["id"] for n in doc.nodes]


def edge_ids(doc: FlowDocument) -> set[str]:
    return {f"{e['source']}->{e['target']}" for e in doc.edges}


# -- adding and moving nodes -------------------------------------------------------------


def test_add_node_names_it_after_the_component(empty: FlowDocument) -> None:
    node_id = empty.add_node("ml.fit", 120.4, 80.6)

    assert node_id == "fit"
    assert empty.nodes == [{"id": "fit", "component": "ml.fit",
                            "position": {"x": 120, "y": 81}}]
    assert empty.dirty


def test_added_node_ids_are_fresh_unique_and_valid(iris: FlowDocument) -> None:
    before = set(ids(iris))
    added = [iris.add_node(c, 10 * i, 0) for i, c in enumerate(
        ["ml.fit", "ml.fit", "ml.fit", "debug", "dataset.load", "stream.range"])]

    assert len(set(added)) == len(added)
    assert not before & set(added)
    assert all(NODE_ID.match(i) for i in added)
    assert len(ids(iris)) == len(set(ids(iris))) == len(before) + len(added)
    assert runtime.parse_flow(iris.data)  # still a well-formed flow


@pytest.mark.parametrize("component", ["acme.3d-render", "acme.x+y", "acme.", "9lives",
                                       "acme.über", "_private", ""])
def test_ids_from_odd_component_ids_are_still_valid(empty: FlowDocument, component: str,
                                                    ) -> None:
    first = empty.add_node(component, 0, 0)
    second = empty.add_node(component, 0, 0)

    assert NODE_ID.match(first) and NODE_ID.match(second)
    assert first != second


def test_fresh_id_counts_up_past_taken_ids() -> None:
    assert fresh_id("ml.fit", set()) == "fit"
    assert fresh_id("ml.fit", {"fit", "fit2", "fit3"}) == "fit4"


def test_a_fresh_id_from_a_numbered_id_counts_on_from_its_number() -> None:
    assert fresh_id("load2", {"load", "load2"}) == "load3"
    assert fresh_id("load2", {"load", "load2", "load3"}) == "load4"
    assert fresh_id("n9", {"n9"}) == "n10"
    assert fresh_id("load2", set()) == "load2"


def test_move_nodes_moves_several_in_one_undo_step(iris: FlowDocument) -> None:
    iris.move_nodes({"load": (5.2, 6.7), "fit": (300, 400), "nobody": (1, 1)})

    assert iris.node("load")["position"] == {"x": 5, "y": 7}
    assert iris.node("fit")["position"] == {"x": 300, "y": 400}
    assert iris.node("split")["position"] == original("split")["position"]
    assert iris.undo()
    assert iris.data == IRIS
    assert not iris.dirty


# -- edges -------------------------------------------------------------------------------


def test_add_edge_accepts_a_fitting_connection(iris: FlowDocument) -> None:
    iris.add_node("debug", 0, 0)

    assert iris.add_edge("split.test", "debug.data") is None

    assert "split.test->debug.data" in edge_ids(iris)
    assert runtime.validate(iris.data) == []


@pytest.mark.parametrize(("source", "target", "reason"), [
    ("fit.model", "score.data", "input 'data' expects DataFrame but 'fit.model' gives Model"),
    ("load.data", "split.data", "'load.data->split.data' exists already"),
    ("predict.data", "split.data", "would close a cycle through"),
    ("load.data", "predict.labels", "ml.predict has no input 'labels'"),
    ("score.metrics", "load.data", "'load.data' is an output port"),
    ("split.train", "split.data", "connects node 'split' to itself"),
    ("score.data", "predict.data", "'score.data' is an input port"),
    ("ghost.data", "score.data", "no node 'ghost'"),
    ("load", "score.data", "does not"),
])
def test_add_edge_refuses_with_the_runtimes_reason(iris: FlowDocument, source: str,
                                                   target: str, reason: str) -> None:
    refusal = iris.add_edge(source, target)

    assert refusal is not None and reason in refusal
    problem = runtime.connection_problem(IRIS, source, target)
    assert problem is not None and refusal == problem.message
    assert iris.data == IRIS
    assert not iris.dirty
    assert not iris.undo()  # a refused edge is no step to undo


def test_the_cycle_refusal_names_the_path(iris: FlowDocument) -> None:
    refusal = iris.add_edge("predict.data", "split.data")
    assert refusal is not None
    assert "cycle" in refusal and "split → predict → split" in refusal
    assert "must pass through a 'latest' input" in refusal


def test_a_loop_through_a_latest_input_is_a_feedback_edge_the_editor_accepts(
        iris: FlowDocument) -> None:
    # predictions fed back into the fit: a new model reaches predict's latest 'model' input
    assert iris.add_edge("predict.data", "fit.data") is None
    assert runtime.validate(iris.data) == []


def test_an_unknown_component_node_cannot_be_wired(iris: FlowDocument) -> None:
    iris.data["nodes"].append({"id": "alien", "component": "acme.transmogrify"})

    refusal = iris.add_edge("split.test", "alien.input")

    assert refusal is not None and "unknown component" in refusal
    assert iris.add_edge("split.test", "predict.model") is not None  # wrong type still said
    assert iris.add_node("debug", 0, 0) == "debug"
    assert iris.add_edge("split.test", "debug.data") is None  # the rest still wires


def test_a_refusal_while_the_flow_is_broken_says_what_is_broken(
        registry: runtime.Registry) -> None:
    doc = FlowDocument({**copy.deepcopy(IRIS), "future_key": {"v": 2}}, registry)
    doc.add_node("debug", 0, 0)

    refusal = doc.add_edge("split.test", "debug.data")

    # whether or not such a flow can be wired, the user must learn what to fix
    assert refusal is None or "future_key" in refusal


def test_delete_nodes_removes_their_edges(iris: FlowDocument) -> None:
    iris.delete(["predict"], [])

    assert "predict" not in ids(iris)
    assert edge_ids(iris) == {"load.data->split.data", "split.train->fit.data",
                              "score.metrics->metrics.data"}


def test_delete_edges_by_id_keeps_the_nodes(iris: FlowDocument) -> None:
    iris.delete([], ["fit.model->predict.model", "not->there"])

    assert len(iris.nodes) == 6
    assert "fit.model->predict.model" not in edge_ids(iris)
    assert len(iris.edges) == 5


def test_delete_then_undo_restores_nodes_and_edges(iris: FlowDocument) -> None:
    iris.delete(["split", "fit"], ["score.metrics->metrics.data"])
    assert len(iris.nodes) == 4 and len(iris.edges) == 1

    assert iris.undo()
    assert iris.data == IRIS


# -- params and labels -------------------------------------------------------------------


def test_set_params_replaces_them_and_empty_params_leave_the_file(iris: FlowDocument) -> None:
    iris.set_params("split", {"target": "species"})
    assert iris.node("split")["params"] == {"target": "species"}

    iris.set_params("score", {})
    assert "params" not in iris.node("score")


def test_set_params_to_the_same_values_changes_nothing(iris: FlowDocument) -> None:
    iris.set_params("split", dict(original("split")["params"]))
    iris.set_params("predict", {})
    iris.set_label("fit", "fit logistic regression")
    iris.set_params("ghost", {"a": 1})
    iris.set_label("ghost", "boo")

    assert not iris.dirty
    assert not iris.undo()


def test_set_label_sets_and_clears(iris: FlowDocument) -> None:
    iris.set_label("load", "the iris data")
    assert iris.node("load")["label"] == "the iris data"

    iris.set_label("fit", "")
    assert "label" not in iris.node("fit")


# -- undo, redo, dirty -------------------------------------------------------------------


def test_undo_and_redo_walk_the_history(empty: FlowDocument) -> None:
    assert not empty.undo() and not empty.redo()
    empty.add_node("stream.range", 0, 0)
    empty.add_node("debug", 200, 0)
    assert empty.add_edge("range.data", "debug.data") is None
    states = []
    for _ in range(3):
        states.append(copy.deepcopy(empty.data))
        assert empty.undo()
    assert not empty.undo()
    assert empty.nodes == [] and empty.edges == []

    for state in reversed(states):
        assert empty.redo()
        assert empty.data == state
    assert not empty.redo()


def test_a_new_edit_drops_the_redo_history(empty: FlowDocument) -> None:
    empty.add_node("stream.range", 0, 0)
    empty.undo()
    empty.add_node("debug", 0, 0)

    assert not empty.redo()
    assert ids(empty) == ["debug"]


def test_typing_into_one_field_undoes_as_one_step(iris: FlowDocument, clock: Clock) -> None:
    for text in ["s", "sp", "spe", "spec"]:
        iris.set_params("split", {"target": text})
        clock.now += TYPING_PAUSE / 3

    assert iris.undo()
    assert iris.node("split")["params"] == original("split")["params"]
    assert not iris.dirty
    assert iris.redo()
    assert iris.node("split")["params"] == {"target": "spec"}


def test_a_pause_in_typing_starts_a_new_step(iris: FlowDocument, clock: Clock) -> None:
    iris.set_label("load", "ir")
    clock.now += 0.2
    iris.set_label("load", "iris")
    clock.now += TYPING_PAUSE + 0.1
    iris.set_label("load", "iris data")

    assert iris.undo()
    assert iris.node("load")["label"] == "iris"
    assert iris.undo()
    assert "label" not in iris.node("load")


def test_quick_edits_of_different_fields_are_separate_steps(iris: FlowDocument,
                                                            clock: Clock) -> None:
    iris.set_params("split", {"target": "a"})
    clock.now += 0.1
    iris.set_label("split", "a")
    clock.now += 0.1
    iris.set_params("score", {"target": "a"})
    clock.now += 0.1
    iris.set_params("split", {"target": "ab"})

    for _ in range(4):
        assert iris.undo()
    assert iris.data == IRIS
    assert not iris.undo()


def test_another_edit_between_keystrokes_splits_the_typing(iris: FlowDocument,
                                                          clock: Clock) -> None:
    iris.set_params("split", {"target": "a"})
    clock.now += 0.1
    iris.move_nodes({"load": (0, 0)})
    clock.now += 0.1
    iris.set_params("split", {"target": "ab"})

    assert iris.undo()
    assert iris.node("split")["params"] == {"target": "a"}
    assert iris.node("load")["position"] == {"x": 0, "y": 0}


def test_typing_after_an_undo_is_a_new_step(iris: FlowDocument, clock: Clock) -> None:
    iris.set_params("split", {"target": "a"})
    clock.now += 0.1
    iris.undo()
    clock.now += 0.1
    iris.set_params("split", {"target": "b"})

    assert iris.undo()
    assert iris.data == IRIS


def test_dirty_follows_the_saved_state(iris: FlowDocument) -> None:
    assert not iris.dirty
    iris.add_node("debug", 0, 0)
    assert iris.dirty
    iris.mark_saved()
    assert not iris.dirty

    iris.undo()
    assert iris.dirty  # the file on disk has the node
    iris.redo()
    assert not iris.dirty


def test_opening_a_document_without_edges_is_not_a_change(registry: runtime.Registry) -> None:
    doc = FlowDocument({"edgewise": 1, "name": "bare"}, registry)

    assert not doc.dirty


# -- copy and paste ----------------------------------------------------------------------


def test_paste_gives_new_ids_offset_positions_and_internal_edges(iris: FlowDocument) -> None:
    clip = iris.copy(["split", "fit", "predict"])
    assert {n["id"] for n in clip["nodes"]} == {"split", "fit", "predict"}
    assert {f"{e['source']}->{e['target']}" for e in clip["edges"]} == {
        "split.train->fit.data", "split.test->predict.data", "fit.model->predict.model"}

    new = iris.paste(clip)

    assert len(new) == 3 and not set(new) & {n["id"] for n in IRIS["nodes"]}
    assert all(NODE_ID.match(i) for i in new)
    by_old = dict(zip(["split", "fit", "predict"], new, strict=True))
    for old, fresh in by_old.items():
        original, pasted = iris.node(old), iris.node(fresh)
        assert pasted["component"] == original["component"]
        assert pasted.get("params") == original.get("params")
        assert pasted["position"] == {"x": original["position"]["x"] + 40,
                                      "y": original["position"]["y"] + 40}
    s, f, p = by_old["split"], by_old["fit"], by_old["predict"]
    assert edge_ids(iris) - {f"{e['source']}->{e['target']}" for e in IRIS["edges"]} == {
        f"{s}.train->{f}.data", f"{s}.test->{p}.data", f"{f}.model->{p}.model"}
    assert runtime.parse_flow(iris.data)
    assert iris.undo() and iris.data == IRIS  # one step


def test_paste_twice_gives_distinct_copies(iris: FlowDocument) -> None:
    clip = iris.copy(["load"])

    first = iris.paste(clip, offset=10)
    second = iris.paste(clip, offset=20)

    assert len(set(ids(iris))) == 8
    assert set(first).isdisjoint(second)
    assert iris.node(second[0])["position"] == {"x": 80, "y": 180}


def test_the_clipboard_does_not_follow_later_edits(iris: FlowDocument) -> None:
    clip = iris.copy(["fit"])
    iris.set_params("fit", {"estimator": "changed"})
    iris.delete(["fit"], [])

    (new,) = iris.paste(clip)

    assert iris.node(new)["params"] == original("fit")["params"]


def test_paste_of_nothing_is_no_step(iris: FlowDocument) -> None:
    assert iris.paste(iris.copy([])) == []
    assert iris.paste({}) == []
    assert not iris.dirty and not iris.undo()


# -- what this install does not understand survives --------------------------------------

FOREIGN: dict[str, Any] = {
    "edgewise": 1, "name": "foreign", "description": "from a newer install",
    "nodes": [
        {"id": "src", "component": "stream.range", "params": {"count": 3},
         "position": {"x": 40, "y": 60}},
        {"id": "alien", "component": "acme.transmogrify",
         "params": {"level": 11, "nested": {"deep": [1, {"x": None}]}},
         "label": "from elsewhere", "position": {"x": 320, "y": 60}},
        {"id": "fit", "component": "ml.fit",
         "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                    "target": "target", "param_from_the_future": [1, 2]},
         "position": {"x": 40, "y": 300}},
        {"id": "sink", "component": "debug", "position": {"x": 600, "y": 60}}],
    "edges": [{"source": "src.data", "target": "alien.input"},
              {"source": "alien.output", "target": "sink.data"}],
    "meta": {"editor": {"zoom": 1.25, "pan": [3, 4]}, "acme": {"colour": "teal"}},
}


def test_unknown_things_survive_edits_untouched(registry: runtime.Registry) -> None:
    doc = FlowDocument(copy.deepcopy(FOREIGN), registry)

    doc.move_nodes({"src": (50, 70), "alien": (330, 80)})
    doc.set_label("fit", "fit it")
    doc.set_params("src", {"count": 4})
    doc.add_node("debug", 600, 300)
    doc.delete([], ["nope->nothing"])
    doc.paste(doc.copy(["alien"]))
    doc.undo()

    assert {k: v for k, v in doc.data.items() if k != "nodes"} == {
        k: v for k, v in FOREIGN.items() if k != "nodes"}
    alien = doc.node("alien")
    assert {k: v for k, v in alien.items() if k != "position"} == {
        k: v for k, v in FOREIGN["nodes"][1].items() if k != "position"}
    assert alien["position"] == {"x": 330, "y": 80}
    assert doc.node("fit")["params"] == FOREIGN["nodes"][2]["params"]
    assert json.loads(json.dumps(doc.data))  # still plain JSON


def test_an_unknown_component_is_copied_whole(registry: runtime.Registry) -> None:
    doc = FlowDocument(copy.deepcopy(FOREIGN), registry)

    (new,) = doc.paste(doc.copy(["alien"]))

    pasted = doc.node(new)
    assert pasted["component"] == "acme.transmogrify"
    assert pasted["params"] == FOREIGN["nodes"][1]["params"]
    assert pasted["label"] == "from elsewhere"


def test_unknown_top_level_keys_survive_edits(registry: runtime.Registry) -> None:
    data = {**copy.deepcopy(IRIS), "x-future": {"keep": True}, "meta": {"odd": [1]}}
    doc = FlowDocument(data, registry)

    doc.add_node("debug", 0, 0)
    doc.set_params("split", {"target": "target"})
    doc.delete(["metrics"], [])
    doc.undo()
    doc.redo()

    assert doc.data["x-future"] == {"keep": True}
    assert doc.data["meta"] == {"odd": [1]}
    assert doc.data["description"] == IRIS["description"]


# -- nodes whose ports follow their params ------------------------------------------------

ROUTED: dict[str, Any] = {
    "edgewise": 1, "name": "routed",
    "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
        {"id": "r", "component": "frame.route",
         "params": {"routes": {"wide": "sepal_width > 3", "long": "sepal_length > 6"}}},
        {"id": "c1", "component": "stream.count"},
        {"id": "c2", "component": "stream.count"},
        {"id": "c3", "component": "stream.count"}],
    "edges": [{"source": "load.data", "target": "r.data"},
              {"source": "r.wide", "target": "c1.data"},
              {"source": "r.long", "target": "c2.data"},
              {"source": "r.otherwise", "target": "c3.data"}],
}
ROUTED_EDGES = {"load.data->r.data", "r.wide->c1.data", "r.long->c2.data",
                "r.otherwise->c3.data"}


@pytest.fixture
def routed(registry: runtime.Registry) -> FlowDocument:
    return FlowDocument(copy.deepcopy(ROUTED), registry)


def port_names(doc: FlowDocument, node_id: str) -> list[str]:
    node = doc.node(node_id)
    assert node is not None
    ports = doc.ports(node)
    assert ports is not None
    return [p["name"] for p in ports["outputs"]]


def test_a_route_node_has_the_ports_of_its_routes(routed: FlowDocument) -> None:
    assert port_names(routed, "r") == ["wide", "long", "otherwise", "error"]
    load = routed.node("load")
    assert load is not None and routed.ports(load) is None  # static ports: the catalogue's


def test_removing_a_route_drops_its_edge_and_one_undo_restores_both(
        routed: FlowDocument, clock: Clock) -> None:
    routed.set_params("r", {"routes": {"wide": "sepal_width > 3", "big": "petal_width > 1"}})
    assert port_names(routed, "r") == ["wide", "big", "otherwise", "error"]
    assert edge_ids(routed) == ROUTED_EDGES - {"r.long->c2.data"}
    assert routed.undo()
    assert routed.data == ROUTED
    assert port_names(routed, "r") == ["wide", "long", "otherwise", "error"]
    assert routed.redo()
    assert edge_ids(routed) == ROUTED_EDGES - {"r.long->c2.data"}


def test_a_route_name_half_typed_gets_its_edge_back_when_whole(
        routed: FlowDocument, clock: Clock) -> None:
    for name in ("lon", "lo", "lon", "long"):  # keystrokes, closer than the typing pause
        clock.now += 0.2
        routed.set_params("r", {"routes": {"wide": "sepal_width > 3",
                                           name: "sepal_length > 6"}})
        assert ("r.long->c2.data" in edge_ids(routed)) == (name == "long")
    assert routed.data == ROUTED
    clock.now += TYPING_PAUSE + 1
    routed.set_params("r", {"routes": {"wide": "sepal_width > 3"}})
    assert edge_ids(routed) == ROUTED_EDGES - {"r.long->c2.data"}
    assert routed.undo()
    assert routed.data == ROUTED


def test_invalid_params_keep_the_edges_and_the_last_ports(
        routed: FlowDocument, clock: Clock) -> None:
    routed.set_params("r", {"routes": {"Wide": "sepal_width > 3"}})
    assert edge_ids(routed) == ROUTED_EDGES
    assert port_names(routed, "r") == ["wide", "long", "otherwise", "error"]
    clock.now += 0.2
    routed.set_params("r", {"routes": {"wide": "sepal_width > 3"}})  # whole again
    assert edge_ids(routed) == ROUTED_EDGES - {"r.long->c2.data"}
    assert routed.undo()
    assert routed.data == ROUTED


def test_other_params_edits_do_not_touch_edges(routed: FlowDocument) -> None:
    routed.set_params("r", {"routes": {"wide": "sepal_width > 3", "long": "sepal_length > 7"},
                            "emit_empty": True})
    assert edge_ids(routed) == ROUTED_EDGES


def test_reordering_routes_is_a_change_that_undo_takes_back(routed: FlowDocument) -> None:
    routes = {"long": "sepal_length > 6", "wide": "sepal_width > 3"}  # the same, reordered

    routed.set_params("r", {"routes": routes})

    assert routed.dirty
    assert port_names(routed, "r") == ["long", "wide", "otherwise", "error"]
    assert edge_ids(routed) == ROUTED_EDGES
    assert routed.undo()
    assert not routed.dirty
    assert port_names(routed, "r") == ["wide", "long", "otherwise", "error"]


def test_moving_a_node_key_is_not_a_change(routed: FlowDocument) -> None:
    node = routed.node("load")
    assert node is not None
    routed.data["nodes"][0] = {"params": node["params"], "component": "dataset.load",
                               "id": "load"}  # same content, other key order

    assert not routed.dirty
