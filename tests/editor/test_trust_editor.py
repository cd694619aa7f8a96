"""The trust rule in the editor: foreign code is shown and asked about before it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from codeplugin import install, plugin_env
from playwright.sync_api import expect

from runtime._trust import TrustStore

NODE = '[data-testid=node][data-node-id="{}"]'


def with_plugin(tmp_path: Path) -> dict[str, str]:
    return plugin_env(install(tmp_path / "site"))


def code_flow(workspace: Path, marker: Path) -> Path:
    flow = {"edgewise": 1, "name": "has-code", "nodes": [
        {"id": "shell", "component": "codetest.exec",
         "params": {"code": f"open({str(marker)!r}, 'w').write('ran')"},
         "position": {"x": 60, "y": 60}},
        {"id": "count", "component": "stream.count", "position": {"x": 320, "y": 60}}],
        "edges": [{"source": "shell.data", "target": "count.data"}]}
    path = workspace / "code.json"
    path.write_text(json.dumps(flow, indent=2))
    return path


def trust_check(path: Path, env: dict[str, str]) -> int:
    return subprocess.run([sys.executable, "-m", "runtime.cli", "trust", "--check", str(path)],
                          env=os.environ | env, capture_output=True, timeout=60).returncode


def wait_for(path: Path, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.2)
    return False


def test_foreign_code_is_shown_and_runs_only_when_the_user_trusts_it(
        server_factory: Any, workspace: Path, page: Any, tmp_path: Path) -> None:
    env = with_plugin(tmp_path)
    marker = tmp_path / "ran.txt"
    flow = code_flow(workspace, marker)
    server = server_factory(workspace, env=env)

    page.goto(f"{server.url}/flow/code.json")
    expect(page.locator(NODE.format("shell"))).to_be_visible()
    expect(page.get_by_test_id("trust-badge")).to_contain_text("untrusted code (1)")

    page.get_by_test_id("run").click()
    dialog = page.get_by_test_id("trust-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("trust-node")).to_have_text("node 'shell' (codetest.exec)")
    expect(dialog).to_contain_text("write('ran')")  # the code itself is shown
    dialog.get_by_test_id("trust-cancel").click()
    expect(dialog).to_be_hidden()
    time.sleep(1.5)
    assert not marker.exists()
    assert trust_check(flow, env) == 1

    page.get_by_test_id("run").click()
    page.get_by_test_id("trust-dialog").get_by_test_id("trust-run").click()
    assert wait_for(marker), server.output()
    expect(page.get_by_test_id("trust-badge")).to_be_hidden()
    assert trust_check(flow, env) == 0  # the same content now runs from the CLI too


def test_a_trusted_flow_runs_without_asking_and_saving_it_keeps_it_trusted(
        server_factory: Any, workspace: Path, page: Any, tmp_path: Path) -> None:
    env = with_plugin(tmp_path)
    marker = tmp_path / "ran.txt"
    flow = code_flow(workspace, marker)
    TrustStore().trust(json.loads(flow.read_text()), flow)
    server = server_factory(workspace, env=env)

    page.goto(f"{server.url}/flow/code.json")
    expect(page.locator(NODE.format("count"))).to_be_visible()
    expect(page.get_by_test_id("trust-badge")).to_be_hidden()
    page.get_by_test_id("run").click()
    assert wait_for(marker), server.output()
    expect(page.get_by_test_id("trust-dialog")).to_have_count(0)

    page.locator(NODE.format("count")).locator(".ew-title").click()
    page.keyboard.press("Delete")
    expect(page.locator(NODE.format("count"))).to_have_count(0)
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = json.loads(flow.read_text())
    assert [n["id"] for n in saved["nodes"]] == ["shell"]
    assert trust_check(flow, env) == 0
