"""One editor page: a flow on the canvas, with palette, params, problems, runs and inspector."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from nicegui import ui

from editor import sidebar
from editor.annotations import Annotations
from editor.arrange_actions import Arranger
from editor.canvas import FlowCanvas
from editor.deploy_actions import DeployController
from editor.edit_actions import EditController
from editor.file_actions import FileController, keeps_typed_keys
from editor.flow_file import open_flow
from editor.graph_view import canvas_graph, catalog
from editor.kept_runs import KeptRuns
from editor.layout import HEADER, Layout
from editor.node_errors import NodeErrors
from editor.panels import DebugPanel, Inspector
from editor.params_panel import ColumnContext, ParamsPanel
from editor.problems_panel import ProblemsPanel
from editor.results_actions import DEBUG_TAB, Results, in_view
from editor.run_actions import RunBar, RunController, run_blocker
from editor.run_workers import Workers
from editor.runs_panel import RunsPanel
from editor.selection import Selection
from editor.supervision_view import SupervisionView
from editor.trust_actions import Trust
from editor.workspace import Workspace

WORKER_DELAY = 2.0  # seconds after the page is built
PUSH_INTERVAL = 0.1  # seconds: labels and states reach the browser at most 10 times a second


class EditorPage:
    """Builds the editor for one flow file, for one browser tab, and wires its parts.

    Each part gets what it works with in its constructor: the open flow, the selection, the
    canvas and the panels. The page keeps only what ties them together: the title, redrawing
    after an edit, and the order things happen in when the page opens and closes.
    """

    def __init__(self, workspace: Workspace, name: str) -> None:
        """Open a flow file of a workspace (a file that cannot be read opens empty)."""
        self.flow = open_flow(workspace, name)
        self.doc = self.flow.doc
        self.trust = Trust(self.flow)  # a file with code is trusted only as it was before
        self.files = FileController(self.flow, sign=self.trust.sign,
                                    refresh_title=self.refresh_title)
        self.node_errors = NodeErrors()
        self.seen_debug: dict[str, Any] | None = None

    # -- building the page ----------------------------------------------------------------

    def build(self) -> None:
        """Lay out the page and wire its parts."""
        ui.add_css((Path(__file__).parent / "editor.css").read_text(encoding="utf-8"))
        ui.add_head_html("""<script>
          window.addEventListener('beforeunload', (e) => {
            if (window.__ewDirty) { e.preventDefault(); e.returnValue = ''; }
          });</script>""")
        self.layout = Layout()
        self._build_canvas()
        self._build_header()
        with self.layout.left_drawer().classes("bg-grey-1 q-pa-sm"):
            sidebar.flow_list(self.flow.workspace, self.flow.name, self.files.new_dialog)
            ui.separator()
            sidebar.palette(self.flow.registry)
        with self.layout.right_drawer().classes("q-pa-sm"):
            with ui.tabs().classes("w-full") as tabs:
                params_tab = ui.tab("Params").props('data-testid="tab-params"')
                inspect_tab = ui.tab("Inspector").props('data-testid="tab-inspector"')
            with ui.tab_panels(tabs, value=params_tab).classes("w-full"):
                with ui.tab_panel(params_tab):
                    params_box = ui.column().classes("w-full")
                with ui.tab_panel(inspect_tab):
                    inspector = Inspector()
        self.tabs, self.params_tab = tabs, params_tab
        self._build_footer()
        self._wire(params_box, inspector, show_inspector=lambda: tabs.set_value(inspect_tab))
        self._start()

    def _build_canvas(self) -> None:
        """The canvas, placed between header, drawers and footer by the layout's script."""
        with ui.element("div").classes("ew-canvas-area").style(self.layout.host_style()).props(
                'data-testid="canvas-area" data-role="canvas-area"'):
            self.canvas = FlowCanvas(canvas_graph(self.doc), catalog(self.flow.registry))
            self.selection = Selection(self.canvas.select)
            self.legend_box = ui.element("div")  # the legend of a comparison's edge colours
            with ui.row().classes("ew-canvas-tools").props(
                    'data-testid="canvas-tools" data-fit-avoid'):
                Arranger(self.doc, self.canvas, self.redraw).controls()
                Annotations(self.doc, self.canvas, self.selection, self.redraw).controls()
        self.edit = EditController(self.flow, self.canvas, self.selection,
                                   redraw=self.redraw, refresh_title=self.refresh_title,
                                   set_label=self.set_label, save=self.files.save,
                                   undone=lambda: self.params.render(),
                                   rerun=lambda: self.runs.replay())

    def _build_header(self) -> None:
        files = self.files
        with ui.header().classes("items-center gap-2 q-py-none q-px-md bg-blue-grey-9").style(
                f"height: {HEADER}px"):
            ui.label("Edgewise").classes("text-h6 text-weight-bold")
            self.title = ui.label().classes("text-subtitle1").props('data-testid="flow-title"')
            ui.space()
            ui.button("Save", icon="save", on_click=files.save).props(
                'flat color=white data-testid="save"').tooltip("Save (Ctrl+S)")
            with ui.button(icon="more_vert").props('flat color=white data-testid="file-menu"'):
                with ui.menu():
                    keeps_typed_keys(ui.menu_item("New flow…", on_click=files.new_dialog))
                    ui.menu_item("Save as…", on_click=files.save_as_dialog)
                    ui.menu_item("Rename…", on_click=files.rename_dialog)
                    ui.menu_item("Delete", on_click=files.delete_dialog)
                    ui.separator()
                    ui.menu_item("Import flow file…", on_click=files.import_dialog).props(
                        'data-testid="import-flow"')
                    ui.menu_item("Export flow file", on_click=files.export_flow).props(
                        'data-testid="export-flow"')
            ui.button(icon="undo", on_click=self.edit.undo).props(
                'flat color=white data-testid="undo"').tooltip("Undo (Ctrl+Z)")
            ui.button(icon="redo", on_click=self.edit.redo).props(
                'flat color=white data-testid="redo"').tooltip("Redo (Ctrl+Shift+Z)")
            ui.button(icon="fit_screen", on_click=self.canvas.fit).props(
                'flat color=white data-testid="fit"').tooltip("Fit the flow to the view")
            self.layout.toggle_buttons()
            self.trust.badge()
            self.deploy_slot = ui.row().classes("items-center no-wrap gap-1")  # DeployController
            self.bar = RunBar(self.flow.name)
        self.workers = Workers(self.doc, self.bar.worker_state)

    def _build_footer(self) -> None:
        """The footer's Problems, Debug and Runs tabs."""
        with ui.footer().classes("bg-white text-black q-pa-none").style(
                "border-top: 1px solid #ddd; padding: 0; gap: 0").props('data-testid="footer"'):
            self.layout.footer_handle()
            with ui.tabs().classes("w-full").props("dense align=left") as btabs:
                problems_tab = ui.tab("Problems").props('data-testid="tab-problems"')
                debug_tab = ui.tab("Debug").props('data-testid="tab-debug"')
                runs_tab = ui.tab("Runs").props('data-testid="tab-runs"')
            self.bottom_tabs = btabs
            for tab in (problems_tab, debug_tab, runs_tab):  # a click on a tab opens the footer
                tab.on("click", self.layout.open_footer)
            with ui.tab_panels(btabs, value=problems_tab).classes("w-full") as bpanels:
                with ui.tab_panel(problems_tab):
                    self.problems = ProblemsPanel(
                        self.flow, self.canvas, self.selection, reveal=self._show_problems,
                        shown=lambda: self.params.render_errors())
                with ui.tab_panel(debug_tab):
                    self.debug = DebugPanel(lambda node: self.selection.select([node], []))
                    self.debug.attach(debug_tab, lambda: in_view(self.layout, btabs, DEBUG_TAB))
                with ui.tab_panel(runs_tab):
                    self.runs = RunsPanel(
                        self.flow.workspace.root, self.flow.name,
                        self._show_past, self.selection.single,
                        self.flow.data, lambda report: self.kept.show_changes(report),
                        lambda *done: self.kept.replayed(*done), self.trust.confirm_code,
                        replay_worker=self.workers.replay_worker,
                        plugins=lambda: self.flow.plugins,
                        busy=partial(run_blocker, self.workers, self.problems),
                        ask=self.workers.ask_kept)
            self.layout.footer_panels(bpanels)

    def _wire(self, params_box: ui.column, inspector: Inspector,
              show_inspector: Callable[[], object]) -> None:
        """Make the parts that act on the panels, now that every panel is there."""
        self.params = ParamsPanel(
            self.flow, self.selection, params_box, self.node_errors,
            ColumnContext(self.flow, self.runs, lambda: self.kept.past),
            problems=lambda: self.problems.problems, set_label=self.set_label,
            redraw=self.redraw, changed=self.changed, save=self.files.save)
        results = Results(self.doc, self.debug, self.runs, self.layout, self.bottom_tabs)
        self.kept = KeptRuns(self.doc, self.canvas, inspector=inspector, debug=self.debug,
                             runs=self.runs, results=results, workers=self.workers,
                             node_errors=self.node_errors, params=self.params,
                             legend_box=self.legend_box, show_inspector=show_inspector)
        self.run = RunController(self.flow, self.bar, self.workers, self.canvas,
                                 debug=self.debug, runs=self.runs, results=results,
                                 kept=self.kept, params=self.params, problems=self.problems,
                                 node_errors=self.node_errors, selection=self.selection,
                                 confirm_code=self.trust.confirm_code)
        with self.deploy_slot:
            self.deploy = DeployController(self.flow, self.bar, self.run, self.problems)
        self.selection.when_nodes_change(self._nodes_changed)
        self.canvas.on("selection", lambda e: self.selection.set(
            e.args.get("nodes", []), e.args.get("edges", [])))
        self.edit.connect()
        self.kept.connect()
        self.supervision = SupervisionView(self.doc, self.canvas, inspector=inspector,
                                           selection=self.selection, kept=self.kept,
                                           runs=self.runs)
        self.supervision.connect(self.run.listeners)

    def _start(self) -> None:
        """What happens once the page is built, and when its tab goes away."""
        ui.timer(PUSH_INTERVAL, self.run.pump)
        self.params.render()
        self.refresh_title()
        if self.flow.load_error:
            ui.notify(f"{self.flow.name}: {self.flow.load_error}", type="negative",
                      multi_line=True, timeout=0, close_button=True)
        ui.timer(0.05, self.problems.revalidate, once=True)
        ui.timer(0.05, lambda: self.layout.restore(self.canvas.fit), once=True)
        ui.timer(0.05, self.bar.engine.restore, once=True)
        ui.timer(PUSH_INTERVAL * 3, self.watch_debug)
        # The standby worker imports pandas and scikit-learn: start it once the page has
        # painted, so that its imports do not compete with the first paint.
        ui.timer(WORKER_DELAY, self.workers.prepare, once=True)
        ui.context.client.on_delete(self.workers.close)  # not on a reconnect: the run goes on

    # -- what ties the parts together -----------------------------------------------------

    def refresh_title(self) -> None:
        """Show the flow's name, and a dot when there are unsaved changes."""
        dirty = self.doc.dirty
        self.title.set_text(f"{self.doc.data.get('name', self.flow.name)} — {self.flow.name}"
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
        self.params.render_errors()
        ui.timer(0.01, self.problems.revalidate, once=True)

    def set_label(self, node_id: str, label: str) -> None:
        """A node's label was edited."""
        self.doc.set_label(node_id, label)
        self.canvas.set_graph(canvas_graph(self.doc))
        self.changed()

    def watch_debug(self) -> None:
        """Open the footer when a run sent new debug output or errors."""
        latest = self.debug.entries[0] if self.debug.entries else None
        if latest is not None and latest is not self.seen_debug:
            self.layout.open_footer()
        self.seen_debug = latest

    def _show_past(self, store: Any) -> None:
        """Show a kept run (None: live again), with its scorers' models and its decisions."""
        self.kept.show_past(store)
        self.supervision.show_kept()

    def _show_problems(self) -> None:
        self.layout.open_footer()
        self.bottom_tabs.set_value("Problems")

    def _nodes_changed(self) -> None:
        """Other nodes were selected: show the params of a single one."""
        self.params.render()
        if len(self.selection.nodes) == 1:
            self.tabs.set_value(self.params_tab)
