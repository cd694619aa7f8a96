"""Operator fusion: which nodes of a plan run together as one chain, with no queue between.

Flink calls this operator chaining. Node B joins the chain of node A when A's only
outgoing edge goes to B, B's only incoming edge comes from A, and both run on the same
kind of thread (both ``threaded`` or neither), and A is not a threaded source (a heavy
source ends on its own, and says so, while its consumer may still be working). A chain
is then fired as one unit: A's output batch is handed to B directly. Every edge inside a
chain is still observed, batch by batch, through the same hooks, so taps, lineage and
recording cannot tell the difference; only the queue hop, and the thread switch between
two heavy nodes, are gone.
"""

from __future__ import annotations

from runtime._graph import Plan


def _edges_out(plan: Plan, node: str) -> list[tuple[str, str, str]]:
    return [edge for edges in plan.nodes[node].outgoing.values() for edge in edges]


def _fuses(plan: Plan, upstream: str) -> str | None:
    """The node that joins ``upstream``'s chain, if one does."""
    out = _edges_out(plan, upstream)
    if len(out) != 1:
        return None
    edge, target, _port = out[0]
    if edge in plan.feedback:
        return None  # a loop keeps a queue, where it is never made to wait
    node = plan.nodes[target]
    if sum(len(edges) for edges in node.incoming.values()) != 1:
        return None
    if node.spec.threaded != plan.nodes[upstream].spec.threaded:
        return None
    if node.spec.threaded and not plan.nodes[upstream].incoming:
        return None  # a heavy source ends on its own, while its consumer still works
    return target


def chains(plan: Plan, *, fuse: bool = True) -> list[list[str]]:
    """Group the plan's nodes into chains, each listed from its head, in plan order.

    Args:
        plan: The checked plan.
        fuse: False keeps every node on its own (a chain of one).

    Returns:
        Every node exactly once; a node's chain successor comes right after it.
    """
    if not fuse:
        return [[nid] for nid in plan.order]
    following = {nid: nxt for nid in plan.order if (nxt := _fuses(plan, nid)) is not None}
    joined = set(following.values())
    groups: list[list[str]] = []
    for nid in plan.order:
        if nid in joined:
            continue
        group = [nid]
        while group[-1] in following:
            group.append(following[group[-1]])
        groups.append(group)
    return groups
