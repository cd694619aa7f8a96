"""The run menu chooses the engine: the iris example on Ray shows what it shows on Local."""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.editor.conftest import REPO
from tests.editor.test_deploy import field

NODE = '[data-testid=node][data-node-id="{}"]'
IRIS_ROW = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4,
            "petal width (cm)": 0.2}
NODES = ["load", "split", "fit", "predict", "score", "metrics"]
RAY_WAIT_MS = 240_000  # the worker joins Ray and starts its hosts: seconds, more when busy

# What the canvas and the Debug panel show once a run is over: every edge label's count and
# full text, every node's state, the debug entries (node and text, not their time) and cards.
SHOWN_JS = """() => ({
  edges: Object.fromEntries([...document.querySelectorAll('[data-testid=edge]')].map((e) => {
    const t = e.querySelector('[data-testid=edge-label]');
    return [e.dataset.edge, t ? [t.dataset.count, t.dataset.full] : null]; })),
  states: Object.fromEntries([...document.querySelectorAll('[data-testid=node]')].map((n) =>
    [n.dataset.nodeId, n.querySelector('[data-testid=node-status]')?.dataset.state])),
  debug: [...document.querySelectorAll('[data-testid=debug-entry]')].map((d) =>
    [d.dataset.nodeId, d.dataset.kind, d.querySelector('.font-mono')?.textContent]),
  cards: [...document.querySelectorAll('[data-testid=metric-card]')].map((c) =>
    [c.dataset.port, c.dataset.metric,
     c.querySelector('[data-testid=metric-value]').textContent]),
})"""


def choose(page: Any, engine: str) -> None:
    page.get_by_test_id("engine-menu").click()
    page.get_by_test_id(f"engine-{engine}").click()
    expect(page.get_by_test_id("engine-menu")).to_have_attribute("data-engine", engine)


def run_to_the_end(page: Any, timeout: int) -> dict[str, Any]:
    """Press Run, wait for this run's end and results; what the page shows then."""
    button = page.get_by_test_id("run")
    ended = int(button.get_attribute("data-ended") or "0")
    button.click()
    expect(button).to_have_attribute("data-ended", str(ended + 1), timeout=timeout)
    for node in NODES:
        expect(page.locator(NODE.format(node) + " [data-testid=node-status]")).to_have_attribute(
            "data-state", "done")
    expect(page.get_by_test_id("metric-card")).to_have_count(2)
    shown: dict[str, Any] = page.evaluate(SHOWN_JS)
    return shown


def test_the_iris_example_runs_on_ray_from_the_run_menu_as_on_local(
        server_factory: Any, example_workspace: Path, page: Any, ray_address: str) -> None:
    """On the test session's Ray cluster, which the editor's worker joins by RAY_ADDRESS."""
    server = server_factory(example_workspace, env={"RAY_ADDRESS": ray_address})
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    menu = page.get_by_test_id("engine-menu")
    expect(menu).to_have_attribute("data-engine", "local")  # the default
    expect(menu).to_have_text(re.compile("Local"))
    local = run_to_the_end(page, 90_000)

    choose(page, "ray")
    expect(menu).to_have_text(re.compile("Ray"))
    on_ray = run_to_the_end(page, RAY_WAIT_MS)
    entries = len(local["debug"])  # the panel keeps the last run's entries, below
    assert entries >= 1
    assert on_ray["debug"] == local["debug"] * 2
    assert {**on_ray, "debug": []} == {**local, "debug": []}
    assert all(count == "1" for count, _full in filter(None, local["edges"].values()))
    toast = page.locator(".q-notification", has_text="run ok")
    expect(toast.last).to_be_visible()

    page.reload()  # the choice is remembered for this flow, in this browser
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.get_by_test_id("engine-menu")).to_have_attribute("data-engine", "ray")
    page.goto(server.url + "/flow/serve-model.json")  # another flow: its own choice
    expect(page.get_by_test_id("node")).to_have_count(5)
    expect(page.get_by_test_id("engine-menu")).to_have_attribute("data-engine", "local")

    choose(page, "ray")  # Deploy serves it on the engine chosen too
    page.get_by_test_id("deploy").click()
    page.get_by_test_id("deploy-start").click()
    expect(page.get_by_test_id("deploy-endpoints")).to_be_visible(timeout=RAY_WAIT_MS)
    expect(page.get_by_test_id("engine-menu")).to_be_disabled()  # it serves on Ray
    expect(page.locator(NODE.format("fit") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done", timeout=RAY_WAIT_MS)
    page.get_by_test_id("deploy-endpoints").click()
    field(page, "deploy-body").fill(json.dumps(IRIS_ROW))
    status = page.get_by_test_id("deploy-status")
    requests = page.locator('[data-testid=edge][data-edge="requests.data->predict.data"] '
                            '[data-testid=edge-label]')
    deadline = time.monotonic() + RAY_WAIT_MS / 1000
    for sent in itertools.count(1):  # the first answers may outlast the endpoint's 5 s
        page.get_by_test_id("deploy-send").click()  # while Ray's hosts warm up: send again
        expect(requests).to_have_attribute("data-count", str(sent), timeout=30_000)
        expect(status).to_have_text(re.compile(r"^\d{3}$"), timeout=30_000)  # this answer
        if status.text_content() != "504":
            break
        assert time.monotonic() < deadline, "no answer in time on Ray"
    expect(status).to_have_text("200")
    expect(page.get_by_test_id("deploy-answer")).to_contain_text('"prediction": 0')
    page.keyboard.press("Escape")
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=RAY_WAIT_MS)
    expect(page.get_by_test_id("engine-menu")).to_be_enabled()
    assert page.js_errors == []


def test_choosing_ray_without_ray_says_how_to_install_it(
        server_factory: Any, example_workspace: Path, page: Any, tmp_path: Path) -> None:
    fake = tmp_path / "no-ray"
    fake.mkdir()
    (fake / "ray.py").write_text("raise ImportError(\"No module named 'ray'\")\n",
                                 encoding="utf-8")
    server = server_factory(example_workspace,
                            env={"PYTHONPATH": os.pathsep.join([str(REPO), str(fake)])})
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    choose(page, "ray")
    button = page.get_by_test_id("run")
    button.click()
    toast = page.locator(".q-notification", has_text="cannot run on Ray")
    expect(toast).to_have_text(re.compile(
        r"cannot run on Ray: the Ray engine needs Ray, which is not installed: "
        r"pip install 'edgewise\[ray\]'"), timeout=60_000)
    expect(toast).not_to_contain_text("Traceback")
    expect(button).to_have_attribute("data-ended", "1")
    expect(button).to_be_enabled()
    for node in NODES:  # nothing ran: no node is left waiting
        status = page.locator(NODE.format(node) + " [data-testid=node-status]")
        expect(status).not_to_have_attribute("data-state", re.compile("starting|running"))

    choose(page, "local")  # and Local still runs it
    button.click()
    expect(button).to_have_attribute("data-ended", "2", timeout=90_000)
    expect(page.get_by_test_id("metric-card")).to_have_count(2)

    page.goto(server.url + "/flow/serve-model.json")  # nor is a flow deployed on it
    expect(page.get_by_test_id("node")).to_have_count(5)
    choose(page, "ray")
    page.get_by_test_id("deploy").click()
    page.get_by_test_id("deploy-start").click()
    toast = page.locator(".q-notification", has_text="cannot deploy")
    expect(toast).to_contain_text("cannot deploy: cannot run on Ray: the Ray engine needs Ray, "
                                  "which is not installed: pip install 'edgewise[ray]'",
                                  timeout=60_000)
    expect(page.get_by_test_id("deploy")).to_have_attribute("data-state", "idle")
    assert page.js_errors == []
