"""A component tagged ``unpaired`` is called once per stream message, not once per pair."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runtime import UNPAIRED_TAG, Port, component, latest
from runtime.testing import memory_source
from tests.flowkit import make_run, run_guarded

CALLS: list[tuple[Any, Any, Any]] = []


@component("un.both", outputs={"a": "int", "b": "int"})
def both() -> Iterator[dict[str, int]]:
    """Emit on 'a' and 'b' at uneven rates: three on a, four on b."""
    for port, value in [("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2), ("b", 3),
                        ("b", 4)]:
        yield {port: value}


@component("un.take", inputs={"a": "int", "b": Port("int", required=False),
                              "c": latest("int")},
           outputs={"data": "Any"}, tags=[UNPAIRED_TAG])
def take(a: Any, b: Any, c: Any) -> Any:
    """Note each call."""
    CALLS.append((a, b, c))
    return (a, b)


@component("un.paired", inputs={"a": "int", "b": "int"}, outputs={"data": "Any"})
def paired(a: Any, b: Any) -> Any:
    """Without the tag: one call per pair."""
    CALLS.append((a, b, None))
    return (a, b)


SPECS = [both, take, paired, memory_source("un.c", [7])]


def test_each_message_makes_its_own_call_in_arrival_order() -> None:
    CALLS.clear()
    run = make_run({"src": "un.both", "c": "un.c", "t": "un.take"},
                   ["src.a->t.a", "src.b->t.b", "c.data->t.c"], SPECS)
    result = run_guarded(run)
    assert result.status == "ok"
    assert result.nodes["t"].fired == 7
    # every message alone, each stream in its order (batches arrive whole, in their order)
    assert [c for c in CALLS if c[1] is None] == [(1, None, 7), (2, None, 7), (3, None, 7)]
    assert [c for c in CALLS if c[0] is None] == [(None, b, 7) for b in (1, 2, 3, 4)]


def test_without_the_tag_streams_are_paired_and_the_leftover_is_an_error() -> None:
    CALLS.clear()
    run = make_run({"src": "un.both", "p": "un.paired"}, ["src.a->p.a", "src.b->p.b"],
                   SPECS)
    result = run_guarded(run)
    assert CALLS == [(1, 1, None), (2, 2, None), (3, 3, None)]
    assert result.nodes["p"].errors == 1
