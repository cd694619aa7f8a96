"""The params form shows a python.function node's code in a code editor, in real Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

NODE = '[data-testid=node][data-node-id="{}"]'
CODE = "def process(data, params):\n    return data\n"
EDITED = "def process(data, params):\n    return data * params['factor']\n"


def test_code_is_edited_in_a_code_editor_and_saved_with_ctrl_s(
        server_factory: Any, workspace: Path, page: Any) -> None:
    flow = {"edgewise": 1, "name": "function", "nodes": [
        {"id": "numbers", "component": "stream.range", "params": {"count": 3},
         "position": {"x": 40, "y": 60}},
        {"id": "fn", "component": "python.function",
         "params": {"code": CODE, "config": {"factor": 2}}, "position": {"x": 320, "y": 60}}],
        "edges": [{"source": "numbers.data", "target": "fn.data"}]}
    path = workspace / "function.json"
    path.write_text(json.dumps(flow))
    server = server_factory(workspace)
    page.goto(server.url + "/flow/function.json")

    page.locator(NODE.format("fn") + " .ew-title").click()
    expect(page.get_by_test_id("params-node")).to_have_text("fn")
    editor = page.get_by_test_id("code-editor")
    expect(editor).to_be_visible()
    content = editor.locator(".cm-content")
    expect(content).to_contain_text("return data")
    expect(editor.locator(".cm-lineNumbers")).to_be_visible()  # a code editor, not a text box

    content.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("def process(data, params):\n    return (data\n")
    expect(page.locator('[data-param-error="code"]')).to_contain_text(
        re.compile(r"syntax error at line 2, column 12"))
    expect(page.locator(NODE.format("fn"))).to_have_class(re.compile("problem"))

    page.keyboard.press("Control+a")
    page.keyboard.insert_text(EDITED)
    expect(page.locator('[data-param-error="code"]')).to_have_text("")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "true")
    page.keyboard.press("Control+s")  # inside the code editor

    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = json.loads(path.read_text())
    node = next(n for n in saved["nodes"] if n["id"] == "fn")
    assert node["params"] == {"code": EDITED, "config": {"factor": 2}}
    assert page.js_errors == []
