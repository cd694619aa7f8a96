"""A failing node's error shows where users look: the toast, the Debug panel and the node."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from editor.node_errors import NodeErrors, plain_message

NODE = '[data-testid=node][data-node-id="{}"]'
TYPO = {"edgewise": 1, "name": "typo", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "q", "component": "frame.query", "params": {"expr": "petal_lenght > 1"},
     "position": {"x": 300, "y": 40}},
    {"id": "good", "component": "frame.query", "params": {"expr": "`petal length (cm)` > 1"},
     "position": {"x": 300, "y": 220}},
    {"id": "show", "component": "debug", "position": {"x": 560, "y": 220}}],
    "edges": [{"source": "load.data", "target": "q.data"},
              {"source": "load.data", "target": "good.data"},
              {"source": "good.data", "target": "show.data"}]}
HINT = "did you mean 'petal length (cm)'?"


def test_an_unwired_failure_shows_in_the_toast_the_debug_panel_and_the_node(
        server_factory: Any, workspace: Path, page: Any) -> None:
    (workspace / "typo.json").write_text(json.dumps(TYPO))
    server = server_factory(workspace)
    page.goto(server.url + "/flow/typo.json")
    expect(page.get_by_test_id("node")).to_have_count(4)
    page.get_by_test_id("run").click()
    expect(page.locator(NODE.format("q") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "failed", timeout=60_000)
    expect(page.locator(NODE.format("show") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done")

    toast = page.locator(".q-notification", has_text="failed:")
    expect(toast).to_contain_text("1 node failed: 'q' (frame.query:")
    expect(toast).to_contain_text("no column 'petal_lenght'")
    expect(toast).not_to_contain_text("ValueError")

    page.get_by_test_id("tab-debug").click()
    error = page.locator('[data-testid=debug-entry][data-kind=error][data-node-id="q"]')
    expect(error).to_have_count(1)
    expect(error).to_contain_text("no column 'petal_lenght'")
    expect(error).to_contain_text(HINT)
    good = page.locator('[data-testid=debug-entry][data-node-id="show"]')
    expect(good).to_have_count(1)
    expect(good).not_to_have_attribute("data-kind", "error")

    page.locator(NODE.format("show") + " .ew-title").click()
    expect(page.get_by_test_id("params-node")).to_have_text("show")
    expect(page.get_by_test_id("node-error")).to_have_count(0)
    error.click()  # the Debug panel's entry selects the node
    expect(page.get_by_test_id("params-node")).to_have_text("q")
    expect(page.get_by_test_id("node-error-message")).to_contain_text(HINT)

    page.locator(NODE.format("good") + " .ew-title").click()
    expect(page.get_by_test_id("node-error")).to_have_count(0)
    page.locator(NODE.format("q") + " .ew-title").click()
    shown = page.get_by_test_id("node-error")
    expect(shown).to_have_attribute("data-node-id", "q")
    expect(shown).to_contain_text("last error of 'q' (frame.query)")
    message = page.get_by_test_id("node-error-message")
    expect(message).to_contain_text("no column 'petal_lenght'")
    expect(message).to_contain_text(HINT)
    expect(message).not_to_have_text(re.compile(r"^(ValueError|Value error)"))
    expect(page.get_by_test_id("node-error-inputs")).to_contain_text("#")

    page.get_by_test_id("run").click()  # a new run starts with no old errors shown
    expect(page.locator(NODE.format("q") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "failed", timeout=60_000)
    expect(page.get_by_test_id("node-error")).to_have_count(1)
    assert page.js_errors == []


def test_messages_lose_class_names_and_pydantic_prefixes() -> None:
    assert plain_message("ValueError: no column 'x'") == "no column 'x'"
    assert plain_message("query 'x > 1' failed: KeyError: 'x'") == "query 'x > 1' failed: 'x'"
    assert plain_message("1 validation error for FitParams\noptions\n  Value error, unknown "
                         "option 'n_estimator'; did you mean 'n_estimators'? [type=value_error,"
                         " input_value={}, input_type=dict]\n    For further information visit "
                         "https://errors.pydantic.dev/2/v/value_error") == (
        "options: unknown option 'n_estimator'; did you mean 'n_estimators'?")
    errors = NodeErrors()
    entry = errors.take("fit", {"node": "fit", "component": "ml.fit", "error": "ValueError",
                                "message": "Value error, unknown estimator option 'max_dept'",
                                "inputs": [4]}, 1)
    assert entry["kind"] == "error"
    assert entry["text"] == "ml.fit: unknown estimator option 'max_dept'"
    assert errors.toast(["fit", "other"]) == (
        "2 nodes failed: 'fit' (ml.fit: unknown estimator option 'max_dept'), 'other'")
