"""Left-to-right layered placement of a flow's nodes, computed with networkx.

Nodes go into columns by their longest path from a source (networkx's topological
generations), so every edge points right. An edge that spans several columns gets a
placeholder in each column between (as in Sugiyama's method), so that a slot is kept free
for its wire. Within a column, nodes are ordered by the mean row of their neighbours
(barycentre sweeps), which removes most edge crossings. Columns are far enough apart that
an edge's label fits between two nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

NODE_W = 176  # px: a node's width on the canvas (canvas.js NODE_W)
HEAD_H, ROW_H = 30, 20  # px: a node's title bar and port row (canvas_modules/geometry.js)
FACE_H, STATUS_H = 13, 14  # px: the key param's line in the head, the status line under the ports
COLUMN_GAP = 240  # px between columns: room for an edge label ("1 · 178 rows · 178×14 …")
ROW_GAP = 48  # px between two nodes of one column
ORIGIN = (60.0, 60.0)
SWEEPS = 4  # barycentre passes, right then left
WIRE_H = 24  # px: the slot a long edge's placeholder keeps free in a column it crosses


def node_height(inputs: int, outputs: int, face: bool = False) -> int:
    """A node's height on the canvas, from its ports and whether it shows a key param."""
    return HEAD_H + (FACE_H if face else 0) + max(inputs, outputs, 1) * ROW_H + 8 + STATUS_H


def back_edges(graph: nx.DiGraph) -> set[tuple[str, str]]:
    """The edges that close a loop, found by a depth-first walk from the sources.

    The walk starts at the nodes nothing feeds, in file order, so in a flow whose loop
    passes through a feedback edge (a new champion sent back to its scorer) that edge is
    the one found: the rest of the loop is laid out left to right, and it points back.
    """
    order = [n for n in graph.nodes if graph.in_degree(n) == 0] + list(graph.nodes)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    found: set[tuple[str, str]] = set()
    for root in order:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(list(graph.successors(root))))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                found.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(list(graph.successors(child)))))
    return found


def _columns(graph: nx.DiGraph) -> list[list[str]]:
    """Nodes in columns; a loop (which validation reports) shares one column."""
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
        source's, but for an edge that closes a loop (see ``back_edges``); a node sits near
        the middle of its neighbours.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(heights)
    graph.add_edges_from((s, t) for s, t in edges if s in heights and t in heights and s != t)
    graph.remove_edges_from(back_edges(graph))  # a feedback edge points back, to the left
    columns = _columns(graph)
    column_of = {n: i for i, col in enumerate(columns) for n in col}
    routed = nx.DiGraph()
    routed.add_nodes_from(graph.nodes)
    heights = dict(heights)
    for source, target in graph.edges:
        span = range(column_of[source] + 1, column_of[target])
        chain = [source]
        for index in span:  # a placeholder per column the edge crosses
            slot = f"\x00{source}>{target}@{index}"
            columns[index].append(slot)
            heights[slot] = WIRE_H
            chain.append(slot)
        routed.add_edges_from(zip(chain, [*chain[1:], target], strict=True))
    columns = _order(columns, routed)
    ys = _rows(columns, routed, heights)
    top = min(ys.values(), default=0.0)
    return {node: (ORIGIN[0] + column_of[node] * (NODE_W + COLUMN_GAP),
                   float(round(ORIGIN[1] + ys[node] - top)))
            for node in graph.nodes}


def _rows(columns: list[list[str]], graph: nx.DiGraph,
          heights: Mapping[str, float]) -> dict[str, float]:
    """The top of each node (placeholders too): near its neighbours, in order, not touching.

    Each column is stacked in its order; then, a few times over, each node is drawn
    towards the mean centre of its neighbours, and pushed down as far as needed to keep its
    gap from the node above. A column then moves as a whole by its mean pull, so that it
    is not pushed down without end.
    """
    ys: dict[str, float] = {}
    for column in columns:
        y = 0.0
        for node in column:
            ys[node] = y
            y += heights[node] + ROW_GAP
    near = {n: [*graph.predecessors(n), *graph.successors(n)] for n in graph.nodes}
    for _ in range(SWEEPS * 2):
        for column in columns:
            wanted = {}
            for node in column:
                centres = [ys[m] + heights[m] / 2 for m in near[node] if m in ys]
                wanted[node] = (sum(centres) / len(centres) - heights[node] / 2
                                if centres else ys[node])
            floor = -float("inf")
            for node in column:
                ys[node] = max(wanted[node], floor)
                floor = ys[node] + heights[node] + ROW_GAP
            pull = sum(wanted[n] - ys[n] for n in column) / max(1, len(column))
            for node in column:  # up by the mean pull: the column keeps its gaps
                ys[node] += pull
    return ys
