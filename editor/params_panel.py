"""The Params tab: the form of the selected node, its validation problems and its last error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

import runtime
import runtime.runs
from editor.column_picker import columns_for
from editor.flow_file import OpenFlow
from editor.known_fields import KnownFields
from editor.node_errors import NodeErrors
from editor.node_face import face_text
from editor.params_form import ParamsForm, RawParamsForm
from editor.runs_panel import RunsPanel
from editor.scale_section import ScaleSection
from editor.selection import Selection

FIELD_PROBLEMS = ("param", "missing-file", "unknown-column")


class ColumnContext:
    """Where a params form's column pickers look: the flow, and the kept run shown or newest."""

    def __init__(self, flow: OpenFlow, runs: RunsPanel,
                 past: Callable[[], runtime.runs.RunStore | None]) -> None:
        """Look at one page's flow and kept runs (``past``: the kept run shown, if any)."""
        self.doc = flow.doc
        self.registry = flow.registry
        self.workspace = flow.workspace
        self.runs = runs
        self._past = past

    @property
    def past(self) -> runtime.runs.RunStore | None:
        """The kept run shown on the canvas, or None while live."""
        return self._past()


class ParamsPanel:
    """Shows the form of the one selected node; its edits go to the document."""

    def __init__(self, flow: OpenFlow, selection: Selection, box: ui.column,
                 node_errors: NodeErrors, columns: ColumnContext, *,
                 problems: Callable[[], list[runtime.Problem]],
                 set_label: Callable[[str, str], None], redraw: Callable[[], None],
                 changed: Callable[[], None], save: Callable[[], Awaitable[None]]) -> None:
        """Show the params of one page's selected node in ``box``.

        Args:
            flow: the page's flow.
            selection: the page's selection.
            box: where the form goes.
            node_errors: what the nodes of the run shown failed with.
            columns: where the column pickers look.
            problems: the flow's validation problems now.
            set_label: sets a node's label.
            redraw: sends the whole graph to the canvas and validates again.
            changed: updates the title and validates again.
            save: saves the flow (Ctrl+S in the form).
        """
        self.doc = flow.doc
        self.selection = selection
        self.box = box
        self.node_errors = node_errors
        self.columns = columns
        self.problems = problems
        self.set_label = set_label
        self.redraw = redraw
        self.changed = changed
        self.save = save
        self.form: ParamsForm | RawParamsForm | None = None
        self.scale: ScaleSection | None = None
        self.error_box: ui.column | None = None

    def render(self) -> None:
        """Show the form of the selected node."""
        self.box.clear()
        self.form = None
        self.scale = None
        self.error_box = None
        nodes = self.selection.nodes
        with self.box:
            if len(nodes) != 1 or self.doc.node(nodes[0]) is None:
                ui.label("Select a node to edit its params." if not nodes else
                         f"{len(nodes)} nodes selected.").classes("text-grey-7").props(
                    'data-testid="params-form"')
                return
            node = self.doc.node(nodes[0])
            assert node is not None  # noqa: S101 - checked above
            node_id = str(node["id"])
            spec = self.doc.spec(node)
            ui.label(node_id).classes("text-subtitle1 font-mono").props(
                'data-testid="params-node"')
            ui.label(str(node.get("component"))).classes("text-caption text-grey-7")
            self.error_box = ui.column().classes("w-full gap-0")
            self.show_node_error()
            label = ui.input("label", value=node.get("label", "")).props(
                'dense data-param="label"').classes("w-full")
            label.on_value_change(lambda e: self.set_label(node_id, e.value or ""))
            params = node.get("params") if isinstance(node.get("params"), dict) else {}
            if spec is None:
                self.form = RawParamsForm(params or {}, lambda p: self.set_params(node_id, p))
            else:
                # plain text: docstrings are not markdown (train_test_split is no italics)
                ui.label(spec.doc.split("\n\n")[0]).classes("text-caption text-grey-8").props(
                    'data-testid="params-doc"')
                self.form = ParamsForm(spec.params_model.model_json_schema(), params or {},
                                       lambda p: self.set_params(node_id, p),
                                       on_save=self.save,
                                       columns=columns_for(self.columns, node_id, spec))
            self.scale = ScaleSection(self.doc, node_id, self.changed)
        self.render_errors()

    def render_errors(self) -> None:
        """Show validation problems of the selected node next to its fields."""
        if self.form is None or len(self.selection.nodes) != 1:
            return
        node = self.selection.nodes[0]
        errors: dict[str, str] = {}
        for problem in self.problems():
            if problem.node == node and problem.code in FIELD_PROBLEMS:
                errors[problem.param or "*"] = problem.message
        self.form.show_errors(errors)
        if self.scale is not None:
            self.scale.show_errors(self.problems())

    def show_node_error(self) -> None:
        """Show the last error of the selected node above its params, if it failed."""
        if self.error_box is not None:
            self.node_errors.render(self.error_box, self.selection.single() or "")

    def refresh_columns(self) -> None:
        """A run ended: the open form's column pickers list the run's columns."""
        if isinstance(self.form, KnownFields):
            self.form.refresh_columns()

    def set_params(self, node_id: str, params: dict[str, Any]) -> None:
        """A param was edited; a node whose ports follow its params is drawn again."""
        before = self.doc.node(node_id)
        face = face_text(str(before.get("component")), before.get("params")) if before else ""
        self.doc.set_params(node_id, params)
        node = self.doc.node(node_id)
        if node is not None and (self.doc.dynamic(node) or face != face_text(
                str(node.get("component")), node.get("params"))):  # its face changed
            self.redraw()
        else:
            self.changed()
