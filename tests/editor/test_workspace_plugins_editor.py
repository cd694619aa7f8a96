"""The plugins/ loop in real Chromium: write a file, see it in the palette, run it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

import runtime

NODE = '[data-testid=node][data-node-id="{}"]'
SHOUT = '''"""A workspace plugin."""
from runtime import component


@component("demo.shout", inputs={"data": "Any"}, outputs={"data": "Any"})
def shout(data):
    """Add a mark to a text."""
    return f"{data}{MARK}"


MARK = "!"
'''


def write(workspace: Path, marker: Path) -> dict[str, Any]:
    plugins = workspace / "plugins"
    plugins.mkdir()
    (plugins / "shout.py").write_text(
        f"open({str(marker)!r}, 'a').write('i')\n" + SHOUT, encoding="utf-8")
    (plugins / "broken.py").write_text("x = 1\n\nraise ValueError('half done')\n",
                                       encoding="utf-8")
    flow = {"edgewise": 1, "name": "shout", "nodes": [
        {"id": "numbers", "component": "stream.range", "params": {"count": 2},
         "position": {"x": 40, "y": 60}},
        {"id": "loud", "component": "demo.shout", "position": {"x": 300, "y": 60}},
        {"id": "show", "component": "debug", "position": {"x": 560, "y": 60}}],
        "edges": [{"source": "numbers.data", "target": "loud.data"},
                  {"source": "loud.data", "target": "show.data"}]}
    for name in ("mine.json", "theirs.json"):
        (workspace / name).write_text(json.dumps({**flow, "name": name}), encoding="utf-8")
    return json.loads((workspace / "mine.json").read_text())


def test_a_trusted_flow_gets_the_plugins_in_its_palette_and_runs_them_afresh(
        server_factory: Any, workspace: Path, page: Any, tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    runtime.trust_flow(write(workspace, marker), workspace / "mine.json")
    server = server_factory(workspace)

    page.goto(server.url + "/flow/theirs.json")  # never trusted: plugins stay unimported
    expect(page.get_by_test_id("problems")).to_contain_text("unknown component 'demo.shout'")
    shout = page.locator('[data-testid=palette-item][data-component="demo.shout"]')
    expect(shout).to_have_count(0)
    assert not marker.exists()

    page.goto(server.url + "/flow/mine.json")
    expect(shout).to_have_count(1)
    expect(page.get_by_text("workspace plugin plugins/broken.py, line 3 failed to load: "
                            "ValueError: half done")).to_be_visible()
    expect(page.get_by_test_id("problems")).to_contain_text("No problems")
    (workspace / "plugins" / "shout.py").write_text(SHOUT.replace('"!"', '"?"'),
                                                    encoding="utf-8")
    page.get_by_test_id("run").click()

    expect(page.locator(NODE.format("show") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done", timeout=60_000)
    page.get_by_test_id("tab-debug").click()
    entries = page.get_by_test_id("debug-entry")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("'1?'")  # the edit took effect without a reload
