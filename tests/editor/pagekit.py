"""Finding and using the editor's parts in a browser test: the selectors and helpers many share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

NODE = '[data-testid=node][data-node-id="{}"]'
STATE = NODE + " [data-testid=node-status]"
EDGE = '[data-testid=edge][data-edge="{}"]'


def center(locator: Any) -> tuple[float, float]:
    """The middle of an element on the page, in page pixels."""
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def select_node(page: Any, node_id: str) -> None:
    """Click a node's title, and wait until the inspector shows that node."""
    page.locator(NODE.format(node_id) + " .ew-title").click()
    expect(page.get_by_test_id("params-node")).to_have_text(node_id)


def open_node(page: Any, server: Any, name: str, flow: dict[str, Any], node_id: str) -> Path:
    """Write ``flow`` into the server's workspace as ``name``, open it, and select a node.

    Returns:
        The flow file's path.
    """
    path: Path = server.workspace / name
    path.write_text(json.dumps(flow))
    page.goto(f"{server.url}/flow/{name}")
    select_node(page, node_id)
    return path


def param_input(page: Any, param: str) -> Any:
    """The inspector's text input for one param."""
    return page.locator(f'input[data-param="{param}"], [data-param="{param}"] input').first


def write_failing_flow(workspace: Path) -> None:
    """``failing.json``: iris into a query that fails on every row, its errors into a debug."""
    flow = {"edgewise": 1, "name": "failing", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
         "position": {"x": 40, "y": 60}},
        {"id": "bad", "component": "frame.query", "params": {"expr": "target > 'no_such_text'"},
         "position": {"x": 300, "y": 60}},
        {"id": "dead", "component": "debug", "position": {"x": 560, "y": 160}}],
        "edges": [{"source": "load.data", "target": "bad.data"},
                  {"source": "bad.error", "target": "dead.data"}]}
    (workspace / "failing.json").write_text(json.dumps(flow))
