"""The params panel's scale-out section: replicas, ordered and resources, saved and checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.editor.pagekit import select_node

FLOW: dict[str, Any] = {"edgewise": 1, "name": "scale", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "q", "component": "frame.query", "params": {"expr": "`petal length (cm)` > 1"},
     "position": {"x": 300, "y": 60}},
    {"id": "all", "component": "stream.collect", "position": {"x": 560, "y": 60}},
    {"id": "show", "component": "debug", "position": {"x": 820, "y": 60}}],
    "edges": [{"source": "load.data", "target": "q.data"},
              {"source": "q.data", "target": "all.data"},
              {"source": "all.data", "target": "show.data"}]}


def field(page: Any, key: str) -> Any:
    """The input of one of the section's fields."""
    return page.locator(f'input[data-testid="scale-{key}"], '
                        f'[data-testid="scale-{key}"] input').first


def open_section(page: Any) -> None:
    page.get_by_test_id("scale-section").get_by_text("Scale-out (Ray engine)").click()
    expect(field(page, "replicas")).to_be_visible()


def test_replicas_are_saved_on_the_node_and_refused_on_a_stateful_one(
        server_factory: Any, workspace: Path, page: Any) -> None:
    path = workspace / "scale.json"
    path.write_text(json.dumps(FLOW, indent=2) + "\n")
    server = server_factory(workspace)
    page.goto(server.url + "/flow/scale.json")
    expect(page.get_by_test_id("node")).to_have_count(4)

    select_node(page, "q")
    open_section(page)
    expect(field(page, "replicas")).to_have_value("1")
    expect(page.get_by_test_id("scale-ordered")).to_be_hidden()
    field(page, "replicas").fill("2")
    expect(page.get_by_test_id("scale-ordered")).to_be_visible()
    page.get_by_test_id("scale-ordered").click()
    field(page, "num_cpus").fill("0.5")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")

    saved = json.loads(path.read_text())
    assert saved["nodes"][1] == {**FLOW["nodes"][1], "replicas": 2, "ordered": False,
                                 "resources": {"num_cpus": 0.5}}
    assert saved["nodes"][0] == FLOW["nodes"][0]
    assert saved["nodes"][2:] == FLOW["nodes"][2:]

    page.get_by_test_id("undo").click()  # the CPUs typed go, as a param's edit would
    expect(field(page, "num_cpus")).to_have_value("")
    expect(field(page, "replicas")).to_have_value("2")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    page.get_by_test_id("redo").click()
    expect(field(page, "num_cpus")).to_have_value("0.5")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")

    select_node(page, "all")
    open_section(page)
    field(page, "replicas").fill("2")
    expect(page.get_by_test_id("scale-error")).to_contain_text(
        "node 'all', replicas 2: a stateful component cannot be replicated; stream.collect")
    expect(page.locator('[data-testid=problem][data-node-id="all"]')).to_contain_text(
        "a stateful component cannot be replicated")
    field(page, "replicas").fill("1")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
    expect(page.get_by_test_id("scale-error")).to_have_text("")
