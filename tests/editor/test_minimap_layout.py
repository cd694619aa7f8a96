"""The minimap (view frame, click and drag to move, hidden per browser) and auto-layout."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from editor.layout import STORAGE_KEY
from tests.editor.waiting import eventually, settled

NODE = '[data-testid=node][data-node-id="{}"]'
VIEW = "() => document.querySelector('[data-testid=canvas] svg > g').getAttribute('transform')"
IRIS_EDGES = [("load", "split"), ("split", "fit"), ("split", "predict"), ("fit", "predict"),
              ("predict", "score"), ("score", "metrics")]


def boxes(page: Any) -> dict[str, dict[str, float]]:
    out = {}
    for el in page.get_by_test_id("node").all():
        box = el.locator(".ew-body").bounding_box()
        assert box is not None
        out[el.get_attribute("data-node-id")] = box
    return out


def stored(page: Any, shown: bool) -> None:
    """Wait until this browser's stored layout says the minimap is `shown`."""
    key = json.dumps(STORAGE_KEY)
    read = f"localStorage.getItem({key}) || '{{}}'"
    eventually(page, lambda: _assert(json.loads(page.evaluate(read)).get("minimap") is shown))


def _assert(ok: bool) -> None:
    assert ok


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_minimap_moves_the_view(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    minimap = page.get_by_test_id("minimap")
    expect(minimap).to_be_visible()
    expect(minimap).to_have_attribute("data-nodes", "6")  # painted once, all six nodes
    frame = page.get_by_test_id("minimap-viewport")
    expect(frame).to_be_visible()
    # the layout has placed the canvas and fitted the flow
    before_view, before_frame = settled(page, lambda: (page.evaluate(VIEW), frame.bounding_box()))
    box = minimap.bounding_box()
    assert box is not None and before_frame is not None
    # a click near a corner centres the view there: the canvas pans, the frame follows
    page.mouse.click(box["x"] + 8, box["y"] + 8)
    expect(frame).not_to_have_attribute("style", "")
    eventually(page, lambda: _assert(page.evaluate(VIEW) != before_view))
    after_click = page.evaluate(VIEW)
    assert after_click != before_view
    moved = frame.bounding_box()
    assert moved is not None
    assert moved["x"] < before_frame["x"] and moved["y"] < before_frame["y"]
    # a drag pans on every move
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 10, box["y"] + box["height"] - 10, steps=6)
    page.mouse.up()
    dragged = frame.bounding_box()
    assert dragged is not None and dragged["x"] > moved["x"] and dragged["y"] > moved["y"]
    assert page.evaluate(VIEW) != after_click
    # a click on the minimap neither selects nor deselects nodes
    expect(page.locator(".ew-node.selected")).to_have_count(0)
    assert page.js_errors == []


def test_minimap_follows_the_flow_and_is_remembered(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("minimap")).to_have_attribute("data-nodes", "6")
    page.locator(NODE.format("metrics")).locator(".ew-title").click()
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("minimap")).to_have_attribute("data-nodes", "5")
    page.get_by_test_id("minimap-toggle").click()
    expect(page.get_by_test_id("minimap")).to_be_hidden()
    stored(page, False)  # the page stores the choice
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.get_by_test_id("minimap-toggle")).to_have_attribute("data-shown", "false")
    expect(page.get_by_test_id("minimap")).to_be_hidden()
    page.get_by_test_id("minimap-toggle").click()
    expect(page.get_by_test_id("minimap")).to_be_visible()
    stored(page, True)
    page.reload()
    expect(page.get_by_test_id("minimap")).to_be_visible()


def piled_flow(workspace: Path) -> None:
    """The iris example with every node at the same place."""
    flow = json.loads((Path(__file__).resolve().parents[2] / "flows" / "iris.json").read_text())
    for node in flow["nodes"]:
        node["position"] = {"x": 100, "y": 100}
    (workspace / "piled.json").write_text(json.dumps(flow))


def check_laid_out(page: Any) -> None:
    places = boxes(page)
    for a, b in combinations(places, 2):
        assert not overlap(places[a], places[b]), (a, b, places)
    for source, target in IRIS_EDGES:  # left to right
        assert places[target]["x"] > places[source]["x"] + places[source]["width"], (source, target)
    canvas = page.get_by_test_id("canvas").bounding_box()
    right, bottom = canvas["x"] + canvas["width"], canvas["y"] + canvas["height"]
    for box in places.values():  # fitted: the whole flow is in view
        assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= right
        assert canvas["y"] <= box["y"] and box["y"] + box["height"] <= bottom


def test_auto_layout_lays_out_fits_and_undoes(server_factory: Any, workspace: Path,
                                              page: Any) -> None:
    piled_flow(workspace)
    server = server_factory(workspace)
    page.goto(server.url + "/flow/piled.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("auto-layout").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    eventually(page, lambda: check_laid_out(page))
    # one undo step puts every node back on the pile
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    def piled() -> None:
        places = list(boxes(page).values())
        assert all(abs(b["x"] - places[0]["x"]) < 1 and abs(b["y"] - places[0]["y"]) < 1
                   for b in places)
    eventually(page, piled)
    # the shortcut does the same, and the places are saved in the file
    page.get_by_test_id("canvas").click(position={"x": 5, "y": 5})
    page.keyboard.press("Shift+L")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    eventually(page, lambda: check_laid_out(page))
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = json.loads((workspace / "piled.json").read_text())
    spots = {(n["position"]["x"], n["position"]["y"]) for n in saved["nodes"]}
    assert len(spots) == 6
    assert page.js_errors == []
