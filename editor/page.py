"""One editor page: a flow on the canvas, with palette, params, problems, runs and inspector."""

from __future__ import annotations

import json
import queue
from pathlib import Path
from typing import Any

from nicegui import run, ui

import runtime
from editor.annotations import AnnotationActions, canvas_notes
from editor.arrange_actions import ArrangeActions
from editor.canvas import FlowCanvas
from editor.column_picker import columns_for
from editor.document import FlowDocument
from editor.edit_actions import EditActions
from editor.file_actions import FileActions, keeps_typed_keys
from editor.layout import HEADER, Layout
from editor.node_errors import NodeErrors
from editor.node_face import face_text
from editor.node_status import RunFacts
from editor.panels import DebugPanel, Inspector
from editor.params_form import ParamsForm, RawParamsForm
from editor.run_actions import RunActions
from editor.runs_panel import RunsPanel
from editor.trust_actions import TrustActions
from editor.worker import Message, RunWorker
from editor.workspace import Workspace, WorkspaceError

WORKER_DELAY = 2.0  # seconds after the page is built
PUSH_INTERVAL = 0.1  # seconds: labels and states reach the browser at most 10 times a second


def _layout(doc: FlowDocument) -> dict[str, tuple[float, float]]:
    """Positions for nodes that have none: columns by depth, in file order."""
    depth: dict[str, int] = {}
    ids = [str(n.get("id")) for n in doc.nodes]
    parents: dict[str, list[str]] = {i: [] for i in ids}
    for e in doc.edges:
        src, dst = str(e.get("source", "")).split(".")[0], str(e.get("target", "")).split(".")[0]
        if dst in parents and src in parents:
            parents[dst].append(src)

    def level(node: str, seen: frozenset[str] = frozenset()) -> int:
        if node not in depth:
            depth[node] = 1 + max((level(p, seen | {node}) for p in parents[node]
                                   if p not in seen), default=-1)
        return depth[node]

    rows: dict[int, int] = {}
    places: dict[str, tuple[float, float]] = {}
    for node in ids:
        col = level(node)
        row = rows.get(col, 0)
        rows[col] = row + 1
        places[node] = (60 + col * 240, 60 + row * 150)
    return places


def catalog(registry: runtime.Registry) -> dict[str, Any]:
    """Title, docs and ports of every component, sent to the browser once per page.

    The ports of a component whose ports depend on its params are those of the default
    params; each node of it carries its own (see ``canvas_graph``).
    """
    return {spec.id: {"title": spec.title, "doc": spec.doc,
                      "inputs": [p.to_json() for p in spec.inputs.values()],
                      "outputs": [p.to_json() for p in spec.outputs.values()],
                      "dynamic_sides": spec.dynamic_sides}
            for spec in registry}


def _edge_ports(doc: FlowDocument, node_id: str) -> tuple[list[str], list[str]]:
    """The input and output ports that the document's edges use on a node."""
    ins = {str(e.get("target")).split(".", 1)[-1] for e in doc.edges
           if str(e.get("target", "")).split(".")[0] == node_id}
    outs = {str(e.get("source")).split(".", 1)[-1] for e in doc.edges
            if str(e.get("source", "")).split(".")[0] == node_id}
    return sorted(ins), sorted(outs)


def _own_ports(doc: FlowDocument, node: dict[str, Any],
               spec: runtime.ComponentSpec) -> dict[str, Any]:
    """The ports of a node whose ports depend on its params.

    While its params are invalid, the last ports worked out for it; failing that, the
    component's default ports and any port that an edge uses, so that every edge is drawn.
    """
    ports = doc.ports(node)
    if ports is not None:
        return ports
    node_id = str(node.get("id"))
    ins, outs = _edge_ports(doc, node_id)
    inputs = [p.to_json() for p in spec.inputs.values()]
    outputs = [p.to_json() for p in spec.outputs.values()]
    inputs += [{"name": p, "type": "Any", "mode": "stream"} for p in ins
               if p not in spec.inputs]
    outputs += [{"name": p, "type": "Any", "mode": "stream"} for p in outs
                if p not in spec.outputs]
    return {"inputs": inputs, "outputs": outputs}


def canvas_graph(doc: FlowDocument) -> dict[str, Any]:
    """The graph as the canvas draws it: nodes (ports from the catalogue), and edges.

    A node whose ports depend on its params carries its own ports; a node with a key param
    carries it as its ``face`` (see editor/node_face.py).
    """
    places = _layout(doc)
    nodes = []
    for node in doc.nodes:
        node_id = str(node.get("id"))
        spec = doc.spec(node)
        pos = node.get("position") if isinstance(node.get("position"), dict) else None
        x, y = (pos.get("x", 0), pos.get("y", 0)) if pos else places.get(node_id, (0, 0))
        extra: dict[str, Any] = {}
        if spec is not None and spec.dynamic_sides:
            extra = _own_ports(doc, node, spec)
        if spec is None:
            ins, outs = _edge_ports(doc, node_id)
            extra = {
                "inputs": [{"name": p, "type": "Any", "mode": "stream"} for p in ins],
                "outputs": [{"name": p, "type": "Any", "mode": "stream"} for p in outs],
                "title": f"unknown component '{node.get('component')}'",
                "doc": "This install does not have this component; the node is kept as it is.",
            }
        nodes.append({"id": node_id, "component": str(node.get("component")),
                      "label": node.get("label") or "", "x": x, "y": y,
                      "face": face_text(str(node.get("component")), node.get("params", {})),
                      "unknown": spec is None, **extra})
    edges = [{"id": f"{e.get('source')}->{e.get('target')}", "source": str(e.get("source")),
              "target": str(e.get("target"))} for e in doc.edges]
    return {"nodes": nodes, "edges": edges, "notes": canvas_notes(doc)}


class EditorPage(EditActions, TrustActions, FileActions, RunActions, ArrangeActions,
                 AnnotationActions):
    """Builds and drives the editor for one flow file, for one browser tab."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name
        self.registry = runtime.default_registry()
        self.worker: RunWorker | None = None
        self.standby: RunWorker | None = None
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.pending_labels: dict[str, dict[str, Any]] = {}
        self.pending_states: dict[str, dict[str, Any]] = {}
        self.shown_states: dict[str, dict[str, Any]] = {}
        self.stopping = False
        self.problems: list[runtime.Problem] = []
        self.selection: dict[str, list[str]] = {"nodes": [], "edges": []}
        self.clipboard: dict[str, Any] = {}
        self.form: ParamsForm | RawParamsForm | None = None
        self.inspected: str | None = None
        self.node_errors = NodeErrors()
        self.facts = RunFacts({})
        self.node_error_box: ui.column | None = None
        self.past: runtime.RunStore | None = None
        self.closed = False
        self.seen_debug: dict[str, Any] | None = None
        self.canvas: FlowCanvas
        self.load_error: str | None = None
        data: dict[str, Any] = {"edgewise": 1, "name": Path(name).stem, "nodes": [], "edges": []}
        try:
            loaded = json.loads(workspace.read(name))
            if not isinstance(loaded, dict):
                raise ValueError("a flow file must hold a JSON object")  # noqa: EM101
            data = loaded
        except (WorkspaceError, ValueError) as exc:
            self.load_error = str(exc)
        # plugins/ beside the flows is code: imported only for a flow the user trusted
        self.plugins = self.load_error is None and runtime.flow_trusted(data)
        if self.plugins:
            self.registry = runtime.workspace_registry(workspace.root, self.registry)
        self.doc = FlowDocument(data, self.registry)
        # a file with code is trusted only as it was trusted before (see TrustActions)
        self.trusted = not runtime.untrusted_code(data, registry=self.registry)

    # -- building the page ----------------------------------------------------------------

    def build(self) -> None:
        """Lay out the page."""
        ui.add_css((Path(__file__).parent / "editor.css").read_text(encoding="utf-8"))
        ui.add_head_html("""<script>
          window.addEventListener('beforeunload', (e) => {
            if (window.__ewDirty) { e.preventDefault(); e.returnValue = ''; }
          });</script>""")
        self.layout = Layout()
        with ui.header().classes("items-center gap-2 q-py-none q-px-md bg-blue-grey-9").style(
                f"height: {HEADER}px"):
            ui.label("Edgewise").classes("text-h6 text-weight-bold")
            self.title = ui.label().classes("text-subtitle1").props('data-testid="flow-title"')
            ui.space()
            ui.button("Save", icon="save", on_click=self.save).props(
                'flat color=white data-testid="save"').tooltip("Save (Ctrl+S)")
            with ui.button(icon="more_vert").props('flat color=white data-testid="file-menu"'):
                with ui.menu():
                    keeps_typed_keys(ui.menu_item("New flow…", on_click=self.new_dialog))
                    ui.menu_item("Save as…", on_click=self.save_as_dialog)
                    ui.menu_item("Rename…", on_click=self.rename_dialog)
                    ui.menu_item("Delete", on_click=self.delete_dialog)
                    ui.separator()
                    ui.menu_item("Import flow file…", on_click=self.import_dialog).props(
                        'data-testid="import-flow"')
                    ui.menu_item("Export flow file", on_click=self.export_flow).props(
                        'data-testid="export-flow"')
            ui.button(icon="undo", on_click=self.undo).props(
                'flat color=white data-testid="undo"').tooltip("Undo (Ctrl+Z)")
            ui.button(icon="redo", on_click=self.redo).props(
                'flat color=white data-testid="redo"').tooltip("Redo (Ctrl+Shift+Z)")
            ui.button(icon="fit_screen", on_click=lambda: self.canvas.fit()).props(
                'flat color=white data-testid="fit"').tooltip("Fit the flow to the view")
            self.layout.toggle_buttons()
            self.trust_badge = ui.button(icon="gpp_maybe", on_click=self.review_code).props(
                'color=warning data-testid="trust-badge"').tooltip(
                "This flow holds code that was not made or trusted in this editor; "
                "click to read it")
            self.refresh_trust()
            self.build_run_phase()
            self.run_button = ui.button("Run", icon="play_arrow", on_click=self.start_run).props(
                'color=positive data-testid="run"')
            self.stop_button = ui.button("Stop", icon="stop", on_click=self.stop_run).props(
                'color=negative data-testid="stop"')
            self.stop_button.disable()
        with self.layout.left_drawer().classes("bg-grey-1 q-pa-sm"):
            self._build_flows()
            ui.separator()
            self._build_palette()
        with self.layout.right_drawer().classes("q-pa-sm"):
            with ui.tabs().classes("w-full") as tabs:
                params_tab = ui.tab("Params").props('data-testid="tab-params"')
                inspect_tab = ui.tab("Inspector").props('data-testid="tab-inspector"')
            self.tabs = tabs
            self.inspect_tab = inspect_tab
            self.params_tab = params_tab
            with ui.tab_panels(tabs, value=params_tab).classes("w-full"):
                with ui.tab_panel(params_tab):
                    self.params_box = ui.column().classes("w-full")
                with ui.tab_panel(inspect_tab):
                    self.inspector = Inspector()
        with ui.footer().classes("bg-white text-black q-pa-none").style(
                "border-top: 1px solid #ddd; padding: 0; gap: 0").props('data-testid="footer"'):
            self.layout.footer_handle()
            with ui.tabs().classes("w-full").props("dense align=left") as btabs:
                problems_tab = ui.tab("Problems").props('data-testid="tab-problems"')
                debug_tab = ui.tab("Debug").props('data-testid="tab-debug"')
                runs_tab = ui.tab("Runs").props('data-testid="tab-runs"')
            self.bottom_tabs, self.debug_tab = btabs, debug_tab
            for tab in (problems_tab, debug_tab, runs_tab):  # a click on a tab opens the footer
                tab.on("click", self.layout.open_footer)
            with ui.tab_panels(btabs, value=problems_tab).classes("w-full") as bpanels:
                with ui.tab_panel(problems_tab):
                    self.problems_box = ui.column().classes("w-full gap-0").props(
                        'data-testid="problems"')
                with ui.tab_panel(debug_tab):
                    self.debug = DebugPanel(self.reveal)
                    self.debug.attach(debug_tab, self.debug_in_view)
                with ui.tab_panel(runs_tab):
                    self.runs = RunsPanel(
                        self.workspace.root, self.name, self.show_past,
                        lambda: (self.selection["nodes"][0]
                                 if len(self.selection["nodes"]) == 1 else None),
                        lambda: json.loads(json.dumps(self.doc.data)),
                        self.show_changes, self.replayed, self.confirm_code,
                        replay_worker=self.replay_worker, plugins=lambda: self.plugins,
                        busy=self.run_blocker,
                        ask=self.ask_kept)
            self.layout.footer_panels(bpanels)
        # placed between header, drawers and footer by the layout's script (see editor/layout.py)
        with ui.element("div").classes("ew-canvas-area").style(
                self.layout.host_style()).props('data-testid="canvas-area"'):
            self.canvas = FlowCanvas(canvas_graph(self.doc), catalog(self.registry))
            self.build_compare_legend()
            with ui.row().classes("ew-canvas-tools").props(
                    'data-testid="canvas-tools" data-fit-avoid'):
                self.arrange_controls()
                self.annotation_controls()
        self.canvas.on("node_dropped", self.on_drop)
        self.canvas.on("nodes_moved", self.on_moved)
        self.canvas.on("edge_added", self.on_edge_added)
        self.canvas.answer_wires(lambda port, side: self.doc.fitting_ports(port, side))
        self.canvas.on("selection", self.on_selection)
        self.canvas.on("edge_clicked", self.on_edge_clicked)
        self.canvas.on("command", self.on_command)
        self.canvas.on("node_spliced", self.on_node_spliced)
        self.canvas.on("quick_add", self.on_quick_add)
        self.canvas.on("note", self.on_note)
        ui.timer(PUSH_INTERVAL, self.pump)
        self.render_params()
        self.refresh_title()
        if self.load_error:
            ui.notify(f"{self.name}: {self.load_error}", type="negative", multi_line=True,
                      timeout=0, close_button=True)
        ui.timer(0.05, self.revalidate, once=True)
        ui.timer(0.05, lambda: self.layout.restore(self.canvas.fit), once=True)
        ui.timer(PUSH_INTERVAL * 3, self.watch_debug)
        # The standby worker imports pandas and scikit-learn: start it once the page has
        # painted, so that its imports do not compete with the first paint.
        ui.timer(WORKER_DELAY, self.prepare_worker, once=True)
        ui.context.client.on_delete(self.close)  # not on a reconnect: the run goes on

    def _build_flows(self) -> None:
        ui.label("Flows").classes("text-subtitle2")
        with ui.column().classes("w-full gap-0").props('data-testid="flow-list"'):
            for entry in self.workspace.list():
                link = ui.link(entry.title, f"/flow/{entry.name}").classes(
                    "text-body2" + (" text-weight-bold" if entry.name == self.name else ""))
                link.props(f'data-testid="flow-link" data-flow="{entry.name}"')
                link.tooltip(entry.name)
        keeps_typed_keys(ui.button("New flow", icon="add", on_click=self.new_dialog).props(
            'flat dense data-testid="new-flow"'))

    def _build_palette(self) -> None:
        ui.label("Components").classes("text-subtitle2")
        search = ui.input(placeholder="search…").props(
            'dense clearable data-testid="palette-search"').classes("w-full")
        groups: dict[str, list[runtime.ComponentSpec]] = {}
        for spec in self.registry:
            groups.setdefault(spec.category, []).append(spec)
        items: list[tuple[ui.element, str]] = []
        sections: list[tuple[ui.expansion, list[ui.label]]] = []
        with ui.column().classes("w-full gap-0").props('data-testid="palette"'):
            for category in sorted(groups):
                with ui.expansion(category, value=True).classes("w-full").props(
                        "dense") as section:
                    members = []
                    for spec in groups[category]:
                        item = ui.label(spec.id).classes(
                            "w-full q-px-sm q-py-xs rounded-borders cursor-grab "
                            "hover:bg-blue-1 font-mono text-body2")
                        item.props(f'draggable="true" data-testid="palette-item" '
                                   f'data-component="{spec.id}"')
                        item.tooltip(f"{spec.title}\n\n{spec.doc}").props("max-width=360px")
                        items.append((item, f"{spec.id} {spec.title} {spec.doc}".lower()))
                        members.append(item)
                sections.append((section, members))

        def filter_palette(e: Any) -> None:
            term = (e.value or "").lower().strip()
            for element, text in items:
                element.set_visibility(term in text)
            for section, members in sections:
                section.set_visibility(any(m.visible for m in members))
                if term:
                    section.open()

        search.on_value_change(filter_palette)
        for error in self.registry.load_errors:
            ui.label(error).classes("text-caption text-negative")

    # -- state shown in the page ---------------------------------------------------------

    def refresh_title(self) -> None:
        """Show the flow's name, and a dot when there are unsaved changes."""
        dirty = self.doc.dirty
        self.title.set_text(f"{self.doc.data.get('name', self.name)} — {self.name}"
                            + ("  ●" if dirty else ""))
        self.title.props(f'data-dirty="{str(dirty).lower()}"')
        ui.run_javascript(f"window.__ewDirty = {str(dirty).lower()};")

    def redraw(self) -> None:
        """Send the whole graph to the canvas after a structural change."""
        self.canvas.set_graph(canvas_graph(self.doc))
        self.changed()

    def changed(self) -> None:
        """Something was edited: update the title and validate again."""
        self.refresh_title()
        self.render_params_errors()
        ui.timer(0.01, self.revalidate, once=True)

    async def revalidate(self) -> None:
        """Validate the document and mark every problem on the canvas and in the list."""
        data = json.loads(json.dumps(self.doc.data))
        self.validating = asked = getattr(self, "validating", 0) + 1
        problems = await run.io_bound(runtime.validate, data, base_dir=self.workspace.root,
                                      registry=self.registry)
        if asked != self.validating:
            return  # a later edit's validation is under way: its problems are the ones to show
        shown = {str(p) for p in self.problems}
        self.problems = problems or []
        if any(str(p) not in shown for p in self.problems):  # new problems: show them
            self.layout.open_footer()
            self.bottom_tabs.set_value("Problems")
        nodes = sorted({p.node for p in self.problems if p.node})
        edges = sorted({p.edge for p in self.problems if p.edge})
        self.canvas.set_problems(nodes, edges)
        self.problems_box.clear()
        with self.problems_box:
            if not self.problems:
                ui.label("No problems.").classes("text-caption text-positive")
            for problem in self.problems:
                row = ui.label(str(problem)).classes(
                    "text-caption text-negative cursor-pointer hover:bg-grey-2 w-full")
                row.props(f'data-testid="problem" data-node-id="{problem.node or ""}" '
                          f'data-edge="{problem.edge or ""}"')
                row.on("click", lambda _e, p=problem: self.select_problem(p))
        self.render_params_errors()

    def watch_debug(self) -> None:
        """Open the footer when a run sent new debug output or errors."""
        latest = self.debug.entries[0] if self.debug.entries else None
        if latest is not None and latest is not self.seen_debug:
            self.layout.open_footer()
        self.seen_debug = latest

    def select_problem(self, problem: runtime.Problem) -> None:
        """Select the node or edge a problem is about."""
        nodes = [problem.node] if problem.node else []
        edges = [problem.edge] if problem.edge else []
        self.canvas.select(nodes, edges)
        self.on_selection_values(nodes, edges)

    def reveal(self, node: str) -> None:
        """Select a node (from the debug panel)."""
        self.canvas.select([node], [])
        self.on_selection_values([node], [])

    # -- params ------------------------------------------------------------------------

    def render_params(self) -> None:
        """Show the form of the selected node."""
        self.params_box.clear()
        self.form = None
        self.node_error_box = None
        nodes = self.selection["nodes"]
        with self.params_box:
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
            self.node_error_box = ui.column().classes("w-full gap-0")
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
                                       columns=columns_for(self, node_id, spec))
        self.render_params_errors()

    def render_params_errors(self) -> None:
        """Show validation problems of the selected node next to its fields."""
        if self.form is None or len(self.selection["nodes"]) != 1:
            return
        node = self.selection["nodes"][0]
        errors: dict[str, str] = {}
        for problem in self.problems:
            if problem.node == node and problem.code in ("param", "missing-file", "unknown-column"):
                errors[problem.param or "*"] = problem.message
        self.form.show_errors(errors)

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

    def set_label(self, node_id: str, label: str) -> None:
        """The label was edited."""
        self.doc.set_label(node_id, label)
        self.canvas.set_graph(canvas_graph(self.doc))
        self.changed()

    # -- canvas events -------------------------------------------------------------------

    def on_drop(self, e: Any) -> None:
        """A component was dropped from the palette."""
        args = e.args
        if self.registry.get(args["component"]) is None:
            return
        self.place_node(args["component"], args["x"], args["y"], args.get("edge"))

    def on_moved(self, e: Any) -> None:
        """Nodes were dragged to new places (which cannot change what validation says)."""
        self.doc.move_nodes({p["id"]: (p["x"], p["y"]) for p in e.args["positions"]})
        self.refresh_title()

    def on_edge_added(self, e: Any) -> None:
        """The user drew an edge; the runtime has the final word on it."""
        reason = self.doc.add_edge(e.args["source"], e.args["target"])
        if reason:
            self.canvas.refuse(reason)
            return
        self.redraw()

    def on_selection(self, e: Any) -> None:
        """The selection changed on the canvas."""
        self.on_selection_values(e.args.get("nodes", []), e.args.get("edges", []))

    def on_selection_values(self, nodes: list[str], edges: list[str]) -> None:
        """Remember the selection; show the params of a single selected node."""
        before = self.selection
        self.selection = {"nodes": nodes, "edges": edges}
        if before["nodes"] != nodes:
            self.render_params()
            if len(nodes) == 1:
                self.tabs.set_value(self.params_tab)

    async def on_command(self, e: Any) -> None:
        """Keyboard commands from the canvas."""
        name = e.args["name"]
        if name == "save":
            await self.save()
        elif name == "undo":
            self.undo()
        elif name == "redo":
            self.redo()
        elif name in ("copy", "cut"):
            self.clipboard = self.doc.copy(e.args.get("nodes", []))
            if name == "cut":
                self.delete(e.args.get("nodes", []), e.args.get("edges", []))
        elif name == "paste":
            self.paste_clipboard(e.args.get("x"), e.args.get("y"))
        elif name == "delete":
            self.delete(e.args.get("nodes", []), e.args.get("edges", []))
        else:
            await self.edit_command(name, e.args)

    def delete(self, nodes: list[str], edges: list[str]) -> None:
        """Delete the selection."""
        if not nodes and not edges:
            return
        self.doc.delete(nodes, edges)
        self.on_selection_values([], [])
        self.redraw()

    def undo(self) -> None:
        """Undo one edit."""
        if self.doc.undo():
            self.redraw()
            self.render_params()

    def redo(self) -> None:
        """Redo one edit."""
        if self.doc.redo():
            self.redraw()
            self.render_params()

    def close(self) -> None:
        """The tab went away: end its worker (and start no other)."""
        self.closed = True
        for worker in (self.worker, self.standby):
            if worker is not None:
                worker.close()
        self.worker = self.standby = None
