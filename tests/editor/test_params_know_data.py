"""Params that know the data, in real Chromium: estimator and column pickers, options, steps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

NODE = '[data-testid=node][data-node-id="{}"]'
LOGISTIC = "sklearn.linear_model.LogisticRegression"
FOREST = "sklearn.ensemble.RandomForestClassifier"
# 'wide' (dummies of the target) makes the columns unknown before a run: only the run's
# previews can tell the picker that 'target_1' exists
WIDE = {"edgewise": 1, "name": "wide", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "wide", "component": "frame.dummies", "params": {"columns": ["target"]},
     "position": {"x": 40, "y": 300}},
    {"id": "fit", "component": "ml.fit", "position": {"x": 320, "y": 300},
     "params": {"estimator": LOGISTIC, "options": {"max_iter": 500}, "target": "target_0"}}],
    "edges": [{"source": "load.data", "target": "wide.data"},
              {"source": "wide.data", "target": "fit.data"}]}


def saved_params(page: Any, path: Path, node: str, edited: bool = True) -> dict[str, Any]:
    """Save with the button and read the node's params back from the file.

    The edit must have reached the flow first (the unsaved marker): a save clicked before
    the server had the edit finds the marker already clear and the file unchanged.
    ``edited=False``: the edits since the last save undid each other.
    """
    expect(page.get_by_test_id("flow-title")).to_have_attribute(
        "data-dirty", "true" if edited else "false")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    data = json.loads(path.read_text())
    params: dict[str, Any] = next(n for n in data["nodes"] if n["id"] == node)["params"]
    return params


def pick(page: Any, field: Any, text: str, option: str | None = None) -> None:
    """Type into a select's filter and choose the option shown as ``option`` (or press Enter)."""
    field.click()
    field.fill(text)
    if option is None:
        field.press("Enter")
    else:
        page.locator(".q-menu .q-item", has_text=option).first.click()
    page.keyboard.press("Escape")
    page.get_by_test_id("params-node").click()  # out of the field, which shows its choice


def test_estimator_options_and_a_column_known_from_the_run(
        shared_server: Any, page: Any) -> None:
    path = shared_server.workspace / "wide.json"
    path.write_text(json.dumps(WIDE))
    server = shared_server
    page.goto(server.url + "/flow/wide.json")
    page.locator(NODE.format("fit") + " .ew-title").click()
    target = page.locator('[data-column-param="target"]')
    expect(target).to_be_visible()
    target.click()  # before any run the dummies' columns are unknown
    expect(page.locator(".q-menu .q-item", has_text="target_1")).to_have_count(0)
    page.keyboard.press("Escape")
    page.get_by_test_id("params-node").click()  # out of the field

    page.get_by_test_id("run").click()
    expect(page.locator(NODE.format("fit") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("run")).to_be_enabled()  # the run is over, and kept
    target.click()  # the open form asks for the columns again on focus
    expect(target).to_have_attribute("data-columns", "7")
    pick(page, target, "target_", "target_1")
    expect(target).to_have_value("target_1")
    assert saved_params(page, path, "fit")["target"] == "target_1"

    picker = page.get_by_test_id("estimator-picker")
    pick(page, picker, "RandomForestClassifier")  # a bare class name, resolved to its module
    expect(picker).to_have_value(re.compile(r"^RandomForestClassifier — sklearn\.ensemble\b"))
    # the old options stay, and the one the new class lacks is refused while editing
    expect(page.locator('[data-param-error="options"]')).to_contain_text(
        "RandomForestClassifier has no option 'max_iter'")
    trees = page.locator('[data-option="n_estimators"]')
    expect(trees).to_have_attribute("placeholder", "100")
    expect(page.locator('[data-option="criterion"]')).to_be_visible()

    raw = page.locator('textarea[data-param="options"]')
    raw.fill("{}")
    expect(page.locator('[data-param-error="options"]')).to_have_text("")
    trees.fill("50")
    expect(raw).to_have_value(re.compile(r'"n_estimators": 50'))
    trees.press("Tab")
    params = saved_params(page, path, "fit")
    assert params["estimator"] == FOREST
    assert params["options"] == {"n_estimators": 50}  # only what differs from the defaults
    assert page.js_errors == []


STEPS = {"edgewise": 1, "name": "steps", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "fit", "component": "ml.fit", "position": {"x": 320, "y": 60},
     "params": {"target": "target", "steps": [
         {"estimator": "sklearn.svm.SVC"},
         {"estimator": "sklearn.preprocessing.StandardScaler"}]}}],
    "edges": [{"source": "load.data", "target": "fit.data"}]}


def test_pipeline_steps_are_reordered_and_added(shared_server: Any,
                                                 page: Any) -> None:
    path = shared_server.workspace / "steps.json"
    path.write_text(json.dumps(STEPS))
    server = shared_server
    page.goto(server.url + "/flow/steps.json")
    page.locator(NODE.format("fit") + " .ew-title").click()
    rows = page.get_by_test_id("step-row")
    expect(rows).to_have_count(2)
    expect(page.locator('[data-param-error="steps"]')).to_contain_text(
        "SVC has no transform, so it can only be the last step")

    rows.nth(1).get_by_test_id("row-up").click()  # the scaler first
    expect(rows.nth(0).get_by_test_id("step-estimator")).to_have_value(
        re.compile("StandardScaler"))
    expect(page.locator('[data-param-error="steps"]')).to_have_text("")
    assert saved_params(page, path, "fit")["steps"] == [
        {"estimator": "sklearn.preprocessing.StandardScaler"}, {"estimator": "sklearn.svm.SVC"}]

    page.get_by_test_id("step-add").click()
    expect(rows).to_have_count(3)
    pick(page, rows.nth(2).get_by_test_id("step-estimator"), "PCA")
    expect(rows.nth(2).get_by_test_id("step-estimator")).to_have_value(
        re.compile(r"^PCA — sklearn\.decomposition\b"))
    rows.nth(2).get_by_test_id("row-up").click()
    expect(rows.nth(1).get_by_test_id("step-estimator")).to_have_value(re.compile("^PCA "))
    rows.nth(1).get_by_test_id("step-options").click()
    tol = rows.nth(1).locator('[data-option="tol"]')
    tol.fill("0.5")
    tol.press("Tab")
    steps = saved_params(page, path, "fit")["steps"]
    assert steps == [{"estimator": "sklearn.preprocessing.StandardScaler"},
                     {"estimator": "sklearn.decomposition.PCA", "options": {"tol": 0.5}},
                     {"estimator": "sklearn.svm.SVC"}]
    assert page.js_errors == []


GROUPS = {"edgewise": 1, "name": "groups", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "g", "component": "frame.groupby", "position": {"x": 320, "y": 60},
     "params": {"by": "target", "aggregations": {"n": ["sepal length (cm)", "count"]}}}],
    "edges": [{"source": "load.data", "target": "g.data"}]}


def test_group_columns_from_the_probe_and_aggregation_rows(
        shared_server: Any, page: Any) -> None:
    path = shared_server.workspace / "groups.json"
    path.write_text(json.dumps(GROUPS))
    server = shared_server
    page.goto(server.url + "/flow/groups.json")
    page.locator(NODE.format("g") + " .ew-title").click()
    by = page.locator('[data-column-param="by"]')
    expect(by).to_have_attribute("data-columns", "5")  # iris's columns, known before a run
    pick(page, by, "sepal w", "sepal width (cm)")
    assert saved_params(page, path, "g")["by"] == ["target", "sepal width (cm)"]
    pick(page, by, "petal lenght (cm)")  # typed, not listed: taken, and its error shown
    expect(page.locator('[data-param-error="by"]')).to_contain_text(
        "no column 'petal lenght (cm)' in the data reaching input 'data'")
    by.locator("xpath=ancestor::label").locator(".q-chip", has_text="lenght").locator(
        ".q-chip__icon--remove").click()
    expect(page.locator('[data-param-error="by"]')).to_have_text("")
    assert saved_params(page, path, "g", edited=False)["by"] == ["target", "sepal width (cm)"]

    rows = page.get_by_test_id("mapping-row")
    expect(rows).to_have_count(1)
    page.get_by_test_id("mapping-add").click()
    expect(rows).to_have_count(2)
    raw = page.locator('textarea[data-param="aggregations"]')
    rows.nth(1).get_by_test_id("mapping-key").fill("m")
    expect(raw).to_have_value(re.compile(r'"m": null'))  # each edit shows in the JSON below
    rows.nth(1).get_by_test_id("mapping-column").fill("petal width (cm)")
    expect(raw).to_have_value(re.compile(r'"m": \[\s*"petal width \(cm\)",\s*null'))
    rows.nth(1).get_by_test_id("mapping-function").click()
    page.locator(".q-menu .q-item", has_text=re.compile("^mean$")).click()
    expect(raw).to_have_value(re.compile(r'"m": \[\s*"petal width \(cm\)",\s*"mean"'))
    rows.nth(1).get_by_test_id("row-up").click()
    expect(rows.nth(0).get_by_test_id("mapping-key")).to_have_value("m")
    aggregations = saved_params(page, path, "g")["aggregations"]
    assert list(aggregations.items()) == [("m", ["petal width (cm)", "mean"]),
                                          ("n", ["sepal length (cm)", "count"])]

    raw.fill('{"n": ["sepal length (cm)", "size"]}')  # the JSON below redraws the rows
    expect(rows).to_have_count(1)
    expect(rows.nth(0).get_by_test_id("mapping-function")).to_contain_text("size")
    assert page.js_errors == []


ROUTED = {"edgewise": 1, "name": "routed", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "r", "component": "frame.route", "position": {"x": 320, "y": 60},
     "params": {"routes": {"wide": "`sepal width (cm)` > 3"}}}],
    "edges": [{"source": "load.data", "target": "r.data"}]}
PORTS = NODE + " [data-testid=port][data-direction=out]"


def test_routes_are_rows_and_their_order_is_the_ports_order(
        shared_server: Any, page: Any) -> None:
    path = shared_server.workspace / "routed.json"
    path.write_text(json.dumps(ROUTED))
    server = shared_server
    page.goto(server.url + "/flow/routed.json")
    page.locator(NODE.format("r") + " .ew-title").click()
    rows = page.get_by_test_id("mapping-row")
    expect(rows).to_have_count(1)
    page.get_by_test_id("mapping-add").click()
    rows.nth(1).get_by_test_id("mapping-key").fill("long")
    rows.nth(1).get_by_test_id("mapping-value").fill("`sepal length (cm)` > 6")
    rows.nth(1).get_by_test_id("mapping-value").press("Tab")
    ports = page.locator(PORTS.format("r"))
    expect(ports).to_have_count(4)  # wide, long, otherwise and error
    rows.nth(1).get_by_test_id("row-up").click()
    expect(ports.first).to_have_attribute("data-port", "r.long")
    routes = saved_params(page, path, "r")["routes"]
    assert list(routes.items()) == [("long", "`sepal length (cm)` > 6"),
                                    ("wide", "`sepal width (cm)` > 3")]

    rows.nth(0).get_by_test_id("mapping-value").fill("`sepal lenght (cm)` > 6")
    expect(page.locator('[data-param-error="routes"]')).to_contain_text(
        "did you mean 'sepal length (cm)'?")
    assert page.js_errors == []


SEARCH = {"edgewise": 1, "name": "search", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "s", "component": "ml.search", "position": {"x": 320, "y": 60},
     "params": {"estimator": LOGISTIC, "target": "target", "grid": {"C": [0.1, 1]}}}],
    "edges": [{"source": "load.data", "target": "s.data"}]}


def test_a_grid_is_rows_of_values_or_a_list_of_grids_in_json(
        shared_server: Any, page: Any) -> None:
    path = shared_server.workspace / "search.json"
    path.write_text(json.dumps(SEARCH))
    server = shared_server
    page.goto(server.url + "/flow/search.json")
    page.locator(NODE.format("s") + " .ew-title").click()
    rows = page.get_by_test_id("mapping-row")
    expect(rows).to_have_count(1)
    expect(rows.nth(0).get_by_test_id("mapping-key")).to_have_value("C")
    expect(rows.nth(0).get_by_test_id("mapping-value")).to_have_value("[0.1, 1]")
    rows.nth(0).get_by_test_id("mapping-value").fill("[0.1, 1, 10]")
    page.get_by_test_id("mapping-add").click()
    rows.nth(1).get_by_test_id("mapping-key").fill("max_iter")
    rows.nth(1).get_by_test_id("mapping-value").fill("[500]")
    rows.nth(1).get_by_test_id("mapping-value").press("Tab")
    assert saved_params(page, path, "s")["grid"] == {"C": [0.1, 1, 10], "max_iter": [500]}

    grids = [{"C": [1]}, {"C": [2], "max_iter": [300]}]
    page.locator('textarea[data-param="grid"]').fill(json.dumps(grids))
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    assert saved_params(page, path, "s")["grid"] == grids
    assert page.js_errors == []


TREE = "sklearn.tree.DecisionTreeClassifier"
CONTEST = {"edgewise": 1, "name": "contest", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "e", "component": "ml.evaluate", "position": {"x": 320, "y": 60},
     "params": {"target": "target", "estimators": [
         {"name": "lr", "estimator": LOGISTIC},
         {"name": "tree", "estimator": TREE, "options": {"max_depth": 3}}]}}],
    "edges": [{"source": "load.data", "target": "e.data"}]}


def test_named_estimators_are_rows_with_names(shared_server: Any,
                                              page: Any) -> None:
    path = shared_server.workspace / "contest.json"
    path.write_text(json.dumps(CONTEST))
    server = shared_server
    page.goto(server.url + "/flow/contest.json")
    page.locator(NODE.format("e") + " .ew-title").click()
    rows = page.get_by_test_id("step-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_test_id("step-name")).to_have_value("tree")
    rows.nth(1).get_by_test_id("step-name").fill("lr")
    expect(page.locator('[data-param-error="estimators"]')).to_contain_text(
        "'lr' is used twice")
    rows.nth(1).get_by_test_id("step-name").fill("dt")
    expect(page.locator('[data-param-error="estimators"]')).to_have_text("")
    rows.nth(1).get_by_test_id("row-up").click()
    expect(rows.nth(0).get_by_test_id("step-name")).to_have_value("dt")
    assert saved_params(page, path, "e")["estimators"] == [
        {"name": "dt", "estimator": TREE, "options": {"max_depth": 3}},
        {"name": "lr", "estimator": LOGISTIC}]
    assert page.js_errors == []
