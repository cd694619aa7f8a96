"""Edge labels in a real headless Chromium: each sits on an opaque tag clear of every node and
every other label in the example flows at fit zoom, metrics lead with their values, and the full
text shows on hover (checked on the iris run that the fit-zoom test makes anyway: each run of a
flow in the editor costs a worker's imports and seconds of CPU)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

# the example flows that run in a few seconds
QUICK_FLOWS = ["iris.json", "scaled-pipeline.json", "test-and-score.json", "grid-search.json",
               "feature-engineering.json"]
SIZES = [(1600, 1000), (1280, 720)]
LABEL = '[data-testid=edge][data-edge="{}"] [data-testid=edge-label]'

# Every shown label's tag and text, and every node's body, in page pixels.
BOXES_JS = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x1: r.left, y1: r.top, x2: r.right, y2: r.bottom}; };
  const nodes = [...document.querySelectorAll('[data-testid=node]')].map((n) =>
    ({id: n.dataset.nodeId, ...box(n.querySelector('.ew-body'))}));
  const labels = [...document.querySelectorAll('[data-testid=edge-tag]')]
    .filter((g) => g.style.display !== 'none')
    .map((g) => ({id: g.closest('[data-testid=edge]').dataset.edge,
                  text: g.querySelector('text').textContent,
                  full: g.querySelector('text').dataset.full,
                  count: g.querySelector('text').dataset.count,
                  tag: box(g.querySelector('rect')), glyphs: box(g.querySelector('text'))}));
  return {nodes, labels};
}"""

FRAMES_JS = ("() => new Promise((done) => requestAnimationFrame(() => "
             "requestAnimationFrame(() => done(true))))")
# Resolves once the canvas and the parts floating over it have kept their places for ten
# frames in a row (a panel that slides in or a viewport change moves them): a fit made
# before then fits the view as it was.
STILL_JS = """() => new Promise((done) => {
  const places = () => JSON.stringify([...document.querySelectorAll(
    '[data-testid=canvas], [data-fit-avoid]')].map((el) => {
      const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }));
  let last = places(), still = 0, frames = 0;
  const step = () => {
    const now = places();
    still = now === last ? still + 1 : 0;
    last = now;
    if (still >= 10 || ++frames > 300) { done(still >= 10); } else { requestAnimationFrame(step); }
  };
  requestAnimationFrame(step);
})"""


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"]


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (inner["x1"] >= outer["x1"] - 0.5 and inner["x2"] <= outer["x2"] + 0.5
            and inner["y1"] >= outer["y1"] - 0.5 and inner["y2"] <= outer["y2"] + 0.5)


def shortened_from(shown: str, full: str, count: str) -> bool:
    """Whether a shown label is its full text, its count, or its first parts and an ellipsis."""
    return (shown in (full, count)
            or (shown.endswith(" · …") and full.startswith(shown[:-len(" · …")] + " · ")))


def carrying_edges(flow: Path) -> list[str]:
    """The flow's edges that carry messages on a good run: all but those from error ports."""
    data = json.loads(flow.read_text())
    return [f"{e['source']}->{e['target']}" for e in data["edges"]
            if not e["source"].endswith(".error")]


def run_flow(page: Any, server: Any, name: str, edges: list[str]) -> None:
    page.goto(f"{server.url}/flow/{name}")
    nodes = len(json.loads((Path(server.workspace) / name).read_text())["nodes"])
    expect(page.get_by_test_id("node")).to_have_count(nodes)
    page.get_by_test_id("run").click()
    states = page.get_by_test_id("node-status")
    for i in range(states.count()):
        expect(states.nth(i)).to_have_attribute("data-state", "done", timeout=90_000)
    for edge in edges:
        expect(page.locator(LABEL.format(edge))).to_have_text(re.compile(r"\S"))


def check_layout(page: Any, edges: list[str], where: str) -> None:
    assert page.evaluate(STILL_JS), f"{where}: the canvas kept moving"
    page.get_by_test_id("fit").click()
    page.evaluate(FRAMES_JS)
    assert page.evaluate(STILL_JS), f"{where}: the canvas kept moving after the fit"
    found = page.evaluate(BOXES_JS)
    labels, nodes = found["labels"], found["nodes"]
    assert sorted(lab["id"] for lab in labels) == sorted(edges), where
    for lab in labels:
        assert shortened_from(lab["text"], lab["full"], lab["count"]), f"{where}: {lab}"
        assert inside(lab["glyphs"], lab["tag"]), f"{where}: {lab['id']}'s text leaves its tag"
        for n in nodes:
            assert not overlap(lab["tag"], n), f"{where}: label {lab['id']} under node {n['id']}"
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not overlap(a["tag"], b["tag"]), f"{where}: {a['id']} overlaps {b['id']}"
    # nothing floating over the canvas (minimap, tool bar) hides a node or a label
    floating = page.evaluate("""() => [...document.querySelectorAll('[data-fit-avoid]')]
        .map((el) => el.getBoundingClientRect()).filter((r) => r.width && r.height)
        .map((r) => ({x1: r.left, y1: r.top, x2: r.right, y2: r.bottom}))""")
    assert floating, where  # the minimap and the tool bar are there
    for box in floating:
        for item in [*nodes, *(lab["tag"] for lab in labels)]:
            assert not overlap(box, item), f"{where}: {item} under a floating part {box}"


@pytest.mark.parametrize("name", QUICK_FLOWS)
def test_labels_clear_nodes_and_each_other_at_fit_zoom(
        examples_server: Any, page: Any, name: str) -> None:
    server = examples_server
    edges = carrying_edges(server.workspace / name)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    run_flow(page, server, name, edges)
    if name == "iris.json":  # the run that shows a metric: its label and the hover first
        metrics_lead_and_hover_shows_the_full_text(page)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        check_layout(page, edges, f"{name} at {width}×{height}")
    if name == "iris.json":
        zoomed_out_a_label_shows_its_count_and_hover_the_whole_text(page)
    assert page.js_errors == []


def metrics_lead_and_hover_shows_the_full_text(page: Any) -> None:
    """On iris at 1600×1000, run: the metrics lead their label, and hover shows it all."""
    metrics = page.locator(LABEL.format("score.metrics->metrics.data"))
    value = r"\d+(\.\d{1,3})?"
    expect(metrics).to_have_attribute(
        "data-full", re.compile(rf"^accuracy {value} · f1_macro {value} · rows 38 · 1$"))
    full_metrics = metrics.get_attribute("data-full")
    assert full_metrics is not None
    assert shortened_from(metrics.text_content() or "", full_metrics, "1")
    expect(metrics).to_have_attribute("data-count", "1")

    data = page.locator(LABEL.format("load.data->split.data"))
    full = data.get_attribute("data-full")
    assert full is not None and re.fullmatch(r"1 · 150 rows · 150×5 DataFrame", full), full
    tip = page.get_by_test_id("edge-label-tooltip")
    expect(tip).to_have_count(0)
    data.hover()
    expect(tip).to_have_text(full)
    page.mouse.move(5, 5)
    expect(tip).to_have_count(0)


def zoomed_out_a_label_shows_its_count_and_hover_the_whole_text(page: Any) -> None:
    """Zoomed out (on iris, at 1600×1000), a label shows its count alone; hover, its text."""
    page.set_viewport_size({"width": 1600, "height": 1000})
    data = page.locator(LABEL.format("load.data->split.data"))
    full = data.get_attribute("data-full")
    assert full is not None
    tip = page.get_by_test_id("edge-label-tooltip")
    canvas = page.get_by_test_id("canvas").bounding_box()
    page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    for _ in range(12):
        page.mouse.wheel(0, 200)
    expect(data).to_have_text("1")
    data.hover()
    expect(tip).to_have_text(full)


def test_shortened_label_parts() -> None:
    assert shortened_from("1 · 38 rows · …", "1 · 38 rows · 38×6 DataFrame", "1")
    assert shortened_from("1", "1 · 38 rows · 38×6 DataFrame", "1")
    assert not shortened_from("ows · 38×6", "1 · 38 rows · 38×6 DataFrame", "1")
    assert not shortened_from("1 · 3 · …", "1 · 38 rows · 38×6 DataFrame", "1")
