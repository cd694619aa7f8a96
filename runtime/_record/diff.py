"""Compare two kept runs edge by edge, and name the most upstream edges whose data changed.

A flow is a causal graph: when data changes on an edge, everything downstream may change
with it. The edges that changed while nothing upstream of them did point at the cause.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from runtime._previews import is_model
from runtime._record.naming import named_message_ids
from runtime._record.store import RunStore

MAX_ROWS = 200_000
PSI_BINS = 10
PSI_SHIFT = 0.1
KS_ALPHA = 0.01


@dataclass
class EdgeDiff:
    """How one edge differs between two runs."""

    edge: str
    in_a: bool
    in_b: bool
    count: tuple[int, int] = (0, 0)
    rows: tuple[int | None, int | None] = (None, None)
    schema: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: str = "unknown"
    changed: bool = False
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {"edge": self.edge, "in_a": self.in_a, "in_b": self.in_b,
                "count": list(self.count), "rows": list(self.rows), "schema": self.schema,
                "columns": self.columns, "metrics": self.metrics, "values": self.values,
                "changed": self.changed, "reasons": self.reasons}


def psi(expected: Any, actual: Any, bins: int = PSI_BINS) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins of A)."""
    import numpy as np

    a = np.asarray(expected, dtype=float)
    b = np.asarray(actual, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return 0.0
    edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        edges = np.array([a.min() - 0.5, a.max() + 0.5])
    edges[0], edges[-1] = -np.inf, np.inf
    pa = np.histogram(a, edges)[0] / len(a)
    pb = np.histogram(b, edges)[0] / len(b)
    pa, pb = np.clip(pa, 1e-6, None), np.clip(pb, 1e-6, None)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def numeric_values(column: Any) -> Any:
    """What psi and ks_test compare of a column: its values as floats, missing ones dropped.

    None when the column is not numeric (its dtype is not an integer or float one).
    """
    if column.dtype.kind not in "iuf":
        return None
    return column.dropna().to_numpy(float)


def ks_test(expected: Any, actual: Any) -> Any:
    """The two-sample Kolmogorov-Smirnov test of ``actual`` against ``expected`` (scipy's).

    The result has the KS ``statistic`` and its ``pvalue``.
    """
    from scipy import stats

    return stats.ks_2samp(expected, actual)


def _values(store: RunStore, origin: str) -> list[Any] | None:
    out = []
    for message, value in store.values(origin):
        if message.kept is None:
            return None
        out.append(value)
    return out


def _frame(values: list[Any]) -> Any:
    import pandas as pd

    frames = [v for v in values if isinstance(v, pd.DataFrame)]
    if not frames or len(frames) != len(values):
        return None
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    return frame.head(MAX_ROWS)


def _same(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if hasattr(x, "equals") and hasattr(y, "equals"):
            if type(x) is not type(y) or not x.equals(y):
                return False
        elif is_model(x):
            if type(x) is not type(y) or repr(x.get_params()) != repr(y.get_params()):
                return False
            if repr(getattr(x, "coef_", None)) != repr(getattr(y, "coef_", None)):
                return False
        elif x != y and not (_nan(x) and _nan(y)):
            return False
    return True


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def compare_edge(edge: str, a: RunStore, b: RunStore, origin_a: str | None,
                 origin_b: str | None) -> EdgeDiff:
    """Compare what passed along one edge in two runs (its output port in each run)."""
    result = EdgeDiff(edge=edge, in_a=origin_a is not None, in_b=origin_b is not None)
    result.count = (a.count(origin_a) if origin_a else 0, b.count(origin_b) if origin_b else 0)
    if origin_a is None or origin_b is None:
        result.values = "only in A" if origin_a else "only in B"
        result.reasons.append("only in run A" if origin_a else "only in run B")
        return result
    if result.count[0] != result.count[1]:
        result.reasons.append(f"message count {result.count[0]} → {result.count[1]}")
    va, vb = _values(a, origin_a), _values(b, origin_b)
    if va is None or vb is None:
        result.values = "not kept"
        result.changed = bool(result.reasons)
        return result
    va, vb = named_message_ids(a, va), named_message_ids(b, vb)  # ids differ between runs
    same = _same(va, vb)
    result.values = "identical" if same else "different"
    fa, fb = _frame(va), _frame(vb)
    if fa is not None and fb is not None:
        _compare_frames(result, fa, fb)
        if not same:
            _cells(result, fa, fb)
    elif va and vb and all(isinstance(v, dict) for v in va + vb):
        _compare_metrics(result, va, vb)
    elif not same and len(va) == len(vb) == 1 and is_model(va[0]):
        _compare_models(result, va[0], vb[0])
    if not same and not result.reasons:
        result.reasons.append("values differ")
    result.reasons = [r for r in result.reasons if r != "values differ"] or result.reasons
    result.changed = not same or bool(result.reasons)
    return result


def _compare_frames(result: EdgeDiff, fa: Any, fb: Any) -> None:
    result.rows = (len(fa), len(fb))
    if len(fa) != len(fb):
        result.reasons.append(f"rows {len(fa)} → {len(fb)}")
    cols_a = {str(c): str(t) for c, t in fa.dtypes.items()}
    cols_b = {str(c): str(t) for c, t in fb.dtypes.items()}
    added = sorted(set(cols_b) - set(cols_a))
    removed = sorted(set(cols_a) - set(cols_b))
    retyped = {c: [cols_a[c], cols_b[c]] for c in cols_a.keys() & cols_b.keys()
               if cols_a[c] != cols_b[c]}
    result.schema = {"added": added, "removed": removed, "dtype_changed": retyped}
    if added or removed or retyped:
        result.reasons.append("schema changed")
    label_a = {str(c): c for c in fa.columns}  # column labels need not be strings (a
    label_b = {str(c): c for c in fb.columns}  # confusion matrix of integer classes)
    for column in cols_a.keys() & cols_b.keys():
        x, y = numeric_values(fa[label_a[column]]), numeric_values(fb[label_b[column]])
        if x is None or y is None or len(x) == 0 or len(y) == 0:
            continue
        index = psi(x, y)
        ks = ks_test(x, y)
        shifted = index > PSI_SHIFT or float(ks.pvalue) < KS_ALPHA
        result.columns[column] = {"psi": round(index, 6), "ks": round(float(ks.statistic), 6),
                                  "ks_pvalue": float(ks.pvalue),
                                  "mean": [float(x.mean()), float(y.mean())],
                                  "shifted": shifted}
        if shifted:
            result.reasons.append(f"distribution of '{column}' shifted (PSI {index:.3f}, "
                                  f"KS p={float(ks.pvalue):.2g})")


def _cells(result: EdgeDiff, fa: Any, fb: Any) -> None:
    """Say which columns hold different values, when rows line up by id."""
    if len(fa) != len(fb) or not fa.index.equals(fb.index):
        return
    for column in [c for c in fa.columns if c in fb.columns]:
        left, right = fa[column], fb[column]
        try:
            differ = int((~((left == right) | (left.isna() & right.isna()))).sum())
        except (TypeError, ValueError):  # cells holding lists or arrays: compare their text
            differ = sum(repr(a) != repr(b) for a, b in zip(left, right, strict=True))
        if differ:
            result.reasons.append(f"'{column}' differs on {differ} of {len(fa)} rows")


def _compare_models(result: EdgeDiff, a: Any, b: Any) -> None:
    if type(a) is not type(b):
        result.reasons.append(f"model {type(a).__name__} → {type(b).__name__}")
        return
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    changed = [f"{k} {pa.get(k)!r} → {pb.get(k)!r}" for k in sorted(pa.keys() | pb.keys())
               if repr(pa.get(k)) != repr(pb.get(k))]
    result.reasons.append("model params changed: " + ", ".join(changed) if changed else
                          "same model params, different fitted values (other training data?)")


def _compare_metrics(result: EdgeDiff, va: list[Any], vb: list[Any]) -> None:
    keys = sorted({k for v in va + vb for k in v})
    for key in keys:
        xs = [v[key] for v in va if isinstance(v.get(key), int | float)]
        ys = [v[key] for v in vb if isinstance(v.get(key), int | float)]
        if not xs or not ys:
            continue
        mean_a, mean_b = sum(xs) / len(xs), sum(ys) / len(ys)
        result.metrics[key] = {"a": mean_a, "b": mean_b, "change": mean_b - mean_a}
        if mean_a != mean_b and key != "rows":
            result.reasons.append(f"metric {key} {mean_a:.4g} → {mean_b:.4g}")


def run_edges(store: RunStore) -> dict[str, str]:
    """A run's edges, named as in the flow, each mapped to the port that fed it in this run.

    A replay feeds recorded values through stand-in sources; their edges keep the names
    of the edges they replace, so a replay compares with the run it replays.
    """
    inputs: dict[str, str] = store.manifest().get("replay_inputs") or {}
    stand_in = {f"{node}.data": origin for origin, node in inputs.items()}
    return {f"{stand_in.get(e['source'], e['source'])}->{e['target']}": e["source"]
            for e in store.flow().get("edges", [])}


def loose_ports(store: RunStore) -> dict[str, str]:
    """The output ports with messages but no edge (a result left unconnected), by name."""
    sources = {e["source"] for e in store.flow().get("edges", [])}
    return {origin: origin for origin in store.origins() if origin not in sources}


def diff_runs(a: RunStore, b: RunStore) -> dict[str, Any]:
    """Compare two runs edge by edge; list the most upstream changed edges first.

    Output ports that made messages but have no edge are compared too, under their own
    name (``NODE.PORT``): a result nobody wired up is still a result.
    """
    ports_a, ports_b = run_edges(a) | loose_ports(a), run_edges(b) | loose_ports(b)
    edges_a, edges_b = set(ports_a), set(ports_b)
    flow_a = a.manifest().get("replay_flow") or a.flow()
    flow_b = b.manifest().get("replay_flow") or b.flow()
    graph: nx.DiGraph = nx.DiGraph()
    into: dict[str, list[str]] = {}
    for edge in edges_a | edges_b:
        if "->" not in edge:
            graph.add_node(edge.split(".")[0])
            continue
        source, target = edge.split("->")
        graph.add_edge(source.split(".")[0], target.split(".")[0])
        into.setdefault(target.split(".")[0], []).append(edge)
    acyclic = nx.is_directed_acyclic_graph(graph)
    order = {n: i for i, n in enumerate(nx.topological_sort(graph))} if acyclic else {}
    edges = sorted(edges_a | edges_b, key=lambda e: (order.get(e.split(".")[0], 0), e))
    diffs = {e: compare_edge(e, a, b, ports_a.get(e), ports_b.get(e)) for e in edges}
    changed = {e for e, d in diffs.items() if d.changed}

    def upstream(edge: str) -> set[str]:
        node = edge.split(".")[0]
        return {e for n in nx.ancestors(graph, node) | {node} for e in into.get(n, [])}

    first = [e for e in edges if e in changed and not (upstream(e) & changed)]
    return {"run_a": a.id, "run_b": b.id,
            "same_flow": not _param_changes(flow_a, flow_b),
            "param_changes": _param_changes(flow_a, flow_b), "first_changed": first,
            "changed": [e for e in edges if e in changed],
            "only_in_a": sorted(edges_a - edges_b), "only_in_b": sorted(edges_b - edges_a),
            "edges": [diffs[e].to_json() for e in edges]}


def compare_replay(original: RunStore, again: RunStore, part: set[str],
                   clocks: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whether a replay reproduced the run it replays, edge by edge downstream of its start.

    Every edge into a replayed node, and every unconnected port of one, must be in both runs
    and carry the same values, and no replayed node may have failed; only then is the run
    reproduced exactly.

    Args:
        original: The recorded run.
        again: Its replay.
        part: The replayed nodes.
        clocks: Node to the column its outputs stamp with the wall clock when they are made
            (a supervisor's decision ``time``): an edge from such a node whose only
            difference is that column is reproduced, and listed under ``clock_only``.
    """
    report = diff_runs(original, again)
    downstream = [e for e in report["edges"] if _target_node(e["edge"]) in part]
    clock_only = [e["edge"] for e in downstream if _only_clock(e, clocks or {})]
    identical = [e["edge"] for e in downstream
                 if e["in_a"] and e["in_b"] and (e["values"] == "identical" and not e["changed"]
                                                 or e["edge"] in clock_only)]
    nodes = again.manifest().get("nodes") or {}
    failed = {n: info.get("errors", 0) for n, info in nodes.items()
              if n in part and (info.get("errors") or info.get("state") == "failed")}
    status = again.manifest().get("status")
    return {
        "reproduced": bool(downstream) and len(identical) == len(downstream)
        and status == "ok" and not failed,
        "status": status,
        "downstream": [e["edge"] for e in downstream],
        "identical": identical,
        "only_in_replay": [e["edge"] for e in downstream if not e["in_a"]],
        "only_in_recorded": [e["edge"] for e in downstream if not e["in_b"]],
        "not_kept": [e["edge"] for e in downstream if e["values"] == "not kept"],
        "clock_only": clock_only,
        "changed": [e for e in report["changed"] if _target_node(e) in part
                    and e not in clock_only],
        "first_changed": report["first_changed"],
        "failed": failed,
    }


def _only_clock(edge: dict[str, Any], clocks: Mapping[str, str]) -> bool:
    """Whether an edge differs only in the wall-clock column of the node that made it."""
    column = clocks.get(edge["edge"].split("->")[0].split(".", 1)[0])
    if column is None or not (edge["in_a"] and edge["in_b"]) or not edge["reasons"]:
        return False
    stamp = re.compile(rf"'{re.escape(column)}' differs on \d+ of \d+ rows")
    return all(stamp.fullmatch(reason) for reason in edge["reasons"])


def _target_node(edge: str) -> str:
    """The node an edge leads into; for an unconnected port, the node that made it."""
    return edge.split("->")[-1].split(".", 1)[0]


def _param_changes(flow_a: dict[str, Any], flow_b: dict[str, Any]) -> list[dict[str, Any]]:
    nodes_a = {n["id"]: n for n in flow_a.get("nodes", [])}
    nodes_b = {n["id"]: n for n in flow_b.get("nodes", [])}
    out = []
    for node_id in sorted(nodes_a.keys() | nodes_b.keys()):
        na, nb = nodes_a.get(node_id), nodes_b.get(node_id)
        if na is None or nb is None:
            out.append({"node": node_id, "change": "added" if na is None else "removed"})
        elif (na.get("component") != nb.get("component")
              or (na.get("params") or {}) != (nb.get("params") or {})):
            out.append({"node": node_id, "change": "params",
                        "a": na.get("params"), "b": nb.get("params")})
    return out
