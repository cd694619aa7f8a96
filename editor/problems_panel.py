"""The Problems tab: validate the flow after each edit, and mark its problems everywhere."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import run, ui

import runtime
from editor.canvas import FlowCanvas
from editor.flow_file import OpenFlow
from editor.selection import Selection


class ProblemsPanel:
    """Lists the flow's problems; a click on one selects the node or edge it is about."""

    def __init__(self, flow: OpenFlow, canvas: FlowCanvas, selection: Selection, *,
                 reveal: Callable[[], None], shown: Callable[[], None]) -> None:
        """Validate one page's flow; the list goes where the panel is built.

        Args:
            flow: the page's flow.
            canvas: where the problem nodes and edges are marked.
            selection: the page's selection.
            reveal: shows the Problems tab (there are new problems).
            shown: the problems changed (the params form marks its fields again).
        """
        self.flow = flow
        self.box = ui.column().classes("w-full gap-0").props('data-testid="problems"')
        self.canvas = canvas
        self.selection = selection
        self.reveal = reveal
        self.shown = shown
        self.problems: list[runtime.Problem] = []
        self.asked = 0  # validations asked for; only the last one's answer is shown

    async def revalidate(self) -> list[runtime.Problem]:
        """Validate the document and mark every problem on the canvas and in the list.

        Returns:
            The problems of the document as it was when called. A caller that acts on
            them (Run, Deploy) uses these: ``self.problems`` may still be the last shown,
            when a later edit's validation overtook this one.
        """
        data = self.flow.data()
        self.asked = asked = self.asked + 1
        problems = await run.io_bound(runtime.validate, data,
                                      base_dir=self.flow.workspace.root,
                                      registry=self.flow.registry)
        if asked != self.asked:
            return problems or []  # a later edit's validation shows its own problems
        seen = {str(p) for p in self.problems}
        self.problems = problems or []
        if any(str(p) not in seen for p in self.problems):  # new problems: show them
            self.reveal()
        nodes = sorted({p.node for p in self.problems if p.node})
        edges = sorted({p.edge for p in self.problems if p.edge})
        self.canvas.set_problems(nodes, edges)
        self.box.clear()
        with self.box:
            if not self.problems:
                ui.label("No problems.").classes("text-caption text-positive")
            for problem in self.problems:
                row = ui.label(str(problem)).classes(
                    "text-caption text-negative cursor-pointer hover:bg-grey-2 w-full")
                row.props(f'data-testid="problem" data-node-id="{problem.node or ""}" '
                          f'data-edge="{problem.edge or ""}"')
                row.on("click", lambda _e, p=problem: self.select_problem(p))
        self.shown()
        return self.problems

    def select_problem(self, problem: runtime.Problem) -> None:
        """Select the node or edge a problem is about."""
        nodes = [problem.node] if problem.node else []
        edges = [problem.edge] if problem.edge else []
        self.selection.select(nodes, edges)
