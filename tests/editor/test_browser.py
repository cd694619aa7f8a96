"""The editor in a real headless Chromium, driven as a person would drive it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from playwright.sync_api import expect

import runtime
from tests.editor.pagekit import NODE, center, select_node, write_failing_flow


def drop(page: Any, component: str, x: int, y: int) -> None:
    item = page.locator(f'[data-testid=palette-item][data-component="{component}"]')
    item.scroll_into_view_if_needed()
    item.drag_to(page.get_by_test_id("canvas"), target_position={"x": x, "y": y})


def port(page: Any, ref: str, direction: str) -> Any:
    return page.locator(f'[data-testid=port][data-port="{ref}"][data-direction={direction}]')


def wire(page: Any, source: str, target: str, directions: tuple[str, str] = ("out", "in"),
         ) -> None:
    sx, sy = center(port(page, source, directions[0]))
    tx, ty = center(port(page, target, directions[1]))
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=4)
    page.mouse.move(tx, ty, steps=4)
    page.mouse.up()


def fill(page: Any, param: str, value: str) -> None:
    field = page.locator(f'input[data-param="{param}"], [data-param="{param}"] input').first
    field.fill(value)
    field.press("Tab")


def choose(page: Any, param: str, option: str) -> None:
    page.locator(f'[data-param="{param}"]').click()
    page.locator(".q-menu .q-item", has_text=re.compile(f"^{re.escape(option)}$")).click()


def test_a_new_user_builds_saves_and_runs_a_flow(server_factory: Any, workspace: Path,
                                                  page: Any) -> None:
    server = server_factory(workspace)
    page.goto(server.url + "/")
    page.get_by_test_id("new-flow").click()
    page.wait_for_url("**/flow/my-flow.json")
    expect(page.get_by_test_id("canvas")).to_be_visible()

    layout = {"dataset.load": (100, 80), "ml.split": (330, 80), "ml.fit": (560, 40),
              "ml.predict": (560, 250), "ml.score": (330, 330), "debug": (560, 420)}
    for component, (x, y) in layout.items():
        drop(page, component, x, y)
    expect(page.get_by_test_id("node")).to_have_count(6)
    for a, b in [("load.data", "split.data"), ("split.train", "fit.data"),
                 ("split.test", "predict.data"), ("fit.model", "predict.model"),
                 ("predict.data", "score.data"), ("score.metrics", "debug.data")]:
        wire(page, a, b)
        expect(page.locator(f'[data-testid=edge][data-edge="{a}->{b}"]')).to_have_count(1)

    select_node(page, "load")
    choose(page, "name", "iris")
    select_node(page, "split")
    fill(page, "target", "target")
    page.locator('[data-param="stratify"]').click()
    select_node(page, "fit")
    fill(page, "estimator", "sklearn.linear_model.LogisticRegression")
    fill(page, "target", "target")
    select_node(page, "score")
    fill(page, "target", "target")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")

    saved = workspace / "my-flow.json"
    data = json.loads(saved.read_text())
    assert runtime.validate(saved) == []
    assert {n["component"] for n in data["nodes"]} == set(layout)
    headless = subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(saved), "--json"],
                              capture_output=True, text=True, timeout=120)
    assert headless.returncode == 0, headless.stderr
    summary = json.loads(headless.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok"

    page.get_by_test_id("run").click()
    states = page.get_by_test_id("node-status")
    for i in range(6):
        expect(states.nth(i)).to_have_attribute("data-state", "done", timeout=60_000)
    labels = page.get_by_test_id("edge-label")
    expect(labels).to_have_count(6)
    for i in range(6):
        expect(labels.nth(i)).to_have_text(re.compile(r"^1\b"))
    for edge, info in summary["edges"].items():
        label = page.locator(f'[data-testid=edge][data-edge="{edge}"] [data-testid=edge-label]')
        expect(label).to_have_text(re.compile(rf"^{info['count']}\b"))

    page.locator('[data-testid=edge][data-edge="predict.data->score.data"] '
                 '[data-testid=edge-label]').click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector.get_by_test_id("inspector-shape")).to_contain_text("38 rows")
    expect(inspector.get_by_test_id("inspector-table")).to_contain_text("prediction")

    page.get_by_test_id("tab-debug").click()
    entry = page.get_by_test_id("debug-entry").first
    expect(entry).to_contain_text("accuracy")
    entry.click()
    expect(page.get_by_test_id("params-node")).to_have_text("debug")
    assert page.js_errors == []


def test_a_refused_connection_says_why(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    wire(page, "fit.model", "score.data")
    refusal = page.get_by_test_id("connection-refused")
    expect(refusal).to_contain_text("expects DataFrame")
    wire(page, "score.data", "predict.data", ("in", "in"))
    expect(refusal).to_contain_text("input to an input")
    wire(page, "predict.data", "split.data")
    expect(refusal).to_contain_text("cycle")
    expect(page.get_by_test_id("edge")).to_have_count(6)
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")


def test_undo_and_redo(examples_server: Any, page: Any) -> None:
    server = examples_server
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    drop(page, "stream.identity", 400, 420)
    expect(page.get_by_test_id("node")).to_have_count(7)
    page.locator(NODE.format("metrics") + " .ew-title").click()
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.get_by_test_id("edge")).to_have_count(5)
    page.get_by_test_id("canvas").click(position={"x": 20, "y": 20})
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node")).to_have_count(7)
    expect(page.get_by_test_id("edge")).to_have_count(6)
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node")).to_have_count(6)
    expect(page.locator(NODE.format("identity"))).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator(NODE.format("identity"))).to_have_count(1)
    page.get_by_test_id("redo").click()
    expect(page.locator(NODE.format("metrics"))).to_have_count(0)


def test_a_failing_node_shows_failed_and_its_error_records(
        server_factory: Any, workspace: Path, page: Any) -> None:
    write_failing_flow(workspace)
    server = server_factory(workspace)
    page.goto(server.url + "/flow/failing.json")
    page.get_by_test_id("run").click()
    status = page.locator(NODE.format("bad") + " [data-testid=node-status]")
    expect(status).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(page.locator(NODE.format("dead") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done")
    page.locator('[data-testid=edge][data-edge="bad.error->dead.data"] '
                 '[data-testid=edge-label]').click()
    record = page.get_by_test_id("inspector").get_by_test_id("error-record")
    expect(record).to_contain_text("no_such_text")


def test_an_unknown_component_survives_a_save(server_factory: Any, workspace: Path,
                                              page: Any) -> None:
    flow = {"edgewise": 1, "name": "foreign", "nodes": [
        {"id": "src", "component": "stream.range", "params": {"count": 3},
         "position": {"x": 40, "y": 60}},
        {"id": "alien", "component": "acme.transmogrify", "params": {"level": 11, "mode": "x"},
         "label": "from elsewhere", "position": {"x": 320, "y": 60}}],
        "edges": [{"source": "src.data", "target": "alien.input"}],
        "meta": {"editor": {"zoom": 1}}}
    path = workspace / "foreign.json"
    path.write_text(json.dumps(flow))
    server = server_factory(workspace)
    page.goto(server.url + "/flow/foreign.json")
    alien = page.locator(NODE.format("alien"))
    expect(alien).to_have_class(re.compile("unknown"))
    expect(page.get_by_test_id("problems")).to_contain_text("unknown component")
    box = page.locator(NODE.format("src") + " .ew-title").bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 25, box["y"] + 65, steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = json.loads(path.read_text())
    saved_alien = next(n for n in saved["nodes"] if n["id"] == "alien")
    assert saved_alien == flow["nodes"][1]
    assert saved["edges"] == flow["edges"]
    assert saved["meta"] == flow["meta"]
    moved = next(n for n in saved["nodes"] if n["id"] == "src")
    assert moved["position"] != flow["nodes"][0]["position"]


def test_the_workspace_refuses_paths_outside_it(server_factory: Any, tmp_path: Path,
                                                workspace: Path, page: Any) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"edgewise": 1, "name": "secret", "nodes": [], "edges": []}))
    (workspace / "link.json").symlink_to(secret)
    server = server_factory(workspace)
    for bad in ["..%2Fsecret.json", "link.json", "%2Fetc%2Fpasswd", "a%5C..%5Cb.json"]:
        response = page.goto(server.url + "/flow/" + bad)
        if response.status == 200:
            expect(page.get_by_test_id("workspace-error")).to_be_visible()
        else:
            assert response.status == 404
        expect(page.get_by_test_id("canvas")).to_have_count(0)
        assert "secret" not in page.content()


def test_kept_runs_can_be_shown_traced_replayed_and_compared(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    page.get_by_test_id("run").click()
    states = page.get_by_test_id("node-status")
    for i in range(6):
        expect(states.nth(i)).to_have_attribute("data-state", "done", timeout=60_000)
    page.get_by_test_id("tab-runs").click()
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(1)
    kept = rows.first.get_attribute("data-run")
    assert (example_workspace / ".edgewise" / "runs" / kept / "manifest.json").is_file()

    # a kept run on the canvas: its counts, and its data in the inspector
    rows.first.get_by_test_id("run-show").click()
    label = page.locator('[data-testid=edge][data-edge="predict.data->score.data"] '
                         '[data-testid=edge-label]')
    expect(label).to_have_attribute("data-full", re.compile(r"^1 · 38 rows"))
    label.click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector).to_contain_text(f"run {kept}")
    expect(inspector.get_by_test_id("inspector-shape")).to_contain_text("38 rows")

    # tracing lights up the path back to the sources
    inspector.get_by_test_id("inspector-trace").click()
    expect(page.get_by_test_id("trace-step")).to_have_count(5)
    expect(page.locator(".ew-node.highlight")).to_have_count(4)
    expect(page.locator(NODE.format("metrics") + ".highlight")).to_have_count(0)

    # a row id the message does not hold is answered in words, not a traceback
    row_input = inspector.locator(
        "input[data-testid=trace-row], [data-testid=trace-row] input").first
    row_input.fill("no-such-row")
    inspector.get_by_test_id("inspector-trace-row").click()
    expect(page.get_by_test_id("trace-path")).to_contain_text(
        "has no row with id 'no-such-row'")

    # one row: back to the data set, naming the model that scored it
    first_row = inspector.get_by_test_id("inspector-table").locator("tbody tr").first
    row_id = first_row.locator("td").first.inner_text().strip()
    row_input.fill(row_id)
    inspector.get_by_test_id("inspector-trace-row").click()
    path = page.get_by_test_id("trace-path")
    expect(path).to_contain_text("scored by model")
    expect(path).to_contain_text(f"source: dataset iris, row {row_id}")
    expect(path).to_contain_text(re.compile(r"scored at predict by \S*LogisticRegression"))
    expect(path).to_contain_text('"max_iter": 500')
    expect(path).to_contain_text(re.compile(r"fitted on: #\d+ split \(112 rows\)"))
    expect(page.locator(NODE.format("fit") + ".highlight")).to_have_count(1)

    # which records trained the model: listed, lit up, and exported whole
    page.locator('[data-testid=edge][data-edge="fit.model->predict.model"] '
                 '[data-testid=edge-label]').click()
    expect(inspector).to_contain_text("fit.model->predict.model")
    inspector.get_by_test_id("inspector-trained-on").click()
    expect(inspector.get_by_test_id("trained-on-summary")).to_contain_text(
        "LogisticRegression (message #")
    expect(inspector.get_by_test_id("trained-on-summary")).to_contain_text(
        "fitted on 112 row(s)")
    expect(inspector.get_by_test_id("trained-on-table").locator("tbody tr")).to_have_count(20)
    expect(page.locator(NODE.format("split") + ".highlight")).to_have_count(1)
    expect(page.locator(NODE.format("predict") + ".highlight")).to_have_count(0)
    with page.expect_download() as download:
        inspector.get_by_test_id("trained-on-export").click()
    exported = pd.read_csv(download.value.path())
    assert len(exported) == 112
    assert {"_row", "_message", "_source", "_line", "target"} <= set(exported.columns)
    assert set(exported["_source"]) == {"iris"}

    # re-run from a node with a changed param: the new run is compared with the kept one
    select_node(page, "fit")
    area = page.locator('[data-param="options"] textarea, textarea[data-param="options"]').first
    area.fill('{"max_iter": 500, "C": 0.01}')
    page.get_by_test_id("params-node").click()
    page.get_by_test_id("tab-runs").click()
    page.get_by_test_id("run-replay").click()
    status = page.get_by_test_id("runs-status")
    expect(status).to_contain_text("first changed: fit.model->predict.model", timeout=90_000)
    expect(page.locator('[data-testid=edge][data-edge="fit.model->predict.model"]')
           ).to_have_attribute("data-change", "first")
    expect(page.locator('[data-testid=edge][data-edge="split.train->fit.data"]')
           ).to_have_attribute("data-change", "same")
    expect(page.get_by_test_id("run-row")).to_have_count(2)
