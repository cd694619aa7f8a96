"""The workspace: listing, reading and changing flow files, always inside one folder."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runtime
from editor.workspace import Workspace, WorkspaceError

FLOW = {"edgewise": 1, "name": "first flow", "nodes": [], "edges": []}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def ws(folder: Path) -> Workspace:
    return Workspace(folder)


def write_flow(path: Path, **changes: Any) -> None:
    path.write_text(json.dumps({**FLOW, **changes}), encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under a folder (links not followed) with its bytes."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[rel] = path.read_bytes()
        else:
            found[rel] = b"<dir>"
    return found


# -- list --------------------------------------------------------------------------------


def test_list_shows_flow_files_by_name_with_their_titles(ws: Workspace, folder: Path) -> None:
    write_flow(folder / "b.json", name="Second")
    write_flow(folder / "a.json", name="First")
    (folder / "notes.md").write_text("# not a flow")
    (folder / "data.csv").write_text("x,y\n1,2\n")
    (folder / "flow.json.bak").write_text("{}")
    (folder / ".hidden.json").write_text(json.dumps(FLOW))

    entries = ws.list()

    assert [(e.name, e.title) for e in entries] == [("a.json", "First"), ("b.json", "Second")]
    assert entries[0].modified == pytest.approx((folder / "a.json").stat().st_mtime)


def test_list_still_shows_a_flow_whose_json_is_broken(ws: Workspace, folder: Path) -> None:
    (folder / "broken.json").write_text('{"edgewise": 1, "name": ')
    (folder / "array.json").write_text("[1, 2]")
    (folder / "nameless.json").write_text('{"edgewise": 1, "name": 7}')

    assert [(e.name, e.title) for e in ws.list()] == [
        ("array.json", "array"), ("broken.json", "broken"), ("nameless.json", "nameless")]


def test_list_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert Workspace(tmp_path / "not-there").list() == []


def test_list_leaves_out_links_that_point_outside(ws: Workspace, folder: Path,
                                                  tmp_path: Path) -> None:
    write_flow(tmp_path / "secret.json", name="secret")
    (folder / "leak.json").symlink_to(tmp_path / "secret.json")
    write_flow(folder / "real.json")
    (folder / "alias.json").symlink_to("real.json")

    assert [e.name for e in ws.list()] == ["alias.json", "real.json"]


def test_list_leaves_out_a_folder_named_like_a_flow(ws: Workspace, folder: Path) -> None:
    write_flow(folder / "real.json")
    (folder / "archive.json").mkdir()

    assert [e.name for e in ws.list()] == ["real.json"]


def test_list_survives_a_dangling_link(ws: Workspace, folder: Path) -> None:
    write_flow(folder / "real.json")
    (folder / "dangling.json").symlink_to("deleted.json")

    assert [e.name for e in ws.list()] == ["real.json"]


# -- read and write ----------------------------------------------------------------------


def test_read_returns_the_text_and_adds_the_suffix(ws: Workspace, folder: Path) -> None:
    (folder / "iris.json").write_text('{"edgewise": 1}\n', encoding="utf-8")

    assert ws.read("iris.json") == '{"edgewise": 1}\n'
    assert ws.read("iris") == '{"edgewise": 1}\n'


def test_read_of_a_missing_flow_says_so(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="no flow 'gone.json'"):
        ws.read("gone.json")


def test_write_creates_the_folder_and_the_file(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "new" / "flows")

    path = ws.write("made.json", "hello\n")

    assert path == tmp_path / "new" / "flows" / "made.json"
    assert path.read_text() == "hello\n"
    assert ws.read("made.json") == "hello\n"


def test_write_replaces_the_content(ws: Workspace, folder: Path) -> None:
    (folder / "f.json").write_text("old")

    ws.write("f.json", "new")

    assert (folder / "f.json").read_text() == "new"
    assert sorted(os.listdir(folder)) == ["f.json"]


def test_write_json_saves_indented_json_that_reads_back(ws: Workspace, folder: Path) -> None:
    data = {**FLOW, "meta": {"editor": {"zoom": 1.5}}, "name": "ünïcode"}

    ws.write_json("flow.json", data)

    text = (folder / "flow.json").read_text(encoding="utf-8")
    assert json.loads(text) == data
    assert text.endswith("\n")
    assert '\n  "name"' in text


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp_file(
        ws: Workspace, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "f.json").write_text("the old content")

    def broken_replace(src: Any, dst: Any) -> None:
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        ws.write("f.json", "the new content")

    assert (folder / "f.json").read_text() == "the old content"
    assert sorted(os.listdir(folder)) == ["f.json"]


def test_a_save_goes_through_a_temporary_file_in_the_workspace(
        ws: Workspace, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "f.json").write_text("the old content")
    seen: list[tuple[Path, str, str]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        # at the moment of the rename, the target still holds the old content
        seen.append((Path(src), Path(src).read_text(), Path(dst).read_text()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    ws.write("f.json", "the new content")

    assert len(seen) == 1
    temp, temp_text, target_text = seen[0]
    assert temp.parent == folder
    assert temp.name != "f.json"
    assert (temp_text, target_text) == ("the new content", "the old content")
    assert not temp.exists()
    assert (folder / "f.json").read_text() == "the new content"


def test_a_save_keeps_the_permissions_of_the_file(ws: Workspace, folder: Path) -> None:
    path = folder / "private.json"
    path.write_text("old")
    path.chmod(0o600)
    (folder / "shared.json").write_text("old")
    (folder / "shared.json").chmod(0o664)

    ws.write("private.json", "new")
    ws.write("shared.json", "new")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "shared.json").stat().st_mode) == 0o664


def test_a_new_file_is_not_left_private_like_a_temp_file(ws: Workspace, folder: Path) -> None:
    ws.write("fresh.json", "{}")

    assert stat.S_IMODE((folder / "fresh.json").stat().st_mode) == 0o644


# -- create, rename, delete --------------------------------------------------------------


def test_create_makes_an_empty_valid_flow(ws: Workspace, folder: Path) -> None:
    assert ws.create("my-flow") == "my-flow.json"
    assert ws.create("titled.json", flow_name="A title") == "titled.json"

    data = json.loads((folder / "my-flow.json").read_text())
    assert data == {"edgewise": 1, "name": "my-flow", "nodes": [], "edges": []}
    assert runtime.validate(folder / "my-flow.json") == []
    assert [(e.name, e.title) for e in ws.list()] == [("my-flow.json", "my-flow"),
                                                      ("titled.json", "A title")]


def test_create_refuses_to_overwrite(ws: Workspace, folder: Path) -> None:
    (folder / "taken.json").write_text("precious")

    with pytest.raises(WorkspaceError, match="'taken.json' exists already"):
        ws.create("taken.json")
    with pytest.raises(WorkspaceError, match="exists already"):
        ws.create("taken")

    assert (folder / "taken.json").read_text() == "precious"


def test_rename_moves_the_file(ws: Workspace, folder: Path) -> None:
    write_flow(folder / "old.json", name="kept")

    assert ws.rename("old.json", "new") == "new.json"

    assert sorted(os.listdir(folder)) == ["new.json"]
    assert json.loads((folder / "new.json").read_text())["name"] == "kept"


def test_rename_refuses_to_overwrite(ws: Workspace, folder: Path) -> None:
    (folder / "a.json").write_text("A")
    (folder / "b.json").write_text("B")

    with pytest.raises(WorkspaceError, match="'b.json' exists already"):
        ws.rename("a.json", "b.json")

    assert (folder / "a.json").read_text() == "A"
    assert (folder / "b.json").read_text() == "B"


def test_rename_of_a_missing_flow_says_so(ws: Workspace, folder: Path) -> None:
    with pytest.raises(WorkspaceError, match="no flow 'ghost.json'"):
        ws.rename("ghost.json", "other.json")
    assert os.listdir(folder) == []


def test_delete_removes_the_file(ws: Workspace, folder: Path) -> None:
    write_flow(folder / "doomed.json")
    write_flow(folder / "kept.json")

    ws.delete("doomed")

    assert sorted(os.listdir(folder)) == ["kept.json"]
    with pytest.raises(WorkspaceError, match="no flow 'doomed.json'"):
        ws.delete("doomed.json")


# -- names that must be refused ----------------------------------------------------------

PLAIN = "use a plain file name"
CHARS = "use letters, digits"
OUTSIDE = "points outside the workspace"

BAD_NAMES = [
    ("../outside.json", PLAIN),
    ("..", PLAIN),
    (".", PLAIN),
    ("", PLAIN),
    ("sub/flow.json", PLAIN),
    ("/etc/passwd", PLAIN),
    ("..\\outside.json", PLAIN),
    ("a\\b.json", PLAIN),
    ("flow..json", PLAIN),
    (".hidden.json", CHARS),
    ("-rf.json", CHARS),
    ("what?.json", CHARS),
    ("semi;colon.json", CHARS),
    ("star*.json", CHARS),
    ("nul\x00.json", CHARS),
    ("tab\t.json", CHARS),
    ("leak.json", OUTSIDE),
    ("leak", OUTSIDE),
    ("chain.json", OUTSIDE),
    ("dangling-out.json", OUTSIDE),
]

OPERATIONS: dict[str, Callable[[Workspace, str], Any]] = {
    "path": lambda ws, name: ws.path(name),
    "read": lambda ws, name: ws.read(name),
    "write": lambda ws, name: ws.write(name, "overwritten"),
    "write_json": lambda ws, name: ws.write_json(name, FLOW),
    "create": lambda ws, name: ws.create(name),
    "rename from": lambda ws, name: ws.rename(name, "renamed.json"),
    "rename to": lambda ws, name: ws.rename("ok.json", name),
    "delete": lambda ws, name: ws.delete(name),
}


@pytest.fixture
def guarded(tmp_path: Path, folder: Path) -> Path:
    """A workspace with a normal flow and links leading out of it, next to a secret file."""
    (tmp_path / "outside.json").write_text("SECRET")
    (tmp_path / "passwd").write_text("SECRET")
    (folder / "ok.json").write_text("ok")
    (folder / "leak.json").symlink_to(tmp_path / "outside.json")
    (folder / "chain.json").symlink_to("leak.json")
    (folder / "dangling-out.json").symlink_to(tmp_path / "not-yet.json")
    return tmp_path


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(("name", "reason"), BAD_NAMES, ids=[repr(n) for n, _ in BAD_NAMES])
def test_every_operation_refuses_names_that_leave_the_workspace(
        guarded: Path, ws: Workspace, operation: str, name: str, reason: str) -> None:
    before = snapshot(guarded)

    with pytest.raises(WorkspaceError) as refused:
        OPERATIONS[operation](ws, name)

    message = str(refused.value)
    assert reason in message
    assert name in message
    assert snapshot(guarded) == before


@pytest.mark.parametrize("name", ["flow.json\n", "flow\n", "line\nbreak", "cr\r.json"])
def test_names_with_line_breaks_are_refused(ws: Workspace, folder: Path, name: str) -> None:
    with pytest.raises(WorkspaceError, match=CHARS):
        ws.write(name, "x")
    assert os.listdir(folder) == []


def test_links_that_stay_inside_are_allowed(ws: Workspace, folder: Path) -> None:
    (folder / "real.json").write_text("real")
    (folder / "alias.json").symlink_to("real.json")

    assert ws.read("alias.json") == "real"


@pytest.mark.parametrize("name", ["iris.json", "My Flow 2.json", "a_b-c.d.json", "x",
                                  "0start.json"])
def test_ordinary_names_are_accepted(ws: Workspace, folder: Path, name: str) -> None:
    created = ws.create(name)

    assert created.endswith(".json")
    assert (folder / created).is_file()
    assert created in [e.name for e in ws.list()]
