"""A node whose ports follow its params, in real headless Chromium: frame.route's routes."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.editor.pagekit import EDGE, NODE, center

ROUTES = {"wide": "`sepal width (cm)` > 3", "long": "`sepal length (cm)` > 6"}
FLOW: dict[str, Any] = {
    "edgewise": 1, "name": "routed",
    "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
         "position": {"x": 40, "y": 120}},
        {"id": "r", "component": "frame.route", "params": {"routes": ROUTES},
         "position": {"x": 300, "y": 120}},
        {"id": "c1", "component": "stream.count", "position": {"x": 600, "y": 20}},
        {"id": "c2", "component": "stream.count", "position": {"x": 600, "y": 160}},
        {"id": "c3", "component": "stream.count", "position": {"x": 600, "y": 300}}],
    "edges": [{"source": "load.data", "target": "r.data"},
              {"source": "r.wide", "target": "c1.data"},
              {"source": "r.long", "target": "c2.data"},
              {"source": "r.otherwise", "target": "c3.data"}],
}


def outputs_of(page: Any, node_id: str) -> Any:
    return page.locator(NODE.format(node_id)).locator(
        "[data-testid=port][data-direction=out]")


def expect_outputs(page: Any, node_id: str, names: list[str]) -> None:
    """The output ports drawn on a node, top to bottom (waiting for a redraw to land)."""
    want = [f"{node_id}.{n}" for n in names]
    selector = (NODE.format(node_id) + " [data-testid=port][data-direction=out]")
    try:
        page.wait_for_function(
            "([sel, want]) => JSON.stringify([...document.querySelectorAll(sel)]"
            ".map(e => e.dataset.port)) === JSON.stringify(want)", arg=[selector, want],
            timeout=20_000)
    except Exception:  # noqa: BLE001 - say what is drawn instead of a bare timeout
        refs = outputs_of(page, node_id).evaluate_all("els => els.map(e => e.dataset.port)")
        assert refs == want


def routes_field(page: Any) -> Any:
    return page.locator('[data-param="routes"] textarea, textarea[data-param="routes"]').first


def test_editing_routes_redraws_ports_drops_edges_and_undo_restores_both(
        shared_server: Any, page: Any) -> None:
    path = shared_server.workspace / "routed.json"
    path.write_text(json.dumps(FLOW))
    server = shared_server
    page.goto(f"{server.url}/flow/routed.json")
    expect(page.get_by_test_id("node")).to_have_count(5)
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    expect_outputs(page, "r", ["wide", "long", "otherwise", "error"])
    expect(page.locator(EDGE.format("r.long->c2.data"))).to_have_count(1)

    page.locator(NODE.format("r") + " .ew-title").click()
    expect(page.get_by_test_id("params-node")).to_have_text("r")
    routes_field(page).fill(json.dumps({"wide": "`sepal width (cm)` > 3",
                                        "big": "`petal width (cm)` > 1.5"}))

    # the new route's port appears, the removed one goes, and so does its edge
    expect_outputs(page, "r", ["wide", "big", "otherwise", "error"])
    expect(page.locator(EDGE.format("r.long->c2.data"))).to_have_count(0)
    expect(page.locator(EDGE.format("r.wide->c1.data"))).to_have_count(1)
    expect(page.get_by_test_id("problems")).to_have_text(
        "node 'c2': required input 'data' (Any) is not connected")

    # the new port can be wired like any other
    sx, sy = center(page.locator('[data-testid=port][data-port="r.big"]'))
    tx, ty = center(page.locator('[data-testid=port][data-port="c2.data"]'))
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=4)
    page.mouse.move(tx, ty, steps=4)
    page.mouse.up()
    expect(page.locator(EDGE.format("r.big->c2.data"))).to_have_count(1)
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")

    # undo the wire, then the routes: one step brings back the port and its edge
    page.get_by_test_id("undo").click()
    expect(page.locator(EDGE.format("r.big->c2.data"))).to_have_count(0)
    page.get_by_test_id("undo").click()
    expect_outputs(page, "r", ["wide", "long", "otherwise", "error"])
    expect(page.locator(EDGE.format("r.long->c2.data"))).to_have_count(1)
    expect(routes_field(page)).to_have_value(json.dumps(ROUTES, indent=1))

    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = json.loads(path.read_text())
    assert list(saved["nodes"][1]["params"]["routes"]) == ["wide", "long"]
    assert saved["edges"] == FLOW["edges"]
    assert page.js_errors == []


def test_invalid_routes_keep_the_ports_and_edges_until_fixed(
        shared_server: Any, page: Any) -> None:
    path = shared_server.workspace / "routed-invalid.json"
    path.write_text(json.dumps(FLOW))
    server = shared_server
    page.goto(f"{server.url}/flow/routed-invalid.json")
    expect(page.get_by_test_id("node")).to_have_count(5)
    page.locator(NODE.format("r") + " .ew-title").click()
    expect(page.get_by_test_id("params-node")).to_have_text("r")

    routes_field(page).fill(json.dumps({"wide": "sepal_width > 3", "Long": "x > 1"}))
    expect(page.locator('[data-param-error="routes"]')).to_contain_text("must be snake_case")
    expect_outputs(page, "r", ["wide", "long", "otherwise", "error"])
    expect(page.locator(EDGE.format("r.long->c2.data"))).to_have_count(1)
    assert page.js_errors == []
