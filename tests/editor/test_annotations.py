"""Comments and groups: kept in the flow's meta with undo, drawn, moved, edited and saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

import runtime
from editor import annotations
from editor.document import FlowDocument
from tests.editor.waiting import eventually

FLOWS = Path(__file__).resolve().parents[2] / "flows"
NODE = '[data-testid=node][data-node-id="{}"]'


def iris() -> dict[str, Any]:
    return dict(json.loads((FLOWS / "iris.json").read_text()))


def test_meta_edits_undo_and_keep_other_keys() -> None:
    data = iris()
    data["meta"] = {"someone_else": {"keep": [1, 2]}}
    doc = FlowDocument(data, runtime.default_registry())
    comment = annotations.add_comment(doc, "look here", 10.4, 20.6)
    group = annotations.add_group(doc, "data", ["load", "split", "load"])
    assert annotations.canvas_notes(doc) == {
        "comments": [{"id": comment, "text": "look here", "x": 10, "y": 21}],
        "groups": [{"id": group, "label": "data", "nodes": ["load", "split"]}]}
    annotations.update_note(doc, "comment", comment, text="changed")
    assert annotations.note(doc, "comment", comment)["text"] == "changed"
    assert doc.data["meta"]["someone_else"] == {"keep": [1, 2]}
    assert doc.undo()
    assert annotations.note(doc, "comment", comment)["text"] == "look here"
    assert doc.undo() and doc.undo()
    assert doc.data["meta"] == {"someone_else": {"keep": [1, 2]}}
    assert not doc.dirty


def test_deleting_nodes_shrinks_their_groups_in_the_same_step() -> None:
    doc = FlowDocument(iris(), runtime.default_registry())
    annotations.add_group(doc, "data", ["load", "split"])
    annotations.add_group(doc, "model", ["fit"])
    doc.delete(["fit", "load"], [])
    assert doc.meta("groups") == [{"id": "group1", "label": "data", "nodes": ["split"]}]
    doc.undo()
    assert [g["nodes"] for g in doc.meta("groups")] == [["load", "split"], ["fit"]]
    annotations.delete_note(doc, "group", "group1")
    annotations.delete_note(doc, "group", "group2")
    assert "meta" not in doc.data  # nothing left: no empty meta in the file


def test_unreadable_entries_are_kept_but_not_drawn() -> None:
    data = iris()
    data["meta"] = {"comments": ["odd", {"id": "c", "text": "t", "x": "left"}],
                    "groups": [{"id": "g", "nodes": ["ghost"]}, 3]}
    doc = FlowDocument(data, runtime.default_registry())
    assert annotations.canvas_notes(doc) == {"comments": [], "groups": []}
    annotations.add_comment(doc, "new", 0, 0)
    assert doc.meta("comments")[:2] == ["odd", {"id": "c", "text": "t", "x": "left"}]


def test_the_runtime_keeps_meta(tmp_path: Path) -> None:
    data = iris()
    data["meta"] = {"comments": [{"id": "comment1", "text": "a\nb", "x": 1, "y": 2}],
                    "groups": [{"id": "group1", "label": "g", "nodes": ["load"]}]}
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    assert runtime.validate(path) == []
    assert json.loads(runtime.load(path).to_json_text())["meta"] == data["meta"]


def drag(page: Any, box: dict[str, float], dx: float, dy: float) -> None:
    x, y = box["x"] + 12, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=4)
    page.mouse.move(x + dx, y + dy, steps=4)
    page.mouse.up()


def body(page: Any, node_id: str) -> dict[str, float]:
    box = page.locator(NODE.format(node_id)).locator(".ew-body").bounding_box()
    assert box is not None
    return dict(box)


def dialog_text(page: Any, text: str) -> None:
    field = page.get_by_test_id("note-dialog").locator("textarea, input").first
    field.fill(text)
    page.get_by_test_id("note-ok").click()
    expect(page.get_by_test_id("note-dialog")).to_be_hidden()  # closed: the canvas is free


def _near(a: float, b: float, within: float) -> None:
    assert abs(a - b) < within, (a, b)


def test_comments_in_the_browser(shared_server: Any, page: Any) -> None:
    workspace = shared_server.workspace  # iris, under a name of this test's own
    (workspace / "comments.json").write_text((FLOWS / "iris.json").read_text())
    server = shared_server
    page.goto(server.url + "/flow/comments.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("add-comment").click()
    dialog_text(page, "check the split\nstratified")
    comment = page.get_by_test_id("comment")
    expect(comment).to_have_count(1)
    expect(comment.get_by_test_id("comment-text")).to_contain_text("check the split")
    expect(comment.locator("tspan")).to_have_count(2)
    # moved by dragging; one undo puts it back
    before = comment.bounding_box()
    drag(page, before, 120, 60)
    def moved() -> None:
        after = comment.bounding_box()
        assert after["x"] - before["x"] > 80 and after["y"] - before["y"] > 40
    eventually(page, moved)
    page.get_by_test_id("undo").click()
    eventually(page, lambda: _near(comment.bounding_box()["x"], before["x"], 2))
    page.get_by_test_id("redo").click()
    # edited by a double click
    comment.dblclick()
    dialog_text(page, "use 25% for test")
    expect(comment.get_by_test_id("comment-text")).to_have_text("use 25% for test")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    saved = json.loads((workspace / "comments.json").read_text())["meta"]["comments"]
    assert [c["text"] for c in saved] == ["use 25% for test"]
    # deleted, undone, and reloaded from the file
    comment.dblclick()
    page.get_by_test_id("note-delete").click()
    expect(comment).to_have_count(0)
    page.get_by_test_id("undo").click()
    expect(comment).to_have_count(1)
    page.reload()
    expect(page.get_by_test_id("comment-text")).to_have_text("use 25% for test")
    assert page.js_errors == []


def test_groups_in_the_browser(shared_server: Any, page: Any) -> None:
    workspace = shared_server.workspace  # iris, under a name of this test's own
    (workspace / "groups.json").write_text((FLOWS / "iris.json").read_text())
    server = shared_server
    page.goto(server.url + "/flow/groups.json")
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("group-selection").click()  # nothing selected: it says what to do
    expect(page.get_by_text("Select the nodes to group first")).to_be_visible()
    page.locator(NODE.format("load")).locator(".ew-title").click()
    page.locator(NODE.format("split")).locator(".ew-title").click(modifiers=["Shift"])
    page.get_by_test_id("group-selection").click()
    dialog_text(page, "data")
    group = page.get_by_test_id("group")
    expect(group).to_have_attribute("data-nodes", "load split")
    expect(group.get_by_test_id("group-label")).to_have_text("data")
    # the box surrounds its nodes
    box = group.locator(".ew-group-body").bounding_box()
    for node_id in ("load", "split"):
        b = body(page, node_id)
        assert box["x"] < b["x"] and b["x"] + b["width"] < box["x"] + box["width"]
        assert box["y"] < b["y"] and b["y"] + b["height"] < box["y"] + box["height"]
    # dragging the title bar moves its nodes, not the others; one undo step
    load, split, fit = body(page, "load"), body(page, "split"), body(page, "fit")
    drag(page, group.get_by_test_id("group-bar").bounding_box(), 60, 90)
    def group_moved() -> None:
        for node_id, was in (("load", load), ("split", split)):
            now = body(page, node_id)
            assert now["x"] - was["x"] > 40 and now["y"] - was["y"] > 60, node_id
    eventually(page, group_moved)
    assert abs(body(page, "fit")["x"] - fit["x"]) < 1
    page.get_by_test_id("undo").click()
    eventually(page, lambda: _near(body(page, "load")["x"], load["x"], 1))
    # relabelled, saved and reloaded; ungrouping keeps the nodes
    group.get_by_test_id("group-bar").dblclick()
    dialog_text(page, "load and split")
    expect(group.get_by_test_id("group-label")).to_have_text("load and split")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("flow-title")).to_have_attribute("data-dirty", "false")
    page.reload()
    expect(page.get_by_test_id("group-label")).to_have_text("load and split")
    page.get_by_test_id("group-bar").dblclick()
    page.get_by_test_id("note-delete").click()
    expect(page.get_by_test_id("group")).to_have_count(0)
    expect(page.get_by_test_id("node")).to_have_count(6)
    assert page.js_errors == []
