"""Supervised scoring in the editor: the scorer shows its models, the supervisor its decisions.

The example flow supervised-scoring.json scores a paced stream in shadow mode; the concept
changes at row 3,000 and the supervisor promotes the challenger (scorer:2) over the champion
(scorer:1). What a user sees: the scorer's champion label before and after the promotion,
the promotion on the supervisor's timeline in the inspector, and, after a click on it, the
edges its evidence travelled lit up on the canvas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.editor.pagekit import EDGE, NODE, select_node

FLOW = "supervised-scoring.json"
MODELS = NODE.format("serve") + " [data-testid=node-models]"
# the scorer's champion label each time it changed, recorded in the page while the run goes
RECORD_CHAMPIONS = """() => {
  window.__champions = [];
  window.__recorder = setInterval(() => {
    const el = document.querySelector('SELECTOR');
    const label = el && el.getAttribute('data-champion');
    const seen = window.__champions;
    if (label && seen[seen.length - 1] !== label) seen.push(label);
  }, 20);
}""".replace("SELECTOR", MODELS)


def run_to_the_end(page: Any) -> None:
    """Run the page's first run, and wait until it ended and Run can be pressed again."""
    run = page.get_by_test_id("run")
    expect(run).not_to_have_attribute("data-phase", "ended")
    # a warm worker (scikit-learn imported): the two model.register nodes then never import
    # parts of it at once, in two threads
    expect(run).to_have_attribute("data-worker", "ready", timeout=90_000)
    run.click()
    expect(run).to_have_attribute("data-phase", "ended", timeout=120_000)
    expect(page.locator(NODE.format("supervisor") + " [data-testid=node-status]")
           ).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("run")).to_be_enabled()


def open_timeline(page: Any, *, select: bool = True) -> Any:
    """Select the supervisor (unless it is), bring the Inspector to the front: its decisions."""
    if select:
        select_node(page, "supervisor")
    page.get_by_test_id("tab-inspector").click()
    expect(page.get_by_test_id("decisions-title")).to_have_text("decisions of supervisor")
    return page.get_by_test_id("decision")


def test_the_scorer_the_timeline_and_the_evidence_path(server_factory: Any,
                                                      example_workspace: Path,
                                                      page: Any) -> None:
    server = server_factory(example_workspace)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(server.url + "/flow/" + FLOW)
    expect(page.get_by_test_id("node")).to_have_count(17)
    # before any run: the scorer's mode on its face, no models yet
    expect(page.locator(NODE.format("serve") + " [data-testid=node-face]")).to_have_text(
        "mode: shadow")
    expect(page.locator(MODELS)).to_have_count(0)
    # the supervisor selected before a run: the inspector says there is nothing to show yet
    select_node(page, "supervisor")
    page.get_by_test_id("tab-inspector").click()
    expect(page.get_by_test_id("decisions-waiting")).to_be_visible()

    page.evaluate(RECORD_CHAMPIONS)
    run_to_the_end(page)
    champions = page.evaluate("() => { clearInterval(window.__recorder); "
                              "return window.__champions; }")

    # the supervisor, still selected, shows the run's decisions on its timeline: one
    # promotion, from the old champion to the challenger (both registered as 'scorer', the
    # versions in the order the two model.register nodes got there)
    decisions = open_timeline(page, select=False)
    expect(decisions).to_have_count(1)
    promotion = decisions.first
    expect(promotion).to_have_attribute("data-action", "promote")
    expect(promotion).to_have_attribute("data-from", re.compile(r"^scorer:[12]$"))
    old, new = promotion.get_attribute("data-from"), promotion.get_attribute("data-to")
    assert {old, new} == {"scorer:1", "scorer:2"}, (old, new)
    expect(promotion).to_contain_text(re.compile(r"promote · window \d+"))
    expect(promotion).to_contain_text(f"{old} → {new}")
    expect(promotion).to_contain_text(re.compile(r"accuracy: champion 0\.\d+, challenger 0\.\d+"))
    expect(promotion).to_contain_text(f"beat {old} on accuracy")
    expect(promotion).to_contain_text(re.compile(r"evidence: \d+ message\(s\), #\d+"))

    # the scorer showed the champion while the run went, then the one promoted
    assert champions == [old, new], champions
    models = page.locator(MODELS)
    expect(models).to_have_attribute("data-champion", new)
    expect(models).to_have_attribute("data-challenger", re.compile(r"^scorer:[12]$"))
    expect(models).to_contain_text(f"★ {new}")
    expect(models).to_contain_text("shadow scorer:")
    expect(models).to_have_attribute("data-full", re.compile(rf"^champion: {new}; "
                                                             r"challenger \(shadow\): "))

    # nothing lit before the click; after it, the evidence path into the supervisor
    lit = page.locator("[data-testid=edge][data-lit=true]")
    expect(lit).to_have_count(0)
    promotion.click()
    expect(promotion).to_have_attribute("data-lit", "true")
    # each evidence message traced back as `edgewise trace` does: from the metrics into the
    # supervisor, back through the input whose message completed the window, to its file
    expect(page.locator(EDGE.format("monitor.metrics->supervisor.metrics"))).to_have_attribute(
        "data-lit", "true")
    expect(page.locator(EDGE.format("labels.data->later.data") + "[data-lit=true], "
                        + EDGE.format("stream.data->pace.data") + "[data-lit=true]")
           ).not_to_have_count(0)
    expect(page.locator(NODE.format("monitor") + ".highlight")).to_have_count(1)
    for edge in ("serve.data->scored.data", "drift.report->drift_report.data",
                 "supervisor.decisions->decisions.data"):
        expect(page.locator(EDGE.format(edge))).not_to_have_attribute("data-lit", "true")
    expect(page.locator(NODE.format("supervisor") + ".highlight")).to_have_count(1)
    expect(page.locator(NODE.format("scored") + ".highlight")).to_have_count(0)

    # the kept run shown from the Runs tab: the same models and the same decision
    page.get_by_test_id("tab-runs").click()
    page.get_by_test_id("run-show").first.click()
    expect(page.get_by_test_id("runs-status")).to_contain_text("showing run")
    expect(page.locator(MODELS)).to_have_attribute("data-champion", new)
    expect(lit).to_have_count(0)  # a run shown afresh: nothing lit
    decisions = open_timeline(page, select=False)
    expect(decisions).to_have_count(1)
    expect(decisions.first).to_have_attribute("data-action", "promote")
    assert page.js_errors == []


def test_a_supervisor_that_made_no_decision_says_so(server_factory: Any,
                                                    example_workspace: Path,
                                                    page: Any) -> None:
    flow = json.loads((example_workspace / FLOW).read_text(encoding="utf-8"))
    for node in flow["nodes"]:
        if node["id"] == "supervisor":
            node["params"]["min_gain"] = 0.9  # no challenger is that much better
    (example_workspace / "no-promotion.json").write_text(json.dumps(flow), encoding="utf-8")
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/no-promotion.json")
    expect(page.get_by_test_id("node")).to_have_count(17)
    run_to_the_end(page)
    expect(page.locator(MODELS)).to_have_attribute("data-champion", re.compile(r"^scorer:[12]$"))
    open_timeline(page)
    expect(page.get_by_test_id("decisions-none")).to_have_text("no decisions")
    expect(page.get_by_test_id("decision")).to_have_count(0)
    assert page.js_errors == []
