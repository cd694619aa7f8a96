"""A failing node's error shows where users look: the toast, the Debug panel and the node."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from editor.node_errors import NodeErrors, plain_message, readable
from editor.worker import RunWorker
from editor.worker_process import FAILURE_EVERY

NODE = '[data-testid=node][data-node-id="{}"]'
# 'wide' makes the columns unknown before the run (dummies of the target), so the typos
# below pass validation and fail while running, as a typo after an opaque step would
TYPO = {"edgewise": 1, "name": "typo", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "wide", "component": "frame.dummies", "params": {"columns": ["target"]},
     "position": {"x": 40, "y": 380}},
    {"id": "q", "component": "frame.query", "params": {"expr": "petal_lenght > 1"},
     "position": {"x": 300, "y": 40}},
    {"id": "good", "component": "frame.query", "params": {"expr": "`petal length (cm)` > 1"},
     "position": {"x": 300, "y": 220}},
    {"id": "show", "component": "debug", "position": {"x": 560, "y": 220}},
    {"id": "fit", "component": "ml.fit", "position": {"x": 300, "y": 380},
     "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                "target": "target_00"}}],
    "edges": [{"source": "load.data", "target": "wide.data"},
              {"source": "wide.data", "target": "q.data"},
              {"source": "load.data", "target": "good.data"},
              {"source": "good.data", "target": "show.data"},
              {"source": "wide.data", "target": "fit.data"}]}
HINT = "did you mean 'petal length (cm)'?"


def test_an_unwired_failure_shows_in_the_toast_the_debug_panel_and_the_node(
        server_factory: Any, workspace: Path, page: Any) -> None:
    (workspace / "typo.json").write_text(json.dumps(TYPO))
    server = server_factory(workspace)
    page.goto(server.url + "/flow/typo.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("run").click()
    expect(page.locator(NODE.format("q") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "failed", timeout=60_000)
    expect(page.locator(NODE.format("show") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done")

    toast = page.locator(".q-notification", has_text="failed:")
    expect(toast).to_contain_text("2 nodes failed: 'q' (frame.query:")
    expect(toast).to_contain_text("no column 'petal_lenght'")
    expect(toast).to_contain_text("'fit' (ml.fit: target column 'target_00' is not in the data; "
                                  "did you mean 'target_0'?)")
    expect(toast).to_contain_text("did you mean 'petal length (cm)'?), 'fit'")
    expect(toast).not_to_contain_text("columns:")
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

    run = page.get_by_test_id("run")
    ended = run.get_attribute("data-ended") or "0"  # runs ended on this page so far
    run.click()  # a new run starts with no old errors shown
    expect(run).not_to_have_attribute("data-ended", ended, timeout=60_000)  # it ended too
    expect(page.locator(NODE.format("q") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "failed", timeout=60_000)
    expect(page.get_by_test_id("node-error")).to_have_count(1)

    page.get_by_test_id("tab-runs").click()  # a kept run shows its own errors
    page.get_by_test_id("runs-live").click()
    expect(page.get_by_test_id("node-error")).to_have_count(0)
    page.get_by_test_id("run-row").first.get_by_test_id("run-show").click()
    expect(page.get_by_test_id("runs-status")).to_contain_text("showing run")
    expect(page.get_by_test_id("node-error-message")).to_contain_text(HINT)
    assert page.js_errors == []


def test_messages_lose_class_names_and_pydantic_prefixes() -> None:
    assert plain_message("ValueError: no column 'x'") == "no column 'x'"
    assert plain_message("query 'x > 1' failed: KeyError: 'x'") == "query 'x > 1' failed: 'x'"
    assert plain_message("1 validation error for FitParams\noptions\n  Value error, unknown "
                         "option 'n_estimator'; did you mean 'n_estimators'? [type=value_error,"
                         " input_value={}, input_type=dict]\n    For further information visit "
                         "https://errors.pydantic.dev/2/v/value_error") == (
        "options: unknown option 'n_estimator'; did you mean 'n_estimators'?")
    assert readable('"target column \'targt\' is not in the data; columns: a b, target"') == (
        "target column 'targt' is not in the data; columns: a b, target; did you mean "
        "'target'?")
    assert readable("no column 'x'; did you mean 'y'? (columns: y)") == (
        "no column 'x'; did you mean 'y'? (columns: y)")
    errors = NodeErrors()
    entry = errors.take("fit", {"node": "fit", "component": "ml.fit", "error": "ValueError",
                                "message": "Value error, unknown estimator option 'max_dept'",
                                "inputs": [4]}, 1)
    assert entry["kind"] == "error"
    assert entry["text"] == "ml.fit: unknown estimator option 'max_dept'"
    long = "x" * 300 + "; did you mean 'petal length (cm)'? (columns: many)"
    errors.take("q", {"component": "frame.query", "message": long, "inputs": []}, 1)
    assert errors.toast(["q"]).endswith("… did you mean 'petal length (cm)'?)")
    assert errors.toast(["fit", "other"]) == (
        "2 nodes failed: 'fit' (ml.fit: unknown estimator option 'max_dept'), 'other'")


def test_the_worker_reports_an_unwired_failure_bounded_and_its_last_error(
        tmp_path: Path) -> None:
    """A node failing on each of 599 messages sends a few reports, the last one always."""
    flow = {"edgewise": 1, "name": "many", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "digits"}},
        {"id": "wide", "component": "frame.dummies", "params": {"columns": ["target"]}},
        {"id": "chunks", "component": "stream.chunks", "params": {"rows": 3}},
        {"id": "q", "component": "frame.query", "params": {"expr": "pixel_0_O > 1"}}],
        "edges": [{"source": "load.data", "target": "wide.data"},
                  {"source": "wide.data", "target": "chunks.data"},
                  {"source": "chunks.data", "target": "q.data"}]}
    messages: list[Any] = []

    async def run() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def take(message: Any) -> None:
            messages.append(message)
            if message[0] in ("ended", "invalid", "crashed"):
                loop.call_soon_threadsafe(done.set)

        worker = RunWorker(take)
        worker.run(flow, tmp_path, "many.json")
        await asyncio.wait_for(done.wait(), 300)
        worker.close()

    # in a thread of its own: the browser tests' Playwright holds this thread's event loop
    runner = threading.Thread(target=asyncio.run, args=(run(),))
    runner.start()
    runner.join()
    summary = messages[-1][1]
    assert messages[-1][0] == "ended", messages[-1]
    assert summary["states"]["q"]["errors"] == 599
    failures = [m for m in messages if m[0] == "failure"]
    assert {m[1] for m in failures} == {"q"}
    counts = [m[3] for m in failures]
    assert counts[0] == 1 and counts[-1] == 599 and counts == sorted(set(counts))
    assert len(failures) <= 2 + summary["seconds"] / FAILURE_EVERY
    first, last = failures[0][2], failures[-1][2]
    assert first["component"] == "frame.query"
    assert "no column 'pixel_0_O'" in first["message"]
    assert "did you mean 'pixel_0_" in first["message"]
    assert last["inputs"] and last["inputs"] != first["inputs"]
