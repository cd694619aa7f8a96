"""The editor page's parts without a browser: the open flow, the selection, the run rule,
and production scripts that find elements by data attributes, not test ids."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import runtime
from editor.document import FlowDocument
from editor.flow_file import open_flow
from editor.page import EditorPage
from editor.run_actions import run_blocker
from editor.run_workers import Workers
from editor.selection import Selection
from editor.workspace import Workspace

EDITOR = Path(__file__).resolve().parents[2] / "editor"


def test_selection_tells_its_watchers_only_when_the_nodes_change() -> None:
    shown: list[tuple[list[str], list[str]]] = []
    told: list[list[str]] = []
    selection = Selection(lambda nodes, edges: shown.append((nodes, edges)))
    selection.when_nodes_change(lambda: told.append(list(selection.nodes)))

    selection.set(["a"], [])
    selection.set(["a"], ["a.x->b.y"])  # the same nodes: the form is not drawn again
    assert told == [["a"]]
    assert selection.single() == "a" and selection.edges == ["a.x->b.y"]
    assert shown == []  # set() comes from the canvas: nothing to send back

    selection.select(["a", "b"], [])  # from the page (a problem, new nodes): canvas too
    assert shown == [(["a", "b"], [])]
    assert told == [["a"], ["a", "b"]]
    assert selection.single() is None


def test_a_flow_file_opens_with_its_document_and_registry(tmp_path: Path) -> None:
    flow = {"edgewise": 1, "name": "tiny", "nodes": [
        {"id": "src", "component": "stream.range", "params": {}}],
        "edges": []}
    (tmp_path / "tiny.json").write_text(json.dumps(flow), encoding="utf-8")
    opened = open_flow(Workspace(tmp_path), "tiny.json")
    assert opened.load_error is None
    assert opened.doc.data == flow
    assert opened.registry.get("stream.range") is not None
    copy = opened.data()
    copy["nodes"].clear()  # a copy: later changes to it leave the document alone
    assert opened.doc.nodes


def test_a_file_that_is_no_flow_opens_empty_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    opened = open_flow(Workspace(tmp_path), "list.json")
    assert opened.load_error == "a flow file must hold a JSON object"
    assert opened.doc.data["nodes"] == [] and opened.doc.data["name"] == "list"
    assert not opened.plugins

    missing = open_flow(Workspace(tmp_path), "gone.json")
    assert missing.load_error and missing.doc.data["nodes"] == []


def test_nothing_runs_while_the_flow_has_problems() -> None:
    registry = runtime.default_registry()
    bad = {"edgewise": 1, "name": "bad", "nodes": [{"id": "x", "component": "no.such"}],
           "edges": []}
    workers = Workers(FlowDocument(bad, registry), lambda _state: None)
    problems = SimpleNamespace(problems=runtime.validate(bad, registry=registry))
    assert problems.problems
    assert run_blocker(workers, problems) == (  # type: ignore[arg-type]
        f"The flow has {len(problems.problems)} problem(s): see Problems.")
    problems.problems = []
    assert run_blocker(workers, problems) is None  # type: ignore[arg-type]


def test_the_page_is_composed_not_mixed_in() -> None:
    assert EditorPage.__bases__ == (object,)


def scripts(text: str) -> list[str]:
    """The selectors that code passes to querySelector, querySelectorAll and closest."""
    return re.findall(r"(?:querySelector(?:All)?|closest)\(\s*['\"]([^'\"]+)['\"]", text)


def test_production_python_finds_elements_by_data_attributes_not_test_ids() -> None:
    found: dict[str, list[str]] = {}
    roles_set: set[str] = set()
    for module in sorted(EDITOR.glob("*.py")):
        text = module.read_text(encoding="utf-8")
        found[module.name] = scripts(text)
        roles_set.update(re.findall(r'data-role="([^"]+)"', text))
    used = [(name, s) for name, selectors in found.items() for s in selectors]
    assert used  # the type-ahead and the layout scripts look elements up
    assert [u for u in used if "data-testid" in u[1]] == []
    roles_used = {m for _name, s in used for m in re.findall(r"data-role=\"?([\w-]+)", s)}
    assert roles_used and roles_used <= roles_set  # every role looked up is given


def test_every_editor_page_module_stays_small() -> None:
    parts = ["page", "run_actions", "kept_runs", "file_actions", "edit_actions", "params_panel",
             "problems_panel", "run_workers", "results_actions", "trust_actions", "sidebar",
             "selection", "flow_file", "graph_view", "annotations", "arrange_actions", "layout"]
    lengths: dict[str, Any] = {p: len((EDITOR / f"{p}.py").read_text(encoding="utf-8")
                                     .splitlines()) for p in parts}
    assert {p: n for p, n in lengths.items() if n > 400} == {}
