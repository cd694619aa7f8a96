"""Finding and using the editor's parts in a browser test: the selectors and helpers many share."""

from __future__ import annotations

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


def param_input(page: Any, param: str) -> Any:
    """The inspector's text input for one param."""
    return page.locator(f'input[data-param="{param}"], [data-param="{param}"] input').first
