"""The terminal tables of ``edgewise run``: live progress, and the summary when the run ends.

A flow of thousands of nodes would print thousands of rows, which nobody reads and which
take rich longer to lay out than the run took. Past ``TOP`` rows, a table shows the busiest
nodes (failed ones first) and edges, and says how many it left out. Choosing them is a
single pass with a bounded heap, so the summary stays linear in the size of the flow.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from runtime._engine import NodeResult, RunResult
from runtime._taps import LiveStats
from runtime.cli.common import safe

TOP = 20
"""Tables longer than this show only the busiest rows."""

ERROR_LINE_CHARS = 240

K = TypeVar("K")


def busiest(keys: Iterable[K], size: int, rank: Callable[[K], Any],
            top: int = TOP) -> tuple[list[K], int]:
    """Every key in its own order if there are at most ``top``, else the ``top`` best ranked.

    Returns:
        The keys to show, and how many were left out.
    """
    if size <= top:
        return list(keys), 0
    return heapq.nlargest(top, keys, key=rank), size - top


def progress_table(edges: dict[str, dict[str, Any]]) -> Table:
    """The live table: messages, rows and rate of the busiest edges so far."""
    table = Table(title="running", title_justify="left", box=None, pad_edge=False)
    table.add_column("edge")
    table.add_column("messages", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("rate/s", justify="right")
    shown, hidden = busiest(edges, len(edges), lambda e: edges[e]["count"])
    for edge in shown:
        info = edges[edge]
        rows = info.get("rows")
        table.add_row(safe(edge), f"{info['count']:,}", "" if rows is None else f"{rows:,}",
                      f"{info.get('rate', 0):,.0f}")
    if hidden:
        table.add_row(f"… and {hidden:,} more edges", "", "", "")
    return table


def _node_rank(nodes: dict[str, NodeResult]) -> Callable[[str], tuple[bool, int, int]]:
    def rank(nid: str) -> tuple[bool, int, int]:
        info = nodes[nid]
        return info.state == "failed", info.errors, info.fired
    return rank


def print_summary(result: RunResult, specs: dict[str, str], stats: LiveStats,
                  warnings: Iterable[str], console: Console) -> None:
    """Print the nodes and edges tables, the failed nodes' last errors and the warnings.

    Args:
        result: The finished run.
        specs: The component id of each node.
        stats: The run's live statistics (rows per edge, last error of each node).
        warnings: Problems of the hooks (a tap or recorder that failed), one per line.
        console: Where to print.
    """
    shown, hidden = busiest(result.nodes, len(result.nodes), _node_rank(result.nodes))
    title = f"nodes ({result.status}, {result.seconds:.2f} s)"
    if hidden:
        title += f", the {len(shown)} busiest of {len(result.nodes):,}"
    nodes = Table(title=title, title_justify="left")
    for col in ("node", "component", "state", "fired", "errors"):
        nodes.add_column(col, justify="right" if col in ("fired", "errors") else "left")
    for nid in shown:
        info = result.nodes[nid]
        state = f"[red]{info.state}[/]" if info.state == "failed" else info.state
        nodes.add_row(safe(nid), safe(specs[nid]), state, f"{info.fired:,}", f"{info.errors:,}")
    console.print(nodes)
    if hidden:
        console.print(f"… and {hidden:,} more nodes (`--json` lists them all)")
    _print_edges(result, stats, console)
    _print_errors(result, stats, shown, console)
    for problem in warnings:
        console.print(f"[yellow]warning:[/] {safe(problem)}", highlight=False)
    if result.status == "aborted" and result.first_error is not None:
        console.print(f"[red]stopped by --fail-fast:[/] {safe(result.first_error)}",
                      highlight=False)


def _print_edges(result: RunResult, stats: LiveStats, console: Console) -> None:
    counts = result.edges
    shown, hidden = busiest(counts, len(counts),
                            lambda e: (counts[e], stats.rows(e) or 0))
    title = "edges" + (f", the {len(shown)} busiest of {len(counts):,}" if hidden else "")
    edges = Table(title=title, title_justify="left")
    edges.add_column("edge")
    edges.add_column("messages", justify="right")
    edges.add_column("rows", justify="right")
    for edge in shown:
        rows = stats.rows(edge)
        edges.add_row(safe(edge), f"{counts[edge]:,}", "" if rows is None else f"{rows:,}")
    console.print(edges)
    if hidden:
        console.print(f"… and {hidden:,} more edges (`--json` lists them all)")


def _print_errors(result: RunResult, stats: LiveStats, shown: list[str],
                  console: Console) -> None:
    """The last error of each failed node shown; a count of the others."""
    listed = set(shown)
    others = 0
    for nid, record in stats.last_errors.items():
        if nid not in listed:
            others += 1
            continue
        first_line = record.message.splitlines()[0] if record.message else ""
        if len(first_line) > ERROR_LINE_CHARS:
            first_line = first_line[:ERROR_LINE_CHARS - 1] + "…"
        console.print(f"[red]node '{safe(nid)}' failed on {result.nodes[nid].errors} "
                      f"firing(s)[/]; last error: {safe(record.error)}: {safe(first_line)}",
                      highlight=False)
    if others:
        console.print(f"[red]… and {others:,} more failed nodes[/] (`--json` lists them all)",
                      highlight=False)
