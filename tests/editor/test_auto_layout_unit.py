"""The auto-layout function: columns follow the edges, nodes never overlap, crossings drop."""

from __future__ import annotations

import json
import random
from itertools import combinations
from pathlib import Path

import pytest

import runtime
from editor.auto_layout import COLUMN_GAP, NODE_W, layered_positions, node_height

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def overlapping(places: dict[str, tuple[float, float]], heights: dict[str, float]) -> list:
    pairs = []
    for a, b in combinations(places, 2):
        (ax, ay), (bx, by) = places[a], places[b]
        if ax < bx + NODE_W and bx < ax + NODE_W and ay < by + heights[b] and by < ay + heights[a]:
            pairs.append((a, b))
    return pairs


def crossings(places: dict[str, tuple[float, float]], edges: list[tuple[str, str]]) -> int:
    """Pairs of edges between the same two columns whose ends swap order."""
    count = 0
    for (s1, t1), (s2, t2) in combinations(edges, 2):
        if places[s1][0] != places[s2][0] or places[t1][0] != places[t2][0]:
            continue
        if (places[s1][1] - places[s2][1]) * (places[t1][1] - places[t2][1]) < 0:
            count += 1
    return count


def random_dag(seed: int, size: int) -> tuple[dict[str, float], list[tuple[str, str]]]:
    rng = random.Random(seed)
    ids = [f"n{i}" for i in range(size)]
    heights = {n: float(node_height(rng.randint(0, 3), rng.randint(0, 4))) for n in ids}
    edges = [(ids[i], ids[j]) for i in range(size) for j in range(i + 1, size)
             if rng.random() < 3 / size]
    return heights, edges


@pytest.mark.parametrize("seed", range(8))
def test_edges_point_right_and_nodes_do_not_overlap(seed: int) -> None:
    heights, edges = random_dag(seed, 40)
    places = layered_positions(heights, edges)
    assert set(places) == set(heights)
    for source, target in edges:
        assert places[target][0] >= places[source][0] + NODE_W + COLUMN_GAP, (source, target)
    assert overlapping(places, heights) == []


def test_columns_are_the_longest_path_from_a_source() -> None:
    heights = dict.fromkeys(["a", "b", "c", "d"], 58.0)
    places = layered_positions(heights, [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")])
    pitch = NODE_W + COLUMN_GAP
    column = {n: round((x - places["a"][0]) / pitch) for n, (x, _) in places.items()}
    assert column == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_ordering_removes_crossings() -> None:
    # in file order, a feeds the bottom node of the next column and b the top one
    heights = dict.fromkeys(["a", "b", "x", "y"], 58.0)
    edges = [("a", "y"), ("b", "x")]
    places = layered_positions(heights, edges)
    assert crossings(places, edges) == 0


def test_barycentre_beats_file_order_on_random_flows() -> None:
    before = after = 0
    for seed in range(6):
        heights, edges = random_dag(100 + seed, 30)
        places = layered_positions(heights, edges)
        after += crossings(places, edges)
        # the same columns in file order
        naive: dict[str, tuple[float, float]] = {}
        rows: dict[float, int] = {}
        for node in heights:
            x = places[node][0]
            naive[node] = (x, rows.get(x, 0))
            rows[x] = rows.get(x, 0) + 1
        before += crossings(naive, edges)
    assert after < before


def test_a_cycle_and_unknown_ends_do_not_break_it() -> None:
    heights = dict.fromkeys(["a", "b", "c"], 58.0)
    places = layered_positions(heights, [("a", "b"), ("b", "a"), ("b", "c"), ("b", "ghost"),
                                         ("c", "c")])
    assert set(places) == {"a", "b", "c"}
    assert places["c"][0] > places["b"][0]
    assert overlapping(places, heights) == []


def test_every_example_flow() -> None:
    for path in sorted(FLOWS.glob("*.json")):
        flow = json.loads(path.read_text(encoding="utf-8"))
        heights = {n["id"]: 78.0 for n in flow["nodes"]}
        edges = [(e["source"].split(".")[0], e["target"].split(".")[0]) for e in flow["edges"]]
        places = layered_positions(heights, edges)
        assert overlapping(places, heights) == [], path.name
        feedback = {e.split("->")[0].split(".")[0] + ">" + e.split("->")[1].split(".")[0]
                    for e in runtime.plan(path).feedback}
        for s, t in edges:
            if f"{s}>{t}" in feedback:  # a loop's feedback edge points back
                assert places[t][0] < places[s][0], (path.name, s, t)
            else:
                assert places[t][0] > places[s][0], (path.name, s, t)


def test_empty_flow() -> None:
    assert layered_positions({}, []) == {}


def test_a_long_edge_keeps_a_free_slot_in_the_columns_it_crosses() -> None:
    # iris: split -> predict crosses fit's column; a straight wire must miss fit's box
    heights = dict.fromkeys(["load", "split", "fit", "predict", "score", "metrics"], 78.0)
    edges = [("load", "split"), ("split", "fit"), ("split", "predict"), ("fit", "predict"),
             ("predict", "score"), ("score", "metrics")]
    places = layered_positions(heights, edges)
    for source, target in edges:
        (sx, sy), (tx, ty) = places[source], places[target]
        y1, y2 = sy + heights[source] / 2, ty + heights[target] / 2
        x1, x2 = sx + NODE_W, tx
        for node, (nx_, ny) in places.items():
            if node in (source, target) or not x1 < nx_ < x2:
                continue
            for x in (nx_, nx_ + NODE_W):  # the wire's height where it enters and leaves
                y = y1 + (y2 - y1) * (x - x1) / (x2 - x1)
                assert not ny <= y <= ny + heights[node], (source, target, node)
