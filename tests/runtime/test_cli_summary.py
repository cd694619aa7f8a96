"""The terminal summary of ``edgewise run``: a large flow shows its busiest nodes and edges."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from runtime import Flow, plan
from runtime._engine import NodeResult, RunResult
from runtime._taps import LiveStats
from runtime.cli import main
from runtime.cli.summary import TOP, print_summary, progress_table


def chains(big: int, small: int) -> dict[str, Any]:
    """Two chains of ``stream.identity``: one carries 30 messages, the other one."""
    nodes: list[dict[str, Any]] = [
        {"id": "src", "component": "stream.range", "params": {"count": 30}},
        {"id": "one", "component": "stream.range", "params": {"count": 1}}]
    edges = []
    for prefix, source, length in (("big", "src", big), ("tiny", "one", small)):
        previous = f"{source}.data"
        for i in range(length):
            nodes.append({"id": f"{prefix}{i:02d}", "component": "stream.identity"})
            edges.append({"source": previous, "target": f"{prefix}{i:02d}.data"})
            previous = f"{prefix}{i:02d}.data"
    return {"edgewise": 1, "name": "chains", "nodes": nodes, "edges": edges}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_a_large_flow_shows_its_busiest_nodes_and_edges(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "chains.json"
    flow.write_text(json.dumps(chains(big=TOP - 2, small=30)), encoding="utf-8")

    code = main(["run", str(flow)])
    out = capsys.readouterr().out

    assert code == 0
    assert f"the {TOP} busiest of 50" in out
    assert "… and 30 more nodes" in out
    assert "… and 28 more edges" in out
    shown = {word for line in out.splitlines() for word in line.replace("│", " ").split()}
    assert {f"big{i:02d}" for i in range(TOP - 2)} | {"src"} <= shown  # 30 messages each
    assert "one" in shown  # of the nodes that fired once, the first in the flow
    assert not any(f"tiny{i:02d}" in shown for i in range(30))


def test_a_small_flow_shows_everything(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "chains.json"
    flow.write_text(json.dumps(chains(big=3, small=2)), encoding="utf-8")

    assert main(["run", str(flow)]) == 0
    out = capsys.readouterr().out

    assert "busiest" not in out
    assert "more nodes" not in out
    for node in ("src", "one", "big00", "big02", "tiny00", "tiny01"):
        assert f" {node} " in out


def test_json_still_lists_every_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "chains.json"
    flow.write_text(json.dumps(chains(big=TOP, small=TOP)), encoding="utf-8")

    assert main(["run", str(flow), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert len(summary["nodes"]) == 2 * TOP + 2
    assert len(summary["edges"]) == 2 * TOP


def test_the_summary_of_thousands_of_nodes_stays_short() -> None:
    nodes = 1_000
    flow = Flow.model_validate(chains(big=nodes // 2, small=nodes // 2))
    checked = plan(flow)
    stats = LiveStats(checked)
    failed = f"tiny{nodes // 2 - 1:02d}"
    result = RunResult(
        "failed", {n: NodeResult(fired=i % 7, state="done") for i, n in enumerate(checked.nodes)},
        {e: i % 5 for i, e in enumerate(stats.edges)}, seconds=1.0)
    result.nodes[failed] = NodeResult(fired=1, errors=1, state="failed")
    buffer = io.StringIO()

    print_summary(result, {n: node.spec.id for n, node in checked.nodes.items()}, stats, [],
                  Console(file=buffer, width=200))
    text = buffer.getvalue()

    assert len(text.splitlines()) < 3 * TOP + 20
    assert f"the {TOP} busiest of {nodes + 2:,}" in text
    assert f"… and {nodes + 2 - TOP:,} more nodes" in text
    assert f"│ {failed} " in text.splitlines()[4]  # a failed node comes first


def test_the_live_table_shows_the_busiest_edges() -> None:
    edges = {f"e{i}": {"count": i, "rows": None, "rate": 0.0} for i in range(100)}

    table = progress_table(edges)
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(table)

    lines = buffer.getvalue().splitlines()
    shown = [line.split()[0] for line in lines[2:-1]]

    assert table.row_count == TOP + 1
    assert lines[-1].strip() == "… and 80 more edges"
    assert shown == [f"e{i}" for i in range(99, 79, -1)]  # the busiest first
