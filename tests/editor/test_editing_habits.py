"""Editing habits in a real headless Chromium: a node dropped on a wire goes in between, a
wire dropped on empty canvas offers the components it fits, ports light up as the runtime's
rule says, context menus, paste at the pointer, find, the shortcut sheet, Ctrl+S in a field,
trackpad pan and pinch, and the small faults (a click on a port, italics, the name dialog)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import runtime
from editor.document import FlowDocument
from editor.page import canvas_graph, catalog
from tests.editor.pagekit import write_failing_flow
from tests.editor.test_canvas_interactions import (
    click_background,
    edge,
    edge_ids,
    expect_selection,
    node,
    open_flow,
    save,
    saved,
)

PORT = '[data-testid=port][data-port="{}"][data-direction="{}"]'


def port(page: Any, ref: str, direction: str) -> Any:
    return page.locator(PORT.format(ref, direction))


def centre(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def wire_middle(page: Any, edge_id: str) -> tuple[float, float]:
    """A point on an edge's wire (its middle), in page coordinates."""
    point = edge(page, edge_id).locator(".ew-edge-hit").evaluate(
        """(path) => {
          const p = path.getPointAtLength(path.getTotalLength() / 2);
          const m = path.getScreenCTM();
          return [p.x * m.a + p.y * m.c + m.e, p.x * m.b + p.y * m.d + m.f];
        }""")
    return float(point[0]), float(point[1])


def drag_palette_to(page: Any, component: str, x: float, y: float) -> None:
    """Drag a palette item to a point of the page (HTML drag and drop)."""
    canvas = page.get_by_test_id("canvas").bounding_box()
    item = page.locator(f'[data-testid=palette-item][data-component="{component}"]')
    item.drag_to(page.get_by_test_id("canvas"),
                 target_position={"x": x - canvas["x"], "y": y - canvas["y"]})


def next_frame(page: Any) -> None:
    """Let the page draw once (what a pointer event did is on the screen after it)."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(null)))")


def empty_spot(page: Any) -> tuple[float, float]:
    """A point of the canvas, as high as can be, with nothing but the background from 100 px
    left to 160 px right of it and 90 px below (room for a node), as the browser hit-tests."""
    point = page.evaluate("""() => {
      const r = document.querySelector("[data-testid=canvas]").getBoundingClientRect();
      const bare = (x, y) => {
        const el = document.elementFromPoint(x, y);
        return el && el.classList.contains("ew-background");
      };
      for (let y = r.top + 40; y < r.bottom - 100; y += 20) {
        for (let x = r.left + 110; x < r.right - 170; x += 20) {
          let ok = true;
          for (let dx = -100; dx <= 160 && ok; dx += 20) {
            for (let dy = -20; dy <= 90 && ok; dy += 10) ok = bare(x + dx, y + dy);
          }
          if (ok) return [x, y];
        }
      }
      return null;
    }""")
    assert point is not None, "no free spot on the canvas"
    return float(point[0]), float(point[1])


def test_node_dropped_on_a_wire_goes_in_between(server_factory: Any, example_workspace: Path,
                                                 page: Any) -> None:
    path = example_workspace / "iris.json"
    original = saved(path)
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    edges = page.get_by_test_id("edge")

    # from the palette, onto load -> split
    drag_palette_to(page, "frame.dropna", *wire_middle(page, "predict.data->score.data"))
    expect(edge(page, "predict.data->dropna.data")).to_have_count(1)
    expect(edge(page, "dropna.data->score.data")).to_have_count(1)
    expect(edge(page, "predict.data->score.data")).to_have_count(0)
    expect(edges).to_have_count(7)
    page.keyboard.press("Control+z")  # one undo step: node and wires go together
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(edge(page, "predict.data->score.data")).to_have_count(1)

    # a node without wires, dragged onto a wire; the wire lights up while the node is over it
    drag_palette_to(page, "frame.dropna", *empty_spot(page))
    expect(node(page, "dropna")).to_have_count(1)
    expect(edges).to_have_count(6)
    start = node(page, "dropna").locator(".ew-title")
    x0, y0 = centre(start)
    x1, y1 = wire_middle(page, "split.test->predict.data")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    expect(edge(page, "split.test->predict.data")).to_have_class(r"ew-edge splice")
    page.mouse.up()
    expect(edge(page, "split.test->dropna.data")).to_have_count(1)
    expect(edge(page, "dropna.data->predict.data")).to_have_count(1)
    expect(edges).to_have_count(7)
    save(page)
    assert runtime.validate(path) == []
    assert edge_ids(saved(path)) == (edge_ids(original) - {"split.test->predict.data"}) | {
        "split.test->dropna.data", "dropna.data->predict.data"}
    page.keyboard.press("Control+z")  # move and splice are one step
    expect(edge(page, "split.test->predict.data")).to_have_count(1)
    expect(edges).to_have_count(6)

    # a node whose ports do not fit the wire is moved there, and the refusal says why
    drag_palette_to(page, "dataset.load", *empty_spot(page))
    expect(node(page, "load2")).to_have_count(1)
    x0, y0 = centre(node(page, "load2").locator(".ew-title"))
    x1, y1 = wire_middle(page, "fit.model->predict.model")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=6)
    page.mouse.up()
    expect(page.get_by_test_id("connection-refused")).to_contain_text("load2")
    expect(edge(page, "fit.model->predict.model")).to_have_count(1)
    assert page.js_errors == []


def expected_quick_add(type_: str, direction: str) -> list[str]:
    """The components a wire from a port of this type may add, by the runtime's rule."""
    side = "inputs" if direction == "out" else "outputs"
    return sorted(spec.id for spec in runtime.default_registry() if any(
        runtime.types_compatible(type_, p.type) if direction == "out"
        else runtime.types_compatible(p.type, type_)
        for p in getattr(spec, side).values()))


def test_wire_dropped_on_empty_canvas_offers_what_fits(examples_server: Any, page: Any) -> None:
    server = examples_server
    open_flow(page, server, "iris.json", 6)
    quick = page.get_by_test_id("quick-add")

    def drop_wire(ref: str, direction: str) -> tuple[float, float]:
        page.mouse.move(*centre(port(page, ref, direction)))
        page.mouse.down()
        spot = empty_spot(page)
        page.mouse.move(*spot, steps=6)
        page.mouse.up()
        expect(quick).to_be_visible()
        return spot

    drop_wire("fit.model", "out")
    items = page.get_by_test_id("quick-add-item")
    assert items.evaluate_all("els => els.map((e) => e.dataset.id)") == expected_quick_add(
        "Model", "out")
    page.keyboard.press("Escape")  # closes it, adds nothing
    expect(quick).to_have_count(0)
    expect(page.get_by_test_id("node")).to_have_count(6)

    ex, ey = drop_wire("split.test", "out")
    assert items.evaluate_all("els => els.map((e) => e.dataset.id)") == expected_quick_add(
        "DataFrame", "out")
    page.keyboard.type("frame.query")  # the list filters as one types; Enter takes the first
    expect(items).to_have_count(1)
    page.keyboard.press("Enter")
    expect(quick).to_have_count(0)
    expect(node(page, "query")).to_have_count(1)
    expect(edge(page, "split.test->query.data")).to_have_count(1)
    expect_selection(page, ["query"], ["split"])
    # added where the wire was dropped
    box = node(page, "query").locator(".ew-body").bounding_box()
    assert abs(box["x"] - ex) < 3 and box["y"] < ey < box["y"] + box["height"]

    # from an input: the list holds what can feed it; a click picks
    drop_wire("predict.model", "in")
    assert items.evaluate_all("els => els.map((e) => e.dataset.id)") == expected_quick_add(
        "Model", "in")
    page.locator('[data-testid=quick-add-item][data-id="model.load"]').click()
    expect(edge(page, "load2.model->predict.model")).to_have_count(1)
    page.keyboard.press("Control+z")  # node and wire are one step
    expect(node(page, "load2")).to_have_count(0)
    expect(edge(page, "load2.model->predict.model")).to_have_count(0)
    assert page.js_errors == []


def lit_ports(page: Any, ref: str, direction: str) -> tuple[set[str], set[str]]:
    """Hold a wire at a port: the ports lit as fitting, and those dimmed; then let go."""
    x, y = centre(port(page, ref, direction))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 25, y + 15, steps=3)
    # the runtime's answer lights every port, one way or the other
    expect(page.locator("[data-testid=port].fits, [data-testid=port].unfit")).to_have_count(
        page.get_by_test_id("port").count())
    fits = set(page.locator("[data-testid=port].fits").evaluate_all(
        "els => els.map((e) => e.dataset.port + ':' + e.dataset.direction)"))
    unfit = set(page.locator("[data-testid=port].unfit").evaluate_all(
        "els => els.map((e) => e.dataset.port + ':' + e.dataset.direction)"))
    page.mouse.move(x, y, steps=2)  # back onto the port it started from: nothing happens
    page.mouse.up()
    return fits, unfit


@pytest.mark.parametrize(("flow", "count"), [("iris.json", 6), ("confidence-routing.json", 14)])
def test_lit_ports_follow_the_runtime_rule(examples_server: Any,
                                           page: Any, flow: str, count: int) -> None:
    server = examples_server
    data = json.loads((server.workspace / flow).read_text())
    doc = FlowDocument(copy.deepcopy(data), runtime.default_registry())
    # the ports the page draws: the catalogue's, or a node's own (ports set by its params)
    known = catalog(doc.registry)
    nodes = [{**known[n["component"]], **n} for n in canvas_graph(doc)["nodes"]]
    ins = {f"{n['id']}.{p['name']}" for n in nodes for p in n["inputs"]}
    outs = {f"{n['id']}.{p['name']}" for n in nodes for p in n["outputs"]}
    every = {f"{r}:in" for r in ins} | {f"{r}:out" for r in outs}
    open_flow(page, server, flow, count)
    for ref, direction in sorted([(r, "out") for r in outs] + [(r, "in") for r in ins]):
        fits, unfit = lit_ports(page, ref, direction)
        if direction == "out":
            want = {f"{t}:in" for t in ins if doc.connection_problem(ref, t) is None}
        else:
            want = {f"{s}:out" for s in outs if doc.connection_problem(s, ref) is None}
        assert fits == want, (ref, direction)
        assert unfit == every - want, (ref, direction)
    # nothing stays lit, no refusal from all those clicks-and-returns, no edge added
    expect(page.locator("[data-testid=port].fits, [data-testid=port].unfit")).to_have_count(0)
    expect(page.get_by_test_id("connection-refused")).to_have_count(0)
    expect(page.get_by_test_id("edge")).to_have_count(len(doc.edges))
    assert page.js_errors == []


def right_click(page: Any, x: float, y: float) -> None:
    page.mouse.click(x, y, button="right")
    expect(page.get_by_test_id("context-menu")).to_be_visible()


def menu_pick(page: Any, action: str) -> None:
    page.locator(f'[data-testid=context-item][data-action="{action}"]').click()
    expect(page.get_by_test_id("context-menu")).to_have_count(0)


def test_context_menus(server_factory: Any, example_workspace: Path, page: Any) -> None:
    path = example_workspace / "iris.json"
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    menu = page.get_by_test_id("context-menu")
    nodes = page.get_by_test_id("node")

    # a node's menu
    right_click(page, *centre(node(page, "fit").locator(".ew-title")))
    expect(menu).to_have_attribute("data-target", "node")
    expect(menu.get_by_test_id("context-item")).to_have_text(
        ["Rename…", "Duplicate", "Copy", "Re-run from here", "Delete"])
    expect_selection(page, ["fit"], ["load"])
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    right_click(page, *centre(node(page, "fit").locator(".ew-title")))
    menu_pick(page, "duplicate")
    expect(nodes).to_have_count(7)
    expect_selection(page, ["fit2"], ["fit"])
    right_click(page, *centre(node(page, "fit2").locator(".ew-title")))
    menu_pick(page, "rename")
    page.get_by_test_id("rename-input").fill("second model")
    page.get_by_test_id("rename-input").press("Enter")
    expect(node(page, "fit2").locator(".ew-title")).to_have_text("second model")
    expect(page.get_by_test_id("rename-dialog")).to_have_count(0)
    right_click(page, *centre(node(page, "fit2").locator(".ew-title")))
    menu_pick(page, "delete")
    expect(nodes).to_have_count(6)

    # an edge's menu
    right_click(page, *wire_middle(page, "load.data->split.data"))
    expect(menu).to_have_attribute("data-target", "edge")
    expect(menu.get_by_test_id("context-item")).to_have_text(
        ["Inspect", "Insert node…", "Delete"])
    menu_pick(page, "insert")
    picker = page.get_by_test_id("quick-add")
    expect(picker).to_be_visible()
    ids = page.get_by_test_id("quick-add-item").evaluate_all(
        "els => els.map((e) => e.dataset.id)")
    assert "frame.query" in ids and "model.load" not in ids and "ml.fit" not in ids
    page.locator('[data-testid=quick-add-item][data-id="frame.sample"]').click()
    expect(edge(page, "load.data->sample.data")).to_have_count(1)
    expect(edge(page, "sample.data->split.data")).to_have_count(1)
    right_click(page, *wire_middle(page, "fit.model->predict.model"))
    menu_pick(page, "inspect")
    expect(page.get_by_test_id("tab-inspector")).to_have_attribute("aria-selected", "true")
    right_click(page, *wire_middle(page, "fit.model->predict.model"))
    menu_pick(page, "delete")
    expect(edge(page, "fit.model->predict.model")).to_have_count(0)

    # the canvas's menu: paste here, add a component, fit
    click_background(page)
    node(page, "metrics").locator(".ew-title").click()
    page.keyboard.press("Control+c")
    x, y = empty_spot(page)
    right_click(page, x, y)
    expect(menu).to_have_attribute("data-target", "canvas")
    menu_pick(page, "paste")
    expect(node(page, "metrics2")).to_have_count(1)
    box = node(page, "metrics2").locator(".ew-body").bounding_box()
    assert abs(box["x"] - x) < 3 and abs(box["y"] - y) < 3
    x, y = empty_spot(page)
    right_click(page, x, y)
    menu_pick(page, "add")
    page.keyboard.type("stream.count")
    page.keyboard.press("Enter")
    expect(node(page, "count")).to_have_count(1)
    x, y = empty_spot(page)
    right_click(page, x, y)
    menu_pick(page, "fit")
    save(page)
    data = saved(path)
    assert {"sample", "metrics2", "count"} <= {n["id"] for n in data["nodes"]}
    assert page.js_errors == []


def test_paste_at_the_pointer(examples_server: Any, page: Any) -> None:
    server = examples_server
    open_flow(page, server, "iris.json", 6)
    node(page, "score").locator(".ew-title").click()
    page.keyboard.press("Control+c")
    x, y = empty_spot(page)
    page.mouse.move(x, y + 10)
    page.keyboard.press("Control+v")
    expect(node(page, "score2")).to_have_count(1)
    box = node(page, "score2").locator(".ew-body").bounding_box()
    assert abs(box["x"] - x) < 3 and abs(box["y"] - (y + 10)) < 3
    # with the pointer on the original's top-left, the copy does not cover its ports
    original = node(page, "score").locator(".ew-body").bounding_box()
    page.mouse.move(original["x"] + 1, original["y"] + 1)
    page.keyboard.press("Control+v")
    expect(node(page, "score3")).to_have_count(1)
    copy_box = node(page, "score3").locator(".ew-body").bounding_box()
    in_port = port(page, "score.data", "in").bounding_box()
    assert copy_box["x"] > in_port["x"] + in_port["width"]
    assert copy_box["y"] > original["y"] + 10
    assert page.js_errors == []


def test_find_a_node(examples_server: Any, page: Any) -> None:
    server = examples_server
    open_flow(page, server, "confidence-routing.json", 14)
    click_background(page)
    page.mouse.wheel(300, 200)  # pan away, so that centring is seen
    page.keyboard.press("Control+f")
    find = page.get_by_test_id("find")
    expect(find).to_be_visible()
    expect(page.get_by_test_id("find-search")).to_be_focused()
    page.keyboard.type("route")  # by id, label or component
    first = page.get_by_test_id("find-item").first
    expect(first).to_be_visible()
    target = first.get_attribute("data-id")
    assert target is not None
    page.keyboard.press("Enter")
    expect(find).to_have_count(0)
    expect(node(page, target)).to_have_class(r"ew-node selected")
    expect(page.get_by_test_id("params-node")).to_have_text(target)
    canvas = page.get_by_test_id("canvas").bounding_box()
    nx, ny = centre(node(page, target).locator(".ew-body"))
    assert abs(nx - (canvas["x"] + canvas["width"] / 2)) < 3
    assert abs(ny - (canvas["y"] + canvas["height"] / 2)) < 3
    page.keyboard.press("Control+f")
    expect(find).to_be_visible()
    page.keyboard.press("Escape")
    expect(find).to_have_count(0)
    assert page.js_errors == []


def test_shortcut_sheet_ctrl_s_in_a_field_and_trackpad(server_factory: Any,
                                                       example_workspace: Path,
                                                       page: Any) -> None:
    path = example_workspace / "iris.json"
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    click_background(page)
    page.keyboard.press("?")
    sheet = page.get_by_test_id("shortcut-sheet")
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("Ctrl+S")
    expect(sheet).to_contain_text("Ctrl+F")
    page.keyboard.press("Escape")
    expect(sheet).to_have_count(0)
    page.keyboard.press("?")
    page.get_by_test_id("shortcut-close").click()
    expect(sheet).to_have_count(0)

    # Ctrl+S inside a params field saves what was typed
    node(page, "split").locator(".ew-title").click()
    field = page.locator('input[data-param="test_size"], [data-param="test_size"] input').first
    field.fill("0.3")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    field.press("Control+s")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    split = next(n for n in saved(path)["nodes"] if n["id"] == "split")
    assert split["params"]["test_size"] == 0.3

    # two-finger scroll pans; pinch (a wheel with Ctrl) zooms
    body = node(page, "fit").locator(".ew-body")
    before = body.bounding_box()
    page.mouse.move(*empty_spot(page))
    page.mouse.wheel(40, 25)
    expect(body).not_to_have_attribute("data-never", "x")  # a round trip: the frame is drawn
    next_frame(page)
    after = body.bounding_box()
    assert abs(after["x"] - (before["x"] - 40)) < 1 and abs(after["y"] - (before["y"] - 25)) < 1
    assert abs(after["width"] - before["width"]) < 0.5
    page.keyboard.down("Control")
    page.mouse.wheel(0, -20)
    page.keyboard.up("Control")
    next_frame(page)
    zoomed = body.bounding_box()
    assert zoomed["width"] > after["width"] * 1.1
    assert page.js_errors == []


def test_small_faults(server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    open_flow(page, server, "iris.json", 6)
    refused = page.get_by_test_id("connection-refused")

    # a single click on a port says nothing; a drag to a wrong port still refuses
    port(page, "load.data", "out").click()
    next_frame(page)
    expect(refused).to_have_count(0)
    page.mouse.move(*centre(port(page, "load.data", "out")))
    page.mouse.down()
    page.mouse.move(*centre(port(page, "split.train", "out")), steps=5)
    page.mouse.up()
    expect(refused).to_have_text("cannot connect an output to an output")

    # a description is plain text: train_test_split keeps its underscores, no italics
    node(page, "split").locator(".ew-title").click()
    doc = page.get_by_test_id("params-doc")
    expect(doc).to_contain_text("train_test_split")
    expect(doc.locator("em, i")).to_have_count(0)

    # the New-flow dialog keeps what is typed at once
    page.get_by_test_id("new-flow").click()
    page.keyboard.type("fresh-start")
    expect(page.get_by_test_id("name-input")).to_have_value("fresh-start")
    assert page.js_errors == []


def test_an_error_record_reads_without_class_names(server_factory: Any, workspace: Path,
                                                   page: Any) -> None:
    write_failing_flow(workspace)
    server = server_factory(workspace)
    page.goto(server.url + "/flow/failing.json")
    page.get_by_test_id("run").click()
    expect(node(page, "dead").get_by_test_id("node-status")).to_have_attribute(
        "data-state", "done", timeout=60_000)
    edge(page, "bad.error->dead.data").get_by_test_id("edge-label").click()
    record = page.get_by_test_id("inspector").get_by_test_id("error-record")
    expect(record).to_contain_text("no_such_text")
    text = record.inner_text()
    assert not re.search(r"\b[A-Z]\w*(Error|Exception)\b|Value error,", text), text
    assert page.js_errors == []
