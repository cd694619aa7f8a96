"""Row lineage through nodes whose ports are set by their params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime import Run, plan
from runtime._record import record_run
from runtime._record.lineage import Lineage
from tests.flowkit import flow_doc

CODE = "def process(orders, prices, params):\n    return orders.assign(x=1)\n"


def _flow(fn: dict[str, Any]) -> dict[str, Any]:
    nodes = [{"id": "orders", "component": "dataset.load", "params": {"name": "iris"}},
             {"id": "prices", "component": "dataset.load", "params": {"name": "iris"}},
             fn, {"id": "show", "component": "debug"}]
    edges = [("orders.data", f"{fn['id']}.{_ports(fn)[0]}"),
             ("prices.data", f"{fn['id']}.{_ports(fn)[1]}"), (f"{fn['id']}.data", "show.data")]
    return flow_doc(nodes, edges)


def _ports(fn: dict[str, Any]) -> list[str]:
    return ["left", "right"] if fn["component"] == "frame.join" else ["orders", "prices"]


def _trace(flow: dict[str, Any], workspace: Path, node: str) -> list[Any]:
    run = Run(plan(flow, base_dir=workspace))
    store = record_run(run, workspace).store
    run.run()
    [out] = store.messages(f"{node}.data")
    return Lineage(store).trace(out.id, 5)


def test_a_latest_input_declared_by_params_is_not_followed(tmp_path: Path) -> None:
    fn = {"id": "fn", "component": "python.function",
          "params": {"inputs": ["orders", "prices"], "latest_inputs": ["prices"],
                     "code": CODE}}

    steps = _trace(_flow(fn), tmp_path, "fn")

    assert [s.message.node for s in steps] == ["fn", "orders"]
    assert all(s.note is None for s in steps)
    assert steps[-1].source is not None
    assert steps[-1].source["text"] == "dataset iris, row 5"


def test_lineage_through_python_function_matches_frame_join(tmp_path: Path) -> None:
    fn = {"id": "j", "component": "frame.join", "params": {}}

    steps = _trace(_flow(fn), tmp_path, "j")

    assert [s.message.node for s in steps] == ["j", "orders"]


def test_two_stream_inputs_holding_the_row_still_stop_the_trace(tmp_path: Path) -> None:
    fn = {"id": "fn", "component": "python.function",
          "params": {"inputs": ["orders", "prices"], "code": CODE}}

    steps = _trace(_flow(fn), tmp_path, "fn")

    assert len(steps) == 1
    assert steps[0].note is not None
    assert "cannot be told apart" in steps[0].note
