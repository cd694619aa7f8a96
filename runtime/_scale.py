"""Which nodes may run as several copies (``replicas``), checked before any engine runs them.

A node with ``replicas`` above 1 runs that many copies at once on an engine that scales out
(Ray), each copy taking some of the node's messages. That is only right for a node whose
call depends on nothing but the message it is given, so replicas are refused on:

- a source (no input connected): it is called once, and its messages come in one order;
- a stateful component: a class component with ``end()``, or one tagged ``stateful``
  (``runtime.STATEFUL_TAG``): each copy would hold part of the state;
- a node with more than one stream input connected: its messages are paired one to one,
  which copies taking messages apart would break;
- a component tagged ``unpaired``: it joins its streams itself, across calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from runtime._errors import Problem
from runtime._model import Flow
from runtime._spec import STATEFUL_TAG, UNPAIRED_TAG, ComponentSpec


def is_stateful(spec: ComponentSpec) -> bool:
    """Whether a component keeps state from one call to the next (``end()``, or its tag)."""
    return STATEFUL_TAG in spec.tags or (spec.is_class and callable(getattr(spec.target, "end",
                                                                            None)))


def _refusal(spec: ComponentSpec, connected: list[str] | None) -> str | None:
    """Why a node with these inputs connected (None: unknown) cannot have replicas, if so."""
    if connected is not None and not connected:
        return ("a source cannot be replicated; it is called once and its messages come in "
                "one order (give replicas to the nodes it feeds instead)")
    if is_stateful(spec):
        why = ("keeps state from one call to the next" if STATEFUL_TAG in spec.tags
               else "has an end() that emits what it kept from every call")
        return (f"a stateful component cannot be replicated; {spec.id} {why}, and each copy "
                "would hold only part of it")
    if UNPAIRED_TAG in spec.tags:
        return (f"{spec.id} cannot be replicated; it joins its streams itself, across calls, "
                "and each copy would see only part of them")
    streams = [p for p in connected or [] if spec.inputs[p].mode != "latest"]
    if len(streams) > 1:
        return (f"a node with more than one stream input connected cannot be replicated; its "
                f"inputs {', '.join(repr(p) for p in streams)} are paired message by message, "
                "and copies taking messages apart would break the pairs (join the streams "
                "upstream)")
    return None


def check_replicas(flow: Flow, specs: Mapping[str, ComponentSpec | None],
                   connected: Set[tuple[str, str]], skip: frozenset[str] = frozenset(),
                   ) -> list[Problem]:
    """The problems of nodes whose ``replicas`` their component or wiring cannot have.

    Args:
        flow: The flow checked.
        specs: Each node's component with its ports (None: unknown, reported elsewhere).
        connected: The (node, input port) pairs that an edge goes into.
        skip: Nodes whose ports are unknown (their params are invalid, reported elsewhere):
            only what their component is, not their wiring, is checked.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, node in enumerate(flow.nodes):
        if node.id in seen:
            continue  # a duplicate id, reported elsewhere
        seen.add(node.id)
        spec = specs.get(node.id)
        if node.replicas == 1 or spec is None:
            continue
        known = node.id not in skip or "inputs" not in spec.dynamic_sides
        why = _refusal(spec, [p for p in spec.inputs if (node.id, p) in connected]
                       if known else None)
        if why is not None:
            problems.append(Problem(
                message=f"node '{node.id}', replicas {node.replicas}: {why}; set replicas "
                        "to 1",
                code="replicas", node=node.id, where=f"nodes[{index}].replicas"))
    return problems
