"""Runs start on a warm worker and show "starting" until then; re-run only when it can work."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.editor.pagekit import STATE, param_input, select_node

IRIS_NODES = ("load", "split", "fit", "predict", "score", "metrics")

# Logs, in the order the page shows them, changes of what a user sees: the toolbar's
# "starting" indicator, nodes in the starting state, and edge labels with text.
WATCH = """() => {
  if (window.__ewWatch) window.__ewWatch.disconnect();
  window.__ewLog = [];
  const seen = {starting: null, nodes: null, labels: null};
  const look = () => {
    const badge = document.querySelector('[data-testid=run-starting]');
    const now = {
      starting: !!badge && badge.checkVisibility(),
      nodes: document.querySelectorAll(
        '[data-testid=node-status][data-state=starting]').length > 0,
      labels: [...document.querySelectorAll('[data-testid=edge-label]')]
        .some((t) => t.textContent.trim() !== ''),
    };
    for (const key of Object.keys(now)) {
      if (now[key] !== seen[key]) {
        window.__ewLog.push(key + ':' + now[key]);
        seen[key] = now[key];
      }
    }
  };
  look();
  window.__ewWatch = new MutationObserver(look);
  window.__ewWatch.observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def test_run_starts_on_a_warm_worker_and_shows_starting_until_the_flow_runs(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    run = page.get_by_test_id("run")
    # the worker was spawned with the page and has imported what runs need before Run
    expect(run).to_have_attribute("data-worker", "ready", timeout=60_000)
    expect(page.get_by_test_id("run-starting")).to_be_hidden()
    page.evaluate(WATCH)

    run.click()
    for node in IRIS_NODES:
        expect(page.locator(STATE.format(node))).to_have_attribute("data-state", "done",
                                                                   timeout=60_000)
    expect(page.get_by_test_id("run-starting")).to_be_hidden()
    log = page.evaluate("window.__ewLog")
    assert log[:3] == ["starting:false", "nodes:false", "labels:false"], log
    events = log[3:]
    # Run -> "starting" (toolbar and nodes) -> the first label; nothing stays starting
    assert "starting:true" in events and "nodes:true" in events, events
    first_label = events.index("labels:true")
    assert events.index("starting:true") < first_label, events
    assert events.index("nodes:true") < first_label, events
    assert events[-1] != "starting:true" and "starting:false" in events, events
    assert "nodes:false" in events, events
    expect(page.locator("[data-testid=node-status][data-state=starting]")).to_have_count(0)

    # a fresh worker is warmed up right after the run, for the next Run
    expect(run).to_have_attribute("data-worker", "ready", timeout=60_000)
    page.evaluate(WATCH)
    run.click()
    expect(page.get_by_test_id("tab-runs")).to_be_visible()
    page.get_by_test_id("tab-runs").click()
    expect(page.get_by_test_id("run-row")).to_have_count(2, timeout=60_000)
    for node in IRIS_NODES:
        expect(page.locator(STATE.format(node))).to_have_attribute("data-state", "done",
                                                                   timeout=60_000)
    log = page.evaluate("window.__ewLog")
    assert log[:3] == ["starting:false", "nodes:false", "labels:true"], log
    events = log[3:]  # the last run's labels go, "starting" shows, then the new labels
    assert events.index("labels:false") < events.index("labels:true"), events
    assert events.index("starting:true") < events.index("labels:true"), events
    assert page.js_errors == []
    assert "Traceback" not in server.output()


def test_rerun_is_enabled_only_when_it_can_work_and_runs_in_the_worker(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    page.get_by_test_id("tab-runs").click()
    replay = page.get_by_test_id("run-replay")
    expect(replay).to_be_disabled()
    expect(replay).to_have_attribute("data-reason", "Select one node to re-run from it.")
    select_node(page, "fit")
    expect(replay).to_have_attribute("data-reason", re.compile("no kept run of this flow"))
    replay.hover(force=True)
    expect(page.get_by_test_id("run-replay-tip")).to_contain_text("no kept run")

    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("run-row")).to_have_count(1, timeout=60_000)
    expect(page.locator(STATE.format("metrics"))).to_have_attribute("data-state", "done",
                                                                    timeout=60_000)
    expect(replay).to_be_enabled()
    expect(replay).to_have_attribute("data-reason", "")

    # a change upstream of the node makes the recorded values stale: disabled, and why
    select_node(page, "split")
    field = param_input(page, "test_size")
    field.fill("0.3")
    field.press("Tab")
    select_node(page, "fit")
    expect(replay).to_be_disabled()
    expect(replay).to_have_attribute(
        "data-reason", re.compile(r"'split', upstream of 'fit', changed since run"))
    # ... but re-running from the changed node itself works
    select_node(page, "split")
    expect(replay).to_be_enabled()
    page.get_by_test_id("undo").click()
    select_node(page, "fit")
    expect(replay).to_be_enabled()

    # a changed param of the node itself is what a re-run is for; it runs in the worker
    area = page.locator('[data-param="options"] textarea, textarea[data-param="options"]').first
    area.fill('{"max_iter": 500, "C": 0.01}')
    page.get_by_test_id("params-node").click()
    expect(replay).to_be_enabled()
    replay.click()
    status = page.get_by_test_id("runs-status")
    expect(status).to_contain_text("first changed: fit.model->predict.model", timeout=60_000)
    expect(page.get_by_test_id("run-row")).to_have_count(2)
    newest = page.get_by_test_id("run-row").first
    expect(newest).to_contain_text("replay of")
    expect(newest.get_by_test_id("run-changes")).to_contain_text('fit.options')
    expect(page.get_by_test_id("compare-legend")).to_be_visible()
    # re-running again takes the values of the run the replay replays
    expect(replay).to_be_enabled()
    assert page.js_errors == []
    assert "Traceback" not in server.output()


def test_no_node_stays_starting_or_running_after_stop(
        server_factory: Any, workspace: Path, page: Any) -> None:
    """Stop as soon as it can be pressed: whatever phase the run is in, it ends settled."""
    flow = {"edgewise": 1, "name": "endless", "nodes": [
        {"id": "src", "component": "stream.range", "params": {"count": 10**9},
         "position": {"x": 40, "y": 60}},
        {"id": "tally", "component": "stream.count", "position": {"x": 300, "y": 60}}],
        "edges": [{"source": "src.data", "target": "tally.data"}]}
    (workspace / "endless.json").write_text(json.dumps(flow))
    server = server_factory(workspace)
    page.goto(server.url + "/flow/endless.json")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    for _ in range(2):
        page.get_by_test_id("run").click()
        page.get_by_test_id("stop").click()  # waits until Stop is enabled: the run is on
        expect(page.get_by_test_id("run")).to_be_enabled(timeout=60_000)
        expect(page.get_by_test_id("run-starting")).to_be_hidden()
        for node in ("src", "tally"):
            expect(page.locator(STATE.format(node))).to_have_attribute(
                "data-state", re.compile("^(stopped|idle|done)$"))
        page.wait_for_timeout(500)  # nothing later turns them back
        expect(page.locator("[data-testid=node-status][data-state=running]")).to_have_count(0)
        expect(page.locator("[data-testid=node-status][data-state=starting]")).to_have_count(0)
    assert "Traceback" not in server.output()
