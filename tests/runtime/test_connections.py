"""fitting_ports: every port a new edge may join, in one pass, as check_connection says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime import default_registry, parse_flow, resolve_ports
from runtime._connections import check_connection, fitting_ports

FLOWS = sorted((Path(__file__).parents[2] / "flows").glob("*.json"))


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_fitting_ports_are_exactly_the_ends_check_connection_accepts(path: Path) -> None:
    registry = default_registry()
    flow = parse_flow(json.loads(path.read_text()))
    ports = {n.id: resolve_ports(n.component, n.params, registry=registry) for n in flow.nodes}
    ins = [f"{n}.{p['name']}" for n, s in ports.items() for p in s["inputs"] or []]
    outs = [f"{n}.{p['name']}" for n, s in ports.items() for p in s["outputs"] or []]
    checked = 0
    for out in outs:
        want = [t for t in ins if check_connection(flow, out, t, registry) is None]
        assert fitting_ports(flow, out, "out", registry) == want, out
        checked += len(want)
    for into in ins:
        want = [s for s in outs if check_connection(flow, s, into, registry) is None]
        assert fitting_ports(flow, into, "in", registry) == want, into
    assert checked  # every flow has some port a new wire may join


def test_fitting_ports_leave_out_what_would_close_a_cycle_or_repeat_an_edge() -> None:
    flow = parse_flow({"edgewise": 1, "name": "t", "nodes": [
        {"id": "r", "component": "stream.range", "params": {"count": 3}},
        {"id": "a", "component": "stream.identity"}, {"id": "b", "component": "stream.identity"},
        {"id": "c", "component": "stream.identity"}],
        "edges": [{"source": "r.data", "target": "a.data"},
                  {"source": "a.data", "target": "b.data"}]})
    registry = default_registry()

    assert fitting_ports(flow, "b.data", "out", registry) == ["c.data"]  # a closes a cycle
    assert fitting_ports(flow, "a.data", "out", registry) == ["c.data"]  # b exists already
    # r.data exists already, b.data closes a cycle; every error output is Any
    assert fitting_ports(flow, "a.data", "in", registry) == ["r.error", "c.data", "c.error"]
    assert fitting_ports(flow, "gone.data", "out", registry) == []
