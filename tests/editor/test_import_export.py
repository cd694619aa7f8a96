"""Import and export of flow files: checked coming in, never overwriting, whole going out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import runtime
from editor.file_actions import ImportRefused, check_import, free_name
from editor.workspace import Workspace

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def iris_text() -> bytes:
    return (FLOWS / "iris.json").read_bytes()


@pytest.mark.parametrize(("name", "content", "says"), [
    ("notes.txt", b"{}", "not a .json flow file"),
    ("broken.json", b"{\"nodes\": [", "not valid JSON"),
    ("list.json", b"[1, 2]", "not an object"),
    ("other.json", b"{\"hello\": 1}", "is not a flow file"),
    ("latin.json", "{\"name\": \"caf\u00e9\"}".encode("latin-1"), "not valid JSON"),
])
def test_what_is_not_a_flow_is_refused(name: str, content: bytes, says: str) -> None:
    with pytest.raises(ImportRefused, match=says) as info:
        check_import(name, content, runtime.default_registry())
    assert name in str(info.value)


def test_a_flow_with_fixable_problems_is_imported() -> None:
    flow = json.loads(iris_text())
    flow["nodes"][0]["component"] = "no.such_component"
    flow["meta"] = {"comments": [{"id": "c1", "text": "kept", "x": 1, "y": 2}], "extra": [1]}
    data, problems = check_import("odd.json", json.dumps(flow).encode(),
                                  runtime.default_registry())
    assert data == flow  # nothing dropped, unknown keys in meta included
    assert any(p.code == "unknown-component" for p in problems)


def test_free_name_never_clashes(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    assert free_name(ws, "iris.json", "iris") == "iris.json"
    (tmp_path / "iris.json").write_text("{}")
    (tmp_path / "iris-2.json").write_text("{}")
    assert free_name(ws, "iris.json", "iris") == "iris-3.json"
    assert free_name(ws, "../../etc/pass wd?.json", "x") == "pass wd.json"
    assert free_name(ws, "???.json", "my flow") == "my flow.json"


def open_import(page: Any) -> None:
    page.get_by_test_id("file-menu").click()
    page.get_by_test_id("import-flow").click()
    expect(page.get_by_test_id("import-dialog")).to_be_visible()


def upload(page: Any, name: str, content: bytes) -> None:
    page.get_by_test_id("import-upload").locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/json", "buffer": content}])


def test_import_in_the_browser(server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    before = {p.name: p.read_bytes() for p in example_workspace.glob("*.json")}
    open_import(page)
    upload(page, "iris.json", b"{\"nodes\": ")
    expect(page.get_by_test_id("import-error")).to_contain_text("not valid JSON")
    assert {p.name: p.read_bytes() for p in example_workspace.glob("*.json")} == before
    # a good file whose name is taken comes in beside it; the original is untouched
    flow = json.loads(iris_text())
    flow["name"] = "imported iris"
    flow["meta"] = {"comments": [{"id": "c1", "text": "from elsewhere", "x": 0, "y": -80}]}
    upload(page, "iris.json", json.dumps(flow).encode())
    done = page.get_by_test_id("import-done")
    expect(done).to_have_attribute("data-flow", "iris-2.json")
    assert (example_workspace / "iris.json").read_bytes() == before["iris.json"]
    assert json.loads((example_workspace / "iris-2.json").read_text()) == flow
    page.get_by_test_id("import-open").click()
    expect(page.get_by_test_id("flow-title")).to_contain_text("imported iris")
    expect(page.get_by_test_id("node")).to_have_count(6)
    assert page.js_errors == []


def test_export_downloads_the_flow(server_factory: Any, example_workspace: Path,
                                  page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    # an unsaved edit is exported too: what the user sees is what they get
    page.locator('[data-testid=node][data-node-id="metrics"] .ew-title').click()
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node")).to_have_count(5)
    page.get_by_test_id("file-menu").click()
    with page.expect_download() as info:
        page.get_by_test_id("export-flow").click()
    download = info.value
    assert download.suggested_filename == "iris.json"
    exported = json.loads(Path(download.path()).read_text())
    original = json.loads(iris_text())
    assert [n["id"] for n in exported["nodes"]] == [n["id"] for n in original["nodes"]
                                                     if n["id"] != "metrics"]
    assert {k: v for k, v in exported.items() if k not in ("nodes", "edges")} == {
        k: v for k, v in original.items() if k not in ("nodes", "edges")}
    assert runtime.validate(exported) == []
