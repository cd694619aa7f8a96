"""Mistakes a user can make with the editor get a clear message, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from editor.workspace import Workspace, WorkspaceError
from tests.editor.pagekit import param_input, select_node

REPO = Path(__file__).resolve().parents[2]


def edgewise(*args: str, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST",
                                                                "EDGEWISE_TOKEN")}
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], env=base | (env or {}),
                          cwd=REPO, capture_output=True, text=True, timeout=30)


# -- the command line --------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http"])
def test_a_port_out_of_range_is_refused(tmp_path: Path, port: str) -> None:
    folder = tmp_path / "ws"

    result = edgewise("edit", str(folder), f"--port={port}")

    assert result.returncode == 2
    assert f"'{port}' is not a port: give a number from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not folder.exists()


@pytest.mark.parametrize("where", ["under-a-file", "in-proc"])
def test_a_workspace_that_cannot_be_created_is_refused(tmp_path: Path, where: str) -> None:
    if where == "under-a-file":
        blocker = tmp_path / "notes.txt"
        blocker.write_text("mine")
        folder = blocker / "flows"
        reason = "Not a directory"
    else:
        folder = Path("/proc/edgewise-flows")
        reason = "No such file or directory"

    result = edgewise("edit", str(folder), "--port", "8080")

    assert result.returncode == 2
    assert f"cannot create the workspace folder {folder}: {reason}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_token_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-token"
    empty = tmp_path / "empty-token"
    empty.write_text("\n")

    for path, says in [(missing, "cannot read the token file"), (empty, "is empty")]:
        result = edgewise("edit", str(tmp_path / "ws"), "--token-file", str(path))
        assert result.returncode == 2
        assert says in result.stderr and str(path) in result.stderr
        assert "Traceback" not in result.stderr


def test_binding_beyond_this_machine_names_the_safe_ways_to_give_a_token(tmp_path: Path) -> None:
    """Without any token, binding beyond loopback is refused, naming the safe ways to give it."""
    result = edgewise("edit", str(tmp_path / "ws"), "--host", "0.0.0.0")

    assert result.returncode == 2
    assert "--token-file" in result.stderr and "EDGEWISE_TOKEN" in result.stderr


def test_allow_host_refuses_a_pattern(tmp_path: Path) -> None:
    result = edgewise("edit", str(tmp_path / "ws"), "--allow-host", "*")

    assert result.returncode == 2
    assert "'*' is not a host name" in result.stderr
    assert "Traceback" not in result.stderr


def test_edit_help_explains_the_token_and_host_options() -> None:
    result = edgewise("edit", "--help")

    assert result.returncode == 0
    for text in ("--token-file", "EDGEWISE_TOKEN", "process list", "--allow-host"):
        assert text in " ".join(result.stdout.split())


# -- the params form ---------------------------------------------------------------------


def test_a_param_of_the_wrong_type_is_shown_raw_with_its_error(
        shared_server: Any, page: Any) -> None:
    flow = {"edgewise": 1, "name": "typo", "nodes": [
        {"id": "src", "component": "stream.range", "params": {"count": "abc", "start": 2},
         "position": {"x": 40, "y": 60}},
        {"id": "show", "component": "debug", "position": {"x": 320, "y": 60}}],
        "edges": [{"source": "src.data", "target": "show.data"}]}
    path = shared_server.workspace / "typo.json"
    path.write_text(json.dumps(flow))
    server = shared_server
    page.goto(server.url + "/flow/typo.json")
    expect(page.get_by_test_id("problems")).to_contain_text("param 'count'")

    select_node(page, "src")
    expect(param_input(page, "count")).to_have_value("abc")
    error = page.locator('[data-testid=param-error][data-param-error="count"]')
    expect(error).to_contain_text("valid integer")
    expect(param_input(page, "start")).to_have_value("2")

    page.get_by_test_id("save").click()  # saving untouched keeps what the user wrote
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    assert json.loads(path.read_text())["nodes"][0]["params"] == {"count": "abc", "start": 2}

    field = param_input(page, "count")
    field.fill("12")
    field.press("Tab")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    expect(error).to_have_text("")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    assert json.loads(path.read_text())["nodes"][0]["params"] == {"count": 12, "start": 2}
    assert "Traceback" not in server.output()
    assert page.js_errors == []


def test_a_choice_or_list_param_of_the_wrong_shape_is_shown_as_written(
        shared_server: Any, page: Any) -> None:
    params = {"load": {"name": "irs"}, "pick": {"columns": "sepal length (cm)"},
              "split": {"target": "target", "stratify": "maybe"}}
    flow = {"edgewise": 1, "name": "shapes", "nodes": [
        {"id": "load", "component": "dataset.load", "params": params["load"],
         "position": {"x": 40, "y": 60}},
        {"id": "pick", "component": "frame.select", "params": params["pick"],
         "position": {"x": 300, "y": 60}},
        {"id": "split", "component": "ml.split", "params": params["split"],
         "position": {"x": 300, "y": 260}}],
        "edges": [{"source": "load.data", "target": "pick.data"},
                  {"source": "load.data", "target": "split.data"}]}
    path = shared_server.workspace / "shapes.json"
    path.write_text(json.dumps(flow))
    server = shared_server
    page.goto(server.url + "/flow/shapes.json")
    expect(page.get_by_test_id("problems")).to_contain_text("param 'name'")

    for node_id, param, shown in [("load", "name", "irs"), ("pick", "columns",
                                                              "sepal length (cm)"),
                                  ("split", "stratify", "maybe")]:
        select_node(page, node_id)
        expect(param_input(page, param)).to_have_value(shown)
        expect(page.locator(f'[data-testid=param-error][data-param-error="{param}"]')
               ).not_to_be_empty()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = {n["id"]: n["params"] for n in json.loads(path.read_text())["nodes"]}
    assert saved == params
    assert "Traceback" not in server.output()


# -- flow names --------------------------------------------------------------------------

LONG = "a" * 300


def test_the_workspace_refuses_a_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    longest = workspace.longest_name()

    for attempt in (lambda: workspace.create(LONG),
                    lambda: workspace.write_json(LONG, {"edgewise": 1}),
                    lambda: workspace.rename(workspace.create("mine"), LONG)):
        with pytest.raises(WorkspaceError, match=f"too long for a file name here: 305 "
                                                 f"characters with '.json', at most {longest}"):
            attempt()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.json"]

    fits = "b" * (longest - len(".json"))
    assert workspace.create(fits) == fits + ".json"
    assert (tmp_path / (fits + ".json")).is_file()


def test_the_new_and_save_as_dialogs_say_a_name_is_too_long(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    before = sorted(p.name for p in example_workspace.iterdir())
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)

    for menu_item in ("New flow…", "Save as…"):
        page.get_by_test_id("file-menu").click()
        page.locator(".q-menu .q-item", has_text=menu_item).click()
        dialog = page.get_by_test_id("name-dialog")
        dialog.get_by_test_id("name-input").fill(LONG)
        dialog.get_by_test_id("name-ok").click()
        expect(dialog.get_by_test_id("name-error")).to_contain_text(
            "too long for a file name here: 305 characters")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    assert sorted(p.name for p in example_workspace.iterdir()) == before
    assert "Traceback" not in server.output()


# -- stopping a run ----------------------------------------------------------------------


def test_after_stop_the_nodes_that_were_running_show_stopped(
        shared_server: Any, page: Any) -> None:
    flow = {"edgewise": 1, "name": "endless", "nodes": [
        {"id": "src", "component": "stream.range", "params": {"count": 10**12},
         "position": {"x": 40, "y": 60}},
        {"id": "pass", "component": "stream.identity", "position": {"x": 300, "y": 60}},
        {"id": "tally", "component": "stream.count", "position": {"x": 560, "y": 60}},
        {"id": "idle", "component": "stream.range", "params": {"count": 1},
         "position": {"x": 40, "y": 300}},
        {"id": "late", "component": "stream.count", "position": {"x": 300, "y": 300}}],
        "edges": [{"source": "src.data", "target": "pass.data"},
                  {"source": "pass.data", "target": "tally.data"},
                  {"source": "idle.data", "target": "late.data"}]}
    (shared_server.workspace / "endless.json").write_text(json.dumps(flow))
    server = shared_server
    page.goto(server.url + "/flow/endless.json")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    state = '[data-testid=node][data-node-id="{}"] [data-testid=node-status]'

    page.get_by_test_id("run").click()
    for node_id in ("src", "pass", "tally"):
        expect(page.locator(state.format(node_id))).to_have_attribute(
            "data-state", "running", timeout=60_000)
    expect(page.locator(state.format("late"))).to_have_attribute("data-state", "done")
    page.get_by_test_id("stop").click()

    for node_id in ("src", "pass", "tally"):
        expect(page.locator(state.format(node_id))).to_have_attribute(
            "data-state", "stopped", timeout=30_000)
    expect(page.locator(state.format("late"))).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("run")).to_be_enabled()
    page.wait_for_timeout(500)  # nothing later turns them back to running
    expect(page.locator(state.format("src"))).to_have_attribute("data-state", "stopped")

    # the kept run, shown again, says the same
    page.get_by_test_id("tab-runs").click()
    page.get_by_test_id("runs-live").click()
    expect(page.locator(state.format("tally"))).to_have_attribute("data-state", "idle")
    page.get_by_test_id("run-row").first.get_by_test_id("run-show").click()
    expect(page.get_by_test_id("runs-status")).to_contain_text("showing run")
    expect(page.locator(state.format("tally"))).to_have_attribute("data-state", "stopped")
    expect(page.locator(state.format("late"))).to_have_attribute("data-state", "done")
    assert "Traceback" not in server.output()


def test_a_node_that_ignores_stop_shows_stopped_once_its_worker_is_ended(
        shared_server: Any, page: Any) -> None:
    """A long fit runs on in its thread after Stop, so the editor ends the worker process."""
    flow = {"edgewise": 1, "name": "slow-fit", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "digits"},
         "position": {"x": 40, "y": 60}},
        {"id": "fit", "component": "ml.fit", "position": {"x": 300, "y": 60}, "params": {
            "estimator": "sklearn.ensemble.RandomForestClassifier", "target": "target",
            "options": {"n_estimators": 100_000}}}],
        "edges": [{"source": "load.data", "target": "fit.data"}]}
    (shared_server.workspace / "slow-fit.json").write_text(json.dumps(flow))
    server = shared_server
    page.goto(server.url + "/flow/slow-fit.json")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    state = '[data-testid=node][data-node-id="{}"] [data-testid=node-status]'

    page.get_by_test_id("run").click()
    expect(page.locator(state.format("fit"))).to_have_attribute("data-state", "running",
                                                                timeout=60_000)
    expect(page.locator(state.format("load"))).to_have_attribute("data-state", "done")
    page.get_by_test_id("stop").click()

    expect(page.locator(state.format("fit"))).to_have_attribute("data-state", "stopped",
                                                                timeout=30_000)
    expect(page.locator(state.format("load"))).to_have_attribute("data-state", "done")
    expect(page.locator(".q-notification", has_text="stopped")).to_be_visible()
    expect(page.locator(".q-notification", has_text="crashed")).to_have_count(0)
    expect(page.get_by_test_id("run")).to_be_enabled()


def test_pipeline_steps_are_edited_as_json_and_saved_as_a_list_of_objects(
        shared_server: Any, page: Any) -> None:
    flow = {"edgewise": 1, "name": "pipe", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "wine"},
         "position": {"x": 40, "y": 60}},
        {"id": "fit", "component": "ml.fit",
         "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                    "target": "target"}, "position": {"x": 320, "y": 60}}],
        "edges": [{"source": "load.data", "target": "fit.data"}]}
    path = shared_server.workspace / "pipe.json"
    path.write_text(json.dumps(flow))
    server = shared_server
    page.goto(server.url + "/flow/pipe.json")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")

    select_node(page, "fit")
    steps = page.locator('textarea[data-param="steps"], [data-param="steps"] textarea').first
    expect(steps).to_have_value("[]")
    param_input(page, "estimator").fill("")
    param_input(page, "estimator").press("Tab")
    steps.fill(json.dumps([{"estimator": "sklearn.preprocessing.StandardScaler"},
                           {"estimator": "sklearn.linear_model.LogisticRegression",
                            "options": {"C": 0.5}}]))
    steps.press("Tab")
    expect(page.get_by_test_id("step-row")).to_have_count(2)  # the rows show the JSON typed
    # the edit is in the flow (the unsaved marker), not only in the field, before saving
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")

    saved = json.loads(path.read_text())["nodes"][1]["params"]
    assert saved["steps"] == [{"estimator": "sklearn.preprocessing.StandardScaler"},
                              {"estimator": "sklearn.linear_model.LogisticRegression",
                               "options": {"C": 0.5}}]
    assert page.js_errors == []
