"""The editor's layout in Chromium: the canvas is never covered, drawers fold and are remembered."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.editor.waiting import settled

NODE = '[data-testid=node][data-node-id="{}"]'

RECTS = """() => {
  const r = (el) => { if (!el) return null; const b = el.getBoundingClientRect();
    return (b.width > 0 && b.height > 0) ? {l: b.left, t: b.top, r: b.right, b: b.bottom} : null; };
  return {canvas: r(document.querySelector('[data-testid=canvas]')),
          header: r(document.querySelector('.q-header')),
          footer: r(document.querySelector('.q-footer')),
          left: r(document.querySelector('.q-drawer--left')),
          right: r(document.querySelector('.q-drawer--right')),
          w: window.innerWidth, h: window.innerHeight};
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """The area two boxes share."""
    w = min(a["r"], b["r"]) - max(a["l"], b["l"])
    h = min(a["b"], b["b"]) - max(a["t"], b["t"])
    return max(0.0, w) * max(0.0, h)


def settled_rects(page: Any) -> dict[str, Any]:
    """The boxes once the drawers' transitions and the canvas placement have settled."""
    return settled(page, lambda: dict(page.evaluate(RECTS)))


def check_uncovered(page: Any) -> dict[str, Any]:
    rects = settled_rects(page)
    canvas = rects["canvas"]
    assert canvas is not None
    for part in ("header", "footer", "left", "right"):
        if rects[part] is not None:
            assert overlap(canvas, rects[part]) == 0, (part, rects)
    assert canvas["l"] >= 0 and canvas["t"] >= 0
    assert canvas["r"] <= rects["w"] and canvas["b"] <= rects["h"]
    return rects


def share(rects: dict[str, Any]) -> float:
    c = rects["canvas"]
    return (c["r"] - c["l"]) * (c["b"] - c["t"]) / (rects["w"] * rects["h"])


@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000)])
def test_nothing_covers_the_canvas(examples_server: Any, page: Any, size: tuple[int, int]) -> None:
    server = examples_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.get_by_test_id("footer-panels")).to_be_hidden()  # nothing new: folded
    rects = check_uncovered(page)
    if size == (1280, 720):
        assert share(rects) >= 0.60, rects
    # open the footer and close the drawers: still uncovered, and the canvas grows
    page.get_by_test_id("toggle-footer").click()
    expect(page.get_by_test_id("footer-panels")).to_be_visible()
    check_uncovered(page)
    page.get_by_test_id("toggle-left").click()
    page.get_by_test_id("toggle-right").click()
    expect(page.get_by_test_id("tab-params")).not_to_be_in_viewport()
    page.wait_for_function(
        "w => { const b = document.querySelector('[data-testid=canvas]').getBoundingClientRect();"
        " return b.left === 0 && b.right === w; }", arg=size[0])
    wide = check_uncovered(page)
    assert wide["canvas"]["l"] == 0 and wide["canvas"]["r"] == size[0]


def test_drawers_fold_and_are_remembered(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    before = settled_rects(page)
    page.get_by_test_id("toggle-left").click()
    expect(page.get_by_test_id("palette")).not_to_be_in_viewport()
    page.get_by_test_id("toggle-right").click()
    expect(page.get_by_test_id("tab-params")).not_to_be_in_viewport()
    folded = check_uncovered(page)
    assert share(folded) > share(before)

    page.reload()
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.get_by_test_id("palette")).not_to_be_in_viewport()
    expect(page.get_by_test_id("tab-params")).not_to_be_in_viewport()
    check_uncovered(page)

    page.get_by_test_id("toggle-left").click()
    page.get_by_test_id("toggle-right").click()
    expect(page.get_by_test_id("palette")).to_be_in_viewport()
    expect(page.get_by_test_id("tab-params")).to_be_in_viewport()
    page.reload()
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.get_by_test_id("palette")).to_be_in_viewport()
    expect(page.get_by_test_id("tab-params")).to_be_in_viewport()
    check_uncovered(page)


def test_a_drawer_resized_by_its_handle_is_remembered(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    width = settled_rects(page)["left"]["r"]
    handle = page.get_by_test_id("resize-left").bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + 300
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=5)
    page.mouse.up()
    wider = check_uncovered(page)
    assert wider["left"]["r"] == pytest.approx(width + 60, abs=2)
    page.reload()
    expect(page.get_by_test_id("node")).to_have_count(6)
    again = check_uncovered(page)
    assert again["left"]["r"] == pytest.approx(width + 60, abs=2)


def test_a_run_leaves_the_form_being_edited(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    # inspect an edge once, so that a run has something to refresh
    page.get_by_test_id("run").click()
    states = page.get_by_test_id("node-status")
    for i in range(6):
        expect(states.nth(i)).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("footer-panels")).to_be_visible()  # debug output arrived
    page.locator('[data-testid=edge][data-edge="predict.data->score.data"] '
                 '[data-testid=edge-label]').click()
    expect(page.get_by_test_id("inspector")).to_be_visible()
    # now edit a node's params, and run again
    page.locator(NODE.format("fit") + " .ew-title").click()
    expect(page.get_by_test_id("params-node")).to_have_text("fit")
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("run")).to_be_disabled()
    expect(page.get_by_test_id("run")).to_be_enabled(timeout=60_000)
    page.wait_for_timeout(500)  # the inspector refresh after the run has had its chance
    expect(page.get_by_test_id("params-node")).to_be_visible()
    expect(page.get_by_test_id("params-node")).to_have_text("fit")
    expect(page.get_by_test_id("inspector")).to_be_hidden()


def test_the_footer_resized_by_its_handle_is_remembered(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("toggle-footer").click()
    panels = page.get_by_test_id("footer-panels")
    expect(panels).to_be_visible()
    height = panels.bounding_box()["height"]
    handle = page.get_by_test_id("resize-footer").bounding_box()
    assert handle is not None
    x, y = handle["x"] + 400, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 80, steps=5)
    page.mouse.up()
    check_uncovered(page)
    assert panels.bounding_box()["height"] == pytest.approx(height + 80, abs=2)
    page.reload()
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(panels).to_be_hidden()  # nothing new: folded again
    page.get_by_test_id("tab-debug").click()  # a click on a tab opens it
    expect(panels).to_be_visible()
    page.wait_for_function(
        "h => Math.abs(document.querySelector('[data-testid=footer-panels]')"
        ".getBoundingClientRect().height - h) <= 2", arg=height + 80)
    check_uncovered(page)
