"""What is selected on the canvas of one page, and who is told when the nodes change."""

from __future__ import annotations

from collections.abc import Callable


class Selection:
    """The selected nodes and edges; selecting from the page also selects on the canvas."""

    def __init__(self, show: Callable[[list[str], list[str]], None]) -> None:
        """Start with nothing selected.

        Args:
            show: selects nodes and edges on the canvas (for selections made elsewhere).
        """
        self.show = show
        self.nodes: list[str] = []
        self.edges: list[str] = []
        self.watchers: list[Callable[[], None]] = []

    def single(self) -> str | None:
        """The one selected node, or None when none or several are selected."""
        return self.nodes[0] if len(self.nodes) == 1 else None

    def when_nodes_change(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher`` whenever the selected nodes change."""
        self.watchers.append(watcher)

    def set(self, nodes: list[str], edges: list[str]) -> None:
        """The canvas selected these: remember them, and tell the watchers if nodes changed."""
        before = self.nodes
        self.nodes, self.edges = list(nodes), list(edges)
        if before != self.nodes:
            for watcher in self.watchers:
                watcher()

    def select(self, nodes: list[str], edges: list[str]) -> None:
        """Select these on the canvas too (a problem, a debug entry, new nodes)."""
        self.show(nodes, edges)
        self.set(nodes, edges)
