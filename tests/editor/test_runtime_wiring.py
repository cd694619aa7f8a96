"""Where a wire may end is the runtime's answer, shown by the canvas: a rule JS never had."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.editor.test_editing_habits import centre, port

# frame.route's outputs follow its params; with params that are invalid its ports are not
# known, and the runtime refuses to wire them even though the canvas still draws them
FLOW: dict[str, Any] = {
    "edgewise": 1, "name": "half",
    "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
         "position": {"x": 40, "y": 120}},
        {"id": "r", "component": "frame.route", "params": {"routes": "wide"},
         "position": {"x": 300, "y": 120}},
        {"id": "c", "component": "stream.count", "position": {"x": 600, "y": 40}},
        {"id": "d", "component": "stream.count", "position": {"x": 600, "y": 300}}],
    "edges": [{"source": "load.data", "target": "r.data"},
              {"source": "r.wide", "target": "c.data"}],
}


def test_ports_of_a_node_with_invalid_params_stay_dark_and_say_why(
        server_factory: Any, workspace: Path, page: Any) -> None:
    (workspace / "half.json").write_text(json.dumps(FLOW))
    server = server_factory(workspace)
    page.goto(f"{server.url}/flow/half.json")
    expect(page.get_by_test_id("node")).to_have_count(4)
    expect(port(page, "r.otherwise", "out")).to_have_count(1)  # drawn all the same

    x, y = centre(port(page, "d.data", "in"))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 40, y - 20, steps=3)
    lit = page.locator("[data-testid=port].fits, [data-testid=port].unfit")
    expect(lit).to_have_count(page.get_by_test_id("port").count())
    fits = page.locator("[data-testid=port].fits").evaluate_all(
        "els => els.map((e) => e.dataset.port)")
    assert sorted(fits) == ["c.count", "c.error", "load.data", "load.error"]
    for name in ("wide", "otherwise", "error"):  # types fit, but the runtime says no
        expect(port(page, f"r.{name}", "out")).to_have_class(re.compile(r"\bunfit\b"))

    # dropped there anyway: the runtime's reason is shown where the wire was let go
    page.mouse.move(*centre(port(page, "r.otherwise", "out")), steps=4)
    page.mouse.up()
    refused = page.get_by_test_id("connection-refused")
    expect(refused).to_contain_text("fix its params first")
    expect(page.get_by_test_id("edge")).to_have_count(2)
    box, drop = refused.bounding_box(), centre(port(page, "r.otherwise", "out"))
    assert box is not None
    assert abs(box["x"] - drop[0]) < 40 and abs(box["y"] - drop[1]) < 40
    assert page.js_errors == []
