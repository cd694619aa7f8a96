"""Operator fusion: which nodes form a chain, and that a fused run is observed like any run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import runtime
from runtime import ErrorRecord, Run, RunOptions, RunResult, component, default_registry
from runtime._fusion import chains
from tests.flowkit import make_flow, make_run, run_guarded


@component("u.heavy", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def heavy(data: Any) -> Any:
    """A threaded step."""
    return data


@component("u.half", inputs={"data": "Any"}, outputs={"data": "Any"})
def half(data: int) -> Any:
    """Half of even numbers; odd numbers fail, every third is dropped."""
    if data % 2:
        msg = f"{data} is odd"
        raise ValueError(msg)
    return None if data % 3 == 0 else data // 2


@component("u.split", inputs={"data": "Any"}, outputs={"data": "Any"})
def split(data: int) -> Iterator[int]:
    """Two messages per input."""
    yield data
    yield -data


SPECS = [heavy, half, split]


def groups(nodes: dict[str, str | tuple[str, dict[str, Any]]],
           edges: list[str]) -> list[list[str]]:
    registry = default_registry().with_components(*SPECS)
    return chains(runtime.plan(make_flow(nodes, edges), registry=registry))


def test_a_straight_chain_of_one_thread_kind_is_one_group() -> None:
    found = groups({"s": ("stream.range", {"count": 3}), "a": "stream.identity",
                    "b": "stream.identity", "n": "stream.count"},
                   ["s.data->a.data", "a.data->b.data", "b.data->n.data"])
    assert found == [["s", "a", "b", "n"]]


def test_fan_out_fan_in_and_thread_kind_end_a_chain() -> None:
    found = groups({"s": ("stream.range", {"count": 3}), "a": "stream.identity",
                    "b": "stream.identity", "h": "u.heavy", "k": "u.heavy",
                    "j": "stream.identity", "t": ("stream.range", {"count": 3})},
                   ["s.data->a.data", "s.data->b.data",  # fan-out: a and b start chains
                    "a.data->h.data", "h.data->k.data",  # a (inline) | h, k (threaded)
                    "b.data->j.data", "t.data->j.data"])  # fan-in: j starts a chain
    assert sorted(found) == [["a"], ["b"], ["h", "k"], ["j"], ["s"], ["t"]]


def observe(run: Run) -> dict[str, list[tuple[int, Any, Any]]]:
    """Every message on every edge and every produced port: id, parents and value."""
    seen: dict[str, list[tuple[int, Any, Any]]] = {}

    def keep(where: str, batch: Any) -> None:
        seen.setdefault(where, []).extend((e.id, e.parents, e.value) for e in batch)

    run.hooks.add("emitted", keep)
    run.hooks.add("produced", lambda port, batch: keep(f"produced:{port}", batch))
    return seen


def canonical(seen: dict[str, list[tuple[int, Any, Any]]]) -> dict[str, list[Any]]:
    """The same, with each id named by where it was made: (port, index), not by number.

    Ids are handed out in the order work happens, which depends on scheduling; what a
    message is and where it came from does not.
    """
    name: dict[int, tuple[str, int]] = {}
    for where, messages in seen.items():
        if where.startswith("produced:"):
            for index, (mid, _parents, _value) in enumerate(messages):
                name[mid] = (where, index)

    def value(v: Any) -> Any:
        if isinstance(v, ErrorRecord):
            return (v.node, v.error, v.message, [name[i] for i in v.inputs])
        return v

    return {where: [(name[mid], [name[p] for p in parents], value(v))
                    for mid, parents, v in messages] for where, messages in seen.items()}


def run_both(nodes: dict[str, str | tuple[str, dict[str, Any]]], edges: list[str],
             batch_size: int = 7) -> list[tuple[RunResult, dict[str, Any], list[Any]]]:
    """The same flow fused and unfused, with what its hooks saw."""
    found = []
    for fuse in (True, False):
        run = make_run(nodes, edges, SPECS, RunOptions(batch_size=batch_size, fuse=fuse))
        seen = observe(run)
        failures: list[Any] = []
        run.hooks.add("failed", lambda node, record, out=failures: out.append((node, record)))
        found.append((run_guarded(run), seen, failures))
    return found


@pytest.mark.parametrize("inner", ["stream.identity", "u.heavy"])
def test_a_fused_run_is_observed_exactly_like_an_unfused_one(inner: str) -> None:
    nodes: dict[str, str | tuple[str, dict[str, Any]]] = {
        "s": ("stream.range", {"count": 60}), "a": inner, "h": "u.half", "x": "u.split",
        "b": inner, "n": "stream.count", "e": "stream.count"}
    edges = ["s.data->a.data", "a.data->h.data", "h.data->x.data", "x.data->b.data",
             "b.data->n.data", "h.error->e.data"]
    (fused, seen_fused, failed_fused), (plain, seen_plain, failed_plain) = run_both(
        nodes, edges)
    assert fused.status == plain.status == "errors"
    assert fused.nodes == plain.nodes
    assert fused.edges == plain.edges
    # the same messages, parents and values on every edge and port
    assert canonical(seen_fused) == canonical(seen_plain)
    assert sorted(seen_fused) == sorted(seen_plain)
    assert [(n, r.message) for n, r in failed_fused] == [(n, r.message) for n, r in failed_plain]
    assert fused.first_error is not None and plain.first_error is not None
    assert fused.first_error.message == plain.first_error.message
    assert fused.nodes["n"].fired == 2 * len([i for i in range(0, 60, 2) if i % 3])


def test_taps_see_every_edge_of_a_fused_chain() -> None:
    nodes: dict[str, str | tuple[str, dict[str, Any]]] = {
        "s": ("stream.range", {"count": 500}), "a": "stream.identity",
        "b": "stream.identity", "n": "stream.count"}
    edges = ["s.data->a.data", "a.data->b.data", "b.data->n.data"]
    registry = default_registry().with_components(*SPECS)
    run = Run(runtime.plan(make_flow(nodes, edges), registry=registry),
              options=RunOptions(batch_size=50))
    finals: list[Any] = []
    run.subscribe(finals.append)
    result = run_guarded(run)
    final = finals[-1]
    assert final["final"]
    assert {e: s["count"] for e, s in final["edges"].items()} == dict.fromkeys(edges, 500)
    assert {n: s["fired"] for n, s in final["nodes"].items()} == {
        "s": 1, "a": 500, "b": 500, "n": 500}
    assert {n: r.state for n, r in result.nodes.items()} == dict.fromkeys(nodes, "done")


@pytest.mark.parametrize("fuse", [True, False])
def test_a_chain_of_three_thousand_nodes_runs_to_its_end(fuse: bool) -> None:
    # Waiting over every node's task at every step made run time grow with nodes squared.
    size = 3_000
    nodes: dict[str, str | tuple[str, dict[str, Any]]] = {
        "s": ("stream.range", {"count": 2})}
    edges = []
    previous = "s"
    for index in range(size):
        nodes[f"i{index}"] = "stream.identity"
        edges.append(f"{previous}.data->i{index}.data")
        previous = f"i{index}"
    nodes["n"] = "stream.count"
    edges.append(f"{previous}.data->n.data")
    result = run_guarded(make_run(nodes, edges, [], RunOptions(fuse=fuse)), timeout=120)
    assert result.status == "ok"
    assert result.nodes["n"].fired == 2
    assert result.messages == 2 * (size + 1)
    assert all(r.state == "done" for r in result.nodes.values())


GATE = threading.Event()
WORKING = threading.Event()


@component("u.gated", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def gated(data: Any) -> Any:
    """A threaded step that works until the test lets it finish."""
    WORKING.set()
    GATE.wait(120)
    return data


@component("u.heavy_source", outputs={"data": "Any"}, threaded=True)
def heavy_source() -> Iterator[int]:
    """A threaded source of one message."""
    yield 1


def test_a_long_step_inside_a_threaded_chain_shows_running_and_its_input_counted() -> None:
    # The editor shows a fit as running while it works; fused into its source's chain it
    # must show the same, and the edge into it must already count the batch it works on.
    GATE.clear()
    WORKING.clear()
    nodes = {"s": "u.heavy_source", "h": "u.heavy", "g": "u.gated"}
    edges = ["s.data->h.data", "h.data->g.data"]
    registry = default_registry().with_components(heavy, gated, heavy_source)
    # a heavy source is not fused into a chain: its consumer's chain reads it (_feeding)
    assert chains(runtime.plan(make_flow(nodes, edges), registry=registry)) == [
        ["s"], ["h", "g"]]
    run = make_run(nodes, edges, [*SPECS, gated, heavy_source])
    seen: list[tuple[str, str]] = []
    run.hooks.add("node_started", lambda node: seen.append(("started", node)))
    run.hooks.add("node_ended", lambda node, state: seen.append((state, node)))
    run.hooks.add("emitted", lambda edge, batch: seen.append(("emitted", edge)))
    box: dict[str, RunResult] = {}
    thread = threading.Thread(target=lambda: box.update(result=run.run()), daemon=True)
    thread.start()
    try:
        assert WORKING.wait(30)
        # while g is held at its gate, the source shows its end: its chain's reader read
        # one ahead and found nothing more
        deadline = time.monotonic() + 15
        wanted = {("started", "g"), ("done", "s")}
        while not wanted <= set(seen) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ("started", "g") in seen
        assert ("emitted", "h.data->g.data") in seen
        assert ("done", "s") in seen
        assert not GATE.is_set()
    finally:
        GATE.set()
        thread.join(30)
    assert box["result"].status == "ok"
