"""Canvas interactions in a real headless Chromium: box select, shift-click, copy and paste,
cut, delete and undo, the debug panel's pause and clear, and the problems list."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

import runtime

NODE = '[data-testid=node][data-node-id="{}"]'
EDGE = '[data-testid=edge][data-edge="{}"]'
SELECTED = re.compile(r"\bselected\b")
PROBLEM = re.compile(r"\bproblem\b")
IRIS_NODES = ["load", "split", "fit", "predict", "score", "metrics"]


def node(page: Any, node_id: str) -> Any:
    return page.locator(NODE.format(node_id))


def edge(page: Any, edge_id: str) -> Any:
    return page.locator(EDGE.format(edge_id))


def open_flow(page: Any, server: Any, name: str, nodes: int) -> None:
    page.goto(f"{server.url}/flow/{name}")
    expect(page.get_by_test_id("node")).to_have_count(nodes)
    # the problems list is filled once the page has validated the flow
    expect(page.get_by_test_id("problems")).not_to_be_empty()


def box_select(page: Any, *node_ids: str, margin: float = 12) -> None:
    """Drag a rubber band on the empty background around the given nodes."""
    boxes = [node(page, n).locator(".ew-body").bounding_box() for n in node_ids]
    assert all(boxes)
    x1 = min(b["x"] for b in boxes) - margin
    y1 = min(b["y"] for b in boxes) - margin
    x2 = max(b["x"] + b["width"] for b in boxes) + margin
    y2 = max(b["y"] + b["height"] for b in boxes) + margin
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=5)
    page.mouse.move(x2, y2, steps=5)
    page.mouse.up()


def click_node(page: Any, node_id: str, *, shift: bool = False) -> None:
    node(page, node_id).locator(".ew-title").click(modifiers=["Shift"] if shift else None)


def click_edge(page: Any, edge_id: str) -> None:
    """Click the middle of an edge (a straight edge has no height: Playwright calls it hidden)."""
    hit = edge(page, edge_id).locator(".ew-edge-hit")
    hit.wait_for(state="attached")
    box = hit.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def click_background(page: Any) -> None:
    """A click on an empty spot of the canvas: clears the selection, focuses the canvas."""
    page.get_by_test_id("canvas").click(position={"x": 8, "y": 8})


def expect_selection(page: Any, selected: list[str], others: list[str]) -> None:
    for n in selected:
        expect(node(page, n)).to_have_class(SELECTED)
    for n in others:
        expect(node(page, n)).not_to_have_class(SELECTED)


def expect_params_text(page: Any, text: str) -> None:
    """What the params panel says about the selection, as the Python side knows it."""
    expect(page.get_by_test_id("params-form")).to_have_text(text)


def save(page: Any) -> None:
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")


def saved(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def edge_ids(data: dict[str, Any]) -> set[str]:
    return {f"{e['source']}->{e['target']}" for e in data["edges"]}


def test_box_select_and_shift_click(examples_server: Any, page: Any) -> None:
    server = examples_server
    open_flow(page, server, "iris.json", 6)
    box_select(page, "load", "split")
    expect_selection(page, ["load", "split"], ["fit", "predict", "score", "metrics"])
    expect_params_text(page, "2 nodes selected.")

    click_node(page, "fit", shift=True)
    expect_selection(page, ["load", "split", "fit"], ["predict", "score", "metrics"])
    expect_params_text(page, "3 nodes selected.")
    click_node(page, "fit", shift=True)
    expect_selection(page, ["load", "split"], ["fit", "predict", "score", "metrics"])
    expect_params_text(page, "2 nodes selected.")

    # a shift-click on a selected node takes just that one out
    click_node(page, "load", shift=True)
    expect_selection(page, ["split"], ["load", "fit", "predict", "score", "metrics"])
    expect(page.get_by_test_id("params-node")).to_have_text("split")

    # a band drawn with Shift adds to the selection
    page.keyboard.down("Shift")
    box_select(page, "predict", "score", "metrics")
    page.keyboard.up("Shift")
    expect_selection(page, ["split", "predict", "score", "metrics"], ["load", "fit"])
    expect_params_text(page, "4 nodes selected.")

    # a band without Shift replaces the selection
    box_select(page, "predict", "score")
    expect_selection(page, ["predict", "score"], ["load", "split", "fit", "metrics"])
    expect_params_text(page, "2 nodes selected.")

    # Ctrl+A selects every node; a click on the background clears the selection
    page.keyboard.press("Control+a")
    expect_selection(page, IRIS_NODES, [])
    expect_params_text(page, "6 nodes selected.")
    click_background(page)
    expect_selection(page, [], IRIS_NODES)
    expect_params_text(page, "Select a node to edit its params.")
    # selecting is not an edit
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    assert page.js_errors == []


def test_copy_paste_and_cut(server_factory: Any, example_workspace: Path, page: Any) -> None:
    path = example_workspace / "iris.json"
    original = saved(path)
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    nodes, edges = page.get_by_test_id("node"), page.get_by_test_id("edge")

    box_select(page, "load", "split")
    expect_selection(page, ["load", "split"], ["fit"])
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    page.keyboard.press("Control+v")
    expect(nodes).to_have_count(8)
    expect(edges).to_have_count(7)
    # fresh ids, the edge between the copied nodes copied along, and the copies selected
    expect(edge(page, "load2.data->split2.data")).to_have_count(1)
    expect_selection(page, ["load2", "split2"], ["load", "split"])
    expect_params_text(page, "2 nodes selected.")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    # the copy sits a little off the original
    a, b = node(page, "load").bounding_box(), node(page, "load2").bounding_box()
    assert b["x"] > a["x"] and b["y"] > a["y"]

    save(page)
    data = saved(path)
    by_id = {n["id"]: n for n in data["nodes"]}
    assert set(by_id) == set(IRIS_NODES) | {"load2", "split2"}
    assert by_id["split2"]["params"] == by_id["split"]["params"]
    assert by_id["load2"]["component"] == "dataset.load"
    # pasted at the pointer (see test_editing_habits.py), the copies keep their layout
    assert by_id["load2"]["position"] != by_id["load"]["position"]
    for axis in ("x", "y"):
        assert (by_id["split2"]["position"][axis] - by_id["load2"]["position"][axis]
                == by_id["split"]["position"][axis] - by_id["load"]["position"][axis])
    assert edge_ids(data) == edge_ids(original) | {"load2.data->split2.data"}
    assert runtime.validate(path) == []
    assert {n.id for n in runtime.load(path).nodes} == set(by_id)

    # cut takes the selected copies (and their edge) away; paste brings them back
    page.keyboard.press("Control+x")
    expect(nodes).to_have_count(6)
    expect(edges).to_have_count(6)
    expect(node(page, "load2")).to_have_count(0)
    expect(edge(page, "load2.data->split2.data")).to_have_count(0)
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    save(page)
    assert saved(path)["nodes"] == original["nodes"]
    assert edge_ids(saved(path)) == edge_ids(original)

    page.keyboard.press("Control+v")
    expect(nodes).to_have_count(8)
    expect(edge(page, "load2.data->split2.data")).to_have_count(1)
    save(page)
    assert {n["id"] for n in saved(path)["nodes"]} == set(IRIS_NODES) | {"load2", "split2"}
    assert runtime.validate(path) == []

    # a second paste of the same clipboard gets ids of its own
    page.keyboard.press("Control+v")
    expect(nodes).to_have_count(10)
    expect(edges).to_have_count(8)
    ids = nodes.evaluate_all("els => els.map((e) => e.dataset.nodeId)")
    assert len(set(ids)) == 10
    assert {"load3", "split3"} <= set(ids)
    expect(edge(page, "load3.data->split3.data")).to_have_count(1)
    assert page.js_errors == []


def test_delete_key_and_undo(server_factory: Any, example_workspace: Path, page: Any) -> None:
    path = example_workspace / "iris.json"
    original = saved(path)
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    nodes, edges = page.get_by_test_id("node"), page.get_by_test_id("edge")

    click_node(page, "predict")
    click_node(page, "score", shift=True)
    expect_selection(page, ["predict", "score"], ["fit", "metrics"])
    page.keyboard.press("Delete")
    expect(nodes).to_have_count(4)
    # the four edges into and out of predict and score went with them
    expect(edges).to_have_count(2)
    expect(edge(page, "load.data->split.data")).to_have_count(1)
    expect(edge(page, "split.train->fit.data")).to_have_count(1)
    expect(node(page, "predict")).to_have_count(0)
    expect(node(page, "score")).to_have_count(0)
    save(page)
    data = saved(path)
    assert {n["id"] for n in data["nodes"]} == {"load", "split", "fit", "metrics"}
    assert edge_ids(data) == {"load.data->split.data", "split.train->fit.data"}

    page.keyboard.press("Control+z")
    expect(nodes).to_have_count(6)
    expect(edges).to_have_count(6)
    expect(edge(page, "predict.data->score.data")).to_have_count(1)
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    save(page)
    assert saved(path) == original

    # with nothing selected, Delete does nothing
    click_background(page)
    page.keyboard.press("Delete")
    page.keyboard.press("Backspace")
    expect(nodes).to_have_count(6)
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")

    # Delete typed into a params field edits the field, not the canvas
    click_node(page, "split")
    field = page.locator('input[data-param="target"], [data-param="target"] input').first
    field.click()
    field.press("End")
    field.press("Backspace")
    expect(field).to_have_value("targe")
    # the edit reached Python (the flow is dirty), and the node is still there
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    expect(nodes).to_have_count(6)
    expect(node(page, "split")).to_have_count(1)
    assert page.js_errors == []


def test_debug_panel_reveal_pause_and_clear(server_factory: Any, example_workspace: Path,
                                            page: Any) -> None:
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    assert saved(example_workspace / "iris.json")["nodes"][-1]["component"] == "debug"
    run_button = page.get_by_test_id("run")
    rows = page.get_by_test_id("run-row")

    def run_and_wait(runs: int) -> None:
        run_button.click()
        page.get_by_test_id("tab-runs").click()
        expect(rows).to_have_count(runs, timeout=60_000)
        expect(run_button).to_be_enabled()
        page.get_by_test_id("tab-debug").click()

    run_and_wait(1)
    panel = page.get_by_test_id("debug-panel")
    entries = panel.get_by_test_id("debug-entry")
    expect(entries).to_have_count(1)
    expect(entries.first).to_have_attribute("data-node-id", "metrics")
    expect(entries.first).to_contain_text("accuracy")

    # an entry reveals its debug node on the canvas
    expect(node(page, "metrics")).not_to_have_class(SELECTED)
    entries.first.click()
    expect_selection(page, ["metrics"], ["load", "split", "fit", "predict", "score"])
    expect(page.get_by_test_id("params-node")).to_have_text("metrics")

    # paused: a new run adds no entry
    pause = panel.get_by_test_id("debug-pause")
    pause.click()
    expect(pause).to_contain_text("Resume")
    run_and_wait(2)
    expect(entries).to_have_count(1)

    pause.click()
    expect(pause).to_contain_text("Pause")

    panel.get_by_test_id("debug-clear").click()
    expect(entries).to_have_count(0)
    assert page.js_errors == []


def test_a_problem_made_in_the_browser_selects_its_node(examples_server: Any, page: Any) -> None:
    server = examples_server
    open_flow(page, server, "iris.json", 6)
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text("No problems.")

    feed = edge(page, "fit.model->predict.model")
    click_edge(page, "fit.model->predict.model")
    expect(feed).to_have_class(SELECTED)
    page.keyboard.press("Delete")
    expect(feed).to_have_count(0)

    page.get_by_test_id("tab-problems").click()
    problem = problems.get_by_test_id("problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("required input 'model'")
    expect(problem).to_have_attribute("data-node-id", "predict")
    expect(node(page, "predict")).to_have_class(PROBLEM)
    expect(node(page, "fit")).not_to_have_class(PROBLEM)

    click_background(page)
    expect_selection(page, [], IRIS_NODES)
    problem.click()
    expect_selection(page, ["predict"], ["load", "split", "fit", "score", "metrics"])
    expect(page.get_by_test_id("params-node")).to_have_text("predict")

    # undo mends the flow, and the list says so
    page.get_by_test_id("undo").click()
    expect(feed).to_have_count(1)
    expect(problems).to_contain_text("No problems.")
    expect(node(page, "predict")).not_to_have_class(PROBLEM)
    assert page.js_errors == []


def test_problems_from_a_file_select_the_node_or_edge_at_fault(
        server_factory: Any, workspace: Path, page: Any) -> None:
    flow = {"edgewise": 1, "name": "broken", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
         "position": {"x": 40, "y": 60}},
        {"id": "fit", "component": "ml.fit", "params": {"target": "target"},
         "position": {"x": 300, "y": 60}},
        {"id": "predict", "component": "ml.predict", "position": {"x": 560, "y": 60}},
        {"id": "show", "component": "debug", "position": {"x": 820, "y": 60}}],
        "edges": [{"source": "load.data", "target": "fit.data"},
                  {"source": "load.data", "target": "predict.data"},
                  {"source": "fit.model", "target": "predict.model"},
                  {"source": "fit.model", "target": "predict.data"},
                  {"source": "predict.data", "target": "show.data"}]}
    path = workspace / "broken.json"
    path.write_text(json.dumps(flow))
    expected = {(p.node, p.edge) for p in runtime.validate(path)}
    assert expected == {("fit", None), (None, "fit.model->predict.data")}
    server = server_factory(workspace)
    open_flow(page, server, "broken.json", 4)
    problems = page.get_by_test_id("problems").get_by_test_id("problem")
    expect(problems).to_have_count(2)

    bad_edge = edge(page, "fit.model->predict.data")
    expect(bad_edge).to_have_class(PROBLEM)
    expect(edge(page, "fit.model->predict.model")).not_to_have_class(PROBLEM)
    expect(node(page, "fit")).to_have_class(PROBLEM)
    expect(node(page, "predict")).not_to_have_class(PROBLEM)

    # the edge's problem selects the edge, and no node
    page.locator('[data-testid=problem][data-edge="fit.model->predict.data"]').click()
    expect(bad_edge).to_have_class(SELECTED)
    expect(edge(page, "fit.model->predict.model")).not_to_have_class(SELECTED)
    expect_selection(page, [], ["load", "fit", "predict", "show"])

    # the missing param's problem selects the node and opens its params
    param = page.locator('[data-testid=problem][data-node-id="fit"]')
    expect(param).to_contain_text("name an estimator: 'estimator'")
    param.click()
    expect_selection(page, ["fit"], ["load", "predict", "show"])
    expect(bad_edge).not_to_have_class(SELECTED)
    expect(page.get_by_test_id("params-node")).to_have_text("fit")

    # deleting the selected bad edge (the keyboard goes to the canvas) leaves one problem
    click_edge(page, "fit.model->predict.data")
    expect(bad_edge).to_have_class(SELECTED)
    page.keyboard.press("Delete")
    expect(bad_edge).to_have_count(0)
    expect(problems).to_have_count(1)
    save(page)
    assert [(p.node, p.code) for p in runtime.validate(path)] == [("fit", "param")]
    assert page.js_errors == []
