"""After Run the results are where users look: the Debug tab with metric cards and a badge,
each node's status line, and each node's key param on its face."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

import runtime
from runtime._record import record_run

NODE = '[data-testid=node][data-node-id="{}"]'
NUMBER = r"\d+(\.\d{1,3})?"


def status(page: Any, node: str) -> Any:
    return page.locator(NODE.format(node) + " [data-testid=node-status-text]")


def face(page: Any, node: str) -> Any:
    return page.locator(NODE.format(node) + " [data-testid=node-face]")


def card(page: Any, port: str, metric: str) -> Any:
    return page.locator(f'[data-testid=metric-card][data-port="{port}"][data-metric="{metric}"]')


def run_to_the_end(page: Any, nodes: list[str]) -> None:
    """Run, and wait until this run's results are shown (not the last run's, still there)."""
    button = page.get_by_test_id("run")
    ended = int(button.get_attribute("data-ended") or "0")  # runs ended on this page so far
    button.click()
    expect(button).to_have_attribute("data-ended", str(ended + 1), timeout=90_000)
    for node in nodes:
        expect(page.locator(NODE.format(node) + " [data-testid=node-status]")).to_have_attribute(
            "data-state", re.compile("done|failed"), timeout=90_000)
    expect(page.get_by_test_id("run")).to_be_enabled()


def keep_a_run(workspace: Path, flow: dict[str, Any], name: str) -> None:
    """Run a flow as the editor would and keep it, as if it had been run from the editor."""
    checked = runtime.plan(flow, base_dir=workspace)
    run = runtime.Run(checked)
    record_run(run, workspace, links={"flow_file": name, "started_by": "editor"})
    run.run()


def test_a_run_shows_debug_with_metric_cards_and_node_statuses(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    # the key param on the face, before any run; no status yet
    expect(face(page, "load")).to_have_text("iris")
    expect(face(page, "fit")).to_have_text("LogisticRegression")
    expect(face(page, "predict")).to_have_count(0)
    expect(page.get_by_test_id("node-status-text")).to_have_count(0)
    expect(page.get_by_test_id("footer-panels")).to_be_hidden()

    run_to_the_end(page, ["load", "split", "fit", "predict", "score", "metrics"])
    # the footer opens on Debug, not Problems: the cards lead it
    expect(page.get_by_test_id("footer-panels")).to_be_visible()
    expect(page.get_by_test_id("debug-panel")).to_be_visible()
    expect(page.get_by_test_id("problems")).to_be_hidden()
    expect(page.get_by_test_id("debug-badge")).to_be_hidden()  # in view: nothing unseen
    expect(page.get_by_test_id("results")).to_be_visible()
    expect(page.get_by_test_id("metric-card")).to_have_count(2)
    accuracy = card(page, "score.metrics", "accuracy")
    expect(accuracy.get_by_test_id("metric-value")).to_have_text(re.compile(rf"^{NUMBER}$"))
    expect(accuracy.get_by_test_id("metric-name")).to_have_text("score · accuracy")
    expect(accuracy.get_by_test_id("metric-delta")).to_have_text("first run")
    expect(card(page, "score.metrics", "f1_macro")).to_be_visible()
    expect(card(page, "score.metrics", "rows")).to_have_count(0)  # the record's size

    # each node's one-line status
    expect(status(page, "load")).to_have_text("150 rows")
    expect(status(page, "split")).to_have_text("train 112 · test 38")
    expect(status(page, "fit")).to_have_text("fitted on 112 rows")
    expect(status(page, "predict")).to_have_text("38 rows")
    expect(status(page, "score")).to_have_text(re.compile(rf"^acc {NUMBER} · f1 {NUMBER}$"))
    expect(status(page, "metrics")).to_have_text("1 msg")
    shown = accuracy.get_by_test_id("metric-value").text_content()
    assert f"acc {shown} ·" in (status(page, "score").text_content() or "")
    tooltip = page.locator(NODE.format("fit") + " > title")
    expect(tooltip).to_contain_text("LogisticRegression")
    expect(tooltip).to_contain_text("state: done (fitted on 112 rows)")

    # the same flow again: the cards show no change since the kept run before
    run_to_the_end(page, ["load", "split", "fit", "predict", "score", "metrics"])
    expect(accuracy.get_by_test_id("metric-delta")).to_have_text("±0")
    expect(accuracy.get_by_test_id("metric-delta")).to_have_attribute("data-direction", "same")

    # a kept run shown from the Runs tab shows its statuses and cards too
    page.get_by_test_id("tab-runs").click()
    page.get_by_test_id("runs-live").click()
    expect(page.get_by_test_id("node-status-text")).to_have_count(0)
    expect(page.get_by_test_id("metric-card")).to_have_count(0)
    page.get_by_test_id("run-row").last.get_by_test_id("run-show").click()  # the first run
    expect(page.get_by_test_id("runs-status")).to_contain_text("showing run")
    expect(status(page, "fit")).to_have_text("fitted on 112 rows")
    expect(status(page, "score")).to_have_text(re.compile(rf"^acc {NUMBER} · f1 {NUMBER}$"))
    page.get_by_test_id("tab-debug").click()
    expect(accuracy.get_by_test_id("metric-delta")).to_have_text("first run")
    assert page.js_errors == []


def test_the_cards_show_the_change_since_the_previous_run_coloured(
        shared_server: Any, page: Any) -> None:
    workspace = shared_server.workspace  # each test's flow file has a name of its own
    better = json.loads((Path(__file__).parents[2] / "flows" / "iris.json").read_text())
    worse = json.loads(json.dumps(better))
    fit = next(n for n in worse["nodes"] if n["id"] == "fit")
    fit["params"] = {"estimator": "sklearn.dummy.DummyClassifier", "target": "target"}
    keep_a_run(workspace, better, "iris.json")  # an older run, not the one compared with
    keep_a_run(workspace, worse, "iris.json")
    (workspace / "iris.json").write_text(json.dumps(better))
    server = shared_server
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    run_to_the_end(page, ["fit", "score", "metrics"])
    accuracy = card(page, "score.metrics", "accuracy")
    delta = accuracy.get_by_test_id("metric-delta")
    expect(delta).to_have_attribute("data-direction", "up")
    expect(delta).to_have_text(re.compile(rf"^\+{NUMBER}$"))
    assert "ew-delta-up" in (delta.get_attribute("class") or "")
    expect(delta).to_have_attribute("data-verdict", "better")  # accuracy up: green
    value = float(accuracy.get_by_test_id("metric-value").text_content() or "")
    assert value > 0.9

    # the flow made worse: the change goes down
    page.locator(NODE.format("fit") + " .ew-title").click()
    field = page.locator('input[data-param="estimator"], [data-param="estimator"] input').first
    field.fill("sklearn.dummy.DummyClassifier")
    field.press("Tab")  # leaving the picker's field takes the name typed into it
    expect(face(page, "fit")).to_have_text("DummyClassifier")  # the face follows the param
    # the options are drawn again for the new estimator: edit the new field, not the old
    expect(page.locator('[data-option="strategy"]').first).to_be_attached()
    page.locator('[data-param="options"] textarea, textarea[data-param="options"]').first.fill(
        "{}")
    run_to_the_end(page, ["fit", "score", "metrics"])
    expect(delta).to_have_attribute("data-direction", "down")
    expect(delta).to_have_text(re.compile(rf"^-{NUMBER}$"))
    expect(delta).to_have_attribute("data-verdict", "worse")
    assert page.js_errors == []


def test_the_badge_counts_what_came_while_the_user_reads_the_runs(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("tab-runs").click()  # the user reads the kept runs
    expect(page.get_by_test_id("runs-panel")).to_be_visible()
    run_to_the_end(page, ["load", "split", "fit", "predict", "score", "metrics"])
    expect(page.get_by_test_id("runs-panel")).to_be_visible()  # a run does not take it away
    badge = page.get_by_test_id("debug-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")  # the metrics record the debug node received
    page.get_by_test_id("tab-debug").click()
    expect(badge).to_be_hidden()
    expect(page.locator("[data-testid=debug-entry][data-node-id=metrics]")).to_have_count(1)
    assert page.js_errors == []


LONG = ("`alcohol` > 12.5 and `color_intensity` < 7 and `proline` > 600 and "
        "`malic_acid` < 3")
FAILING = {"edgewise": 1, "name": "faces", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "wine"},
     "position": {"x": 40, "y": 60}},
    {"id": "wide", "component": "frame.dummies", "params": {"columns": ["target"]},
     "position": {"x": 40, "y": 260}},
    {"id": "long", "component": "frame.query", "params": {"expr": LONG},
     "position": {"x": 300, "y": 40}},
    {"id": "typo", "component": "frame.query", "params": {"expr": "alcohl > 1"},
     "position": {"x": 300, "y": 260}},
    {"id": "save", "component": "csv.write", "params": {"path": "out/strong/wines.csv"},
     "position": {"x": 560, "y": 40}}],
    "edges": [{"source": "load.data", "target": "long.data"},
              {"source": "load.data", "target": "wide.data"},
              {"source": "wide.data", "target": "typo.data"},
              {"source": "long.data", "target": "save.data"}]}


def test_faces_are_shortened_and_failures_counted(
        shared_server: Any, page: Any) -> None:
    workspace = shared_server.workspace  # each test's flow file has a name of its own
    (workspace / "faces.json").write_text(json.dumps(FAILING))
    server = shared_server
    page.goto(server.url + "/flow/faces.json")
    expect(page.get_by_test_id("node")).to_have_count(5)
    long = face(page, "long")
    expect(long).to_have_attribute("data-full", LONG)
    shown = long.text_content() or ""
    assert shown.endswith("…") and LONG.startswith(shown[:-1]) and len(shown) < len(LONG)
    expect(page.locator(NODE.format("long") + " > title")).to_contain_text(LONG)
    expect(face(page, "save")).to_have_text("wines.csv")
    expect(face(page, "load")).to_have_text("wine")

    run_to_the_end(page, ["load", "wide", "long", "typo", "save"])
    expect(status(page, "typo")).to_have_text("1 error")
    expect(status(page, "save")).to_have_text(re.compile(r"^wrote \d+ rows?$"))
    expect(page.get_by_test_id("debug-panel")).to_be_visible()  # the failure is in Debug
    expect(page.locator("[data-testid=debug-entry][data-kind=error]")).to_have_count(1)
    expect(page.get_by_test_id("results")).to_be_hidden()  # no metrics in this flow
    assert page.js_errors == []


ENDLESS = {"edgewise": 1, "name": "endless", "nodes": [
    {"id": "src", "component": "stream.range", "params": {"count": 10**12},
     "position": {"x": 40, "y": 60}},
    {"id": "tally", "component": "stream.count", "position": {"x": 300, "y": 60}},
    {"id": "one", "component": "stream.range", "params": {"count": 1},
     "position": {"x": 40, "y": 300}},
    {"id": "late", "component": "debug", "position": {"x": 300, "y": 300}}],
    "edges": [{"source": "src.data", "target": "tally.data"},
              {"source": "one.data", "target": "late.data"}]}


def test_statuses_count_while_running_and_say_stopped_after_stop(
        shared_server: Any, page: Any) -> None:
    workspace = shared_server.workspace  # each test's flow file has a name of its own
    (workspace / "endless.json").write_text(json.dumps(ENDLESS))
    server = shared_server
    page.goto(server.url + "/flow/endless.json")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    expect(face(page, "src")).to_have_text(str(10**12))
    page.get_by_test_id("run").click()
    expect(status(page, "src")).to_have_text(re.compile(r"^\d+ msgs$"), timeout=60_000)
    expect(status(page, "late")).to_have_text("1 msg")
    page.get_by_test_id("stop").click()
    for node in ("src", "tally"):
        expect(status(page, node)).to_have_text("stopped", timeout=30_000)
    expect(status(page, "late")).to_have_text("1 msg")
    expect(page.get_by_test_id("run")).to_be_enabled()
    expect(page.get_by_test_id("debug-panel")).to_be_visible()  # the debug node's message
    assert page.js_errors == []
