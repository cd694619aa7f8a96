"""Left-to-right layered placement of a flow's nodes, computed with networkx.

Nodes go into columns by their longest path from a source (networkx's topological
generations), so every edge points right. Within a column, nodes are ordered by the mean
row of their neighbours (barycentre sweeps), which removes most edge crossings. Columns
are far enough apart that an edge's label fits between two nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

NODE_W = 176  # px: a node's width on the canvas (canvas.js NODE_W)
HEAD_H, ROW_H = 30, 20  # px: a node's title bar and port row (canvas.js)
COLUMN_GAP = 240  # px between columns: room for an edge label ("1 · 178 rows · 178×14 …")
ROW_GAP = 48  # px between two nodes of one column
ORIGIN = (60.0, 60.0)
SWEEPS = 4  # barycentre passes, right then left


def node_height(inputs: int, outputs: int) -> int:
    """A node's height on the canvas, from its number of input and output ports."""
    return HEAD_H + max(inputs, outputs, 1) * ROW_H + 8


def _columns(graph: nx.DiGraph) -> list[list[str]]:
    """Nodes in columns; a cycle (which validation reports) shares one column."""
    condensed = nx.condensation(graph)
    members = condensed.graph["mapping"]
    column_of = {}
    for depth, generation in enumerate(nx.topological_generations(condensed)):
        for part in generation:
            column_of[part] = depth
    columns: list[list[str]] = [[] for _ in range(max(column_of.values(), default=-1) + 1)]
    for node in graph.nodes:  # in file order, the first order of each column
        columns[column_of[members[node]]].append(node)
    return columns


def _barycentre(column: list[str], neighbours: Mapping[str, list[str]],
                row: Mapping[str, float]) -> list[str]:
    """The column sorted by the mean row of each node's neighbours in the fixed column."""
    def key(item: tuple[int, str]) -> tuple[float, int]:
        index, node = item
        near = [row[n] for n in neighbours[node] if n in row]
        return (sum(near) / len(near) if near else float(index), index)
    return [node for _, node in sorted(enumerate(column), key=key)]


def _order(columns: list[list[str]], graph: nx.DiGraph) -> list[list[str]]:
    """Reorder each column to reduce crossings, sweeping right and then left."""
    preds = {n: list(graph.predecessors(n)) for n in graph.nodes}
    succs = {n: list(graph.successors(n)) for n in graph.nodes}
    for _ in range(SWEEPS):
        for i in range(1, len(columns)):
            row = {n: float(r) for r, n in enumerate(columns[i - 1])}
            columns[i] = _barycentre(columns[i], preds, row)
        for i in range(len(columns) - 2, -1, -1):
            row = {n: float(r) for r, n in enumerate(columns[i + 1])}
            columns[i] = _barycentre(columns[i], succs, row)
    return columns


def layered_positions(heights: Mapping[str, float],
                      edges: Iterable[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Positions (top-left corners) for every node: columns left to right, no overlaps.

    Args:
        heights: each node's height on the canvas, by node id, in file order.
        edges: (source node, target node) pairs; pairs naming unknown nodes are ignored.

    Returns:
        The top-left corner of each node. Every edge's target is in a column right of its
        source's (unless they share a cycle), and columns are centred on one another.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(heights)
    graph.add_edges_from((s, t) for s, t in edges if s in heights and t in heights and s != t)
    columns = _order(_columns(graph), graph)
    tallest = max((sum(heights[n] for n in col) + ROW_GAP * (len(col) - 1)
                   for col in columns), default=0.0)
    places: dict[str, tuple[float, float]] = {}
    for index, column in enumerate(columns):
        x = ORIGIN[0] + index * (NODE_W + COLUMN_GAP)
        total = sum(heights[n] for n in column) + ROW_GAP * (len(column) - 1)
        y = ORIGIN[1] + (tallest - total) / 2
        for node in column:
            places[node] = (x, round(y))
            y += heights[node] + ROW_GAP
    return places
