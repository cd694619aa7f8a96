"""The firing rule's fast path gives what the join gives, for every node shape it takes.

A node with one stream input skips the join: each message is one call, with the latest
values of that moment bound beside it. These tests run the same messages through the
rule twice, once with the fast path and once with it switched off, and compare what the
component was called with, what came out on each port, and each output's parents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import runtime
from runtime import Port, component, default_registry, latest
from runtime._collector import RunContext
from runtime._firing import FiringRule
from runtime._messages import Batch, ErrorRecord
from runtime.testing import memory_source
from tests.flowkit import make_flow

CALLS: list[tuple[str, Any]] = []
ZERO = "zero"


@component("ff.score", inputs={"data": "Any", "model": latest()}, outputs={"data": "Any"})
def score(data: Any, model: Any) -> Any:
    """Score with the latest model; zero fails, None makes nothing."""
    CALLS.append(("score", (model, data)))
    if data == 0:
        raise ValueError(ZERO)
    return None if data is None else (model, data)


@component("ff.hinted", inputs={"data": "Any", "hint": latest(waits=False),
                                "extra": Port(required=False)}, outputs={"data": "Any"})
def hinted(data: Any, hint: Any, extra: Any) -> Any:
    """A latest input that does not wait, and an optional one left unconnected."""
    CALLS.append(("hinted", (hint, extra, data)))
    return (hint, extra, data)


@component("ff.keep", inputs={"data": "Any", "model": latest()}, outputs={})
def keep(data: Any, model: Any) -> Any:
    """A sink: it keeps what it is given and returns something that goes nowhere."""
    CALLS.append(("keep", (model, data)))
    if data == 0:
        raise ValueError(ZERO)
    return {"ignored": data}


@component("ff.lazy", inputs={"data": "Any"}, outputs={})
def lazy(data: Any) -> Iterator[None]:
    """A sink whose work is in the generator it returns (it is not a generator itself)."""
    return (CALLS.append(("lazy", data)) for _ in range(1))


SPECS = [score, hinted, keep, lazy, memory_source("ff.src", [1]),
         memory_source("ff.models", ["m"])]

SHAPES = {
    "score": ({"d": "ff.src", "m": "ff.models", "n": "ff.score"},
              ["d.data->n.data", "m.data->n.model"]),
    "hinted": ({"d": "ff.src", "m": "ff.models", "n": "ff.hinted"},
               ["d.data->n.data", "m.data->n.hint"]),
    "keep": ({"d": "ff.src", "m": "ff.models", "n": "ff.keep"},
             ["d.data->n.data", "m.data->n.model"]),
    "lazy": ({"d": "ff.src", "n": "ff.lazy"}, ["d.data->n.data"]),
}

# What arrives, call by call: (input port, first id, values); the latest input's port is
# named whatever the shape calls it, so "model" stands for it.
SCRIPT: list[tuple[str, int, list[Any]]] = [
    ("data", 1, [5]),  # before any model: waits, unless the latest input does not wait
    ("model", 100, ["m1"]),
    ("data", 2, [6, 0, None, 7]),  # a failure and a call that makes nothing, mid-batch
    ("model", 101, ["m2", "m3"]),  # two models at once: the newest is used
    ("data", 6, [8]),
    ("data", 7, [0]),
]


def run_script(shape: str, *, fast: bool) -> tuple[list[tuple[str, Any]], list[Any], bool]:
    """Process ``SCRIPT`` through the shape's node; return its calls, its outputs, its path."""
    nodes, edges = SHAPES[shape]
    registry = default_registry().with_components(*SPECS)
    plan = runtime.plan(make_flow(nodes, edges), registry=registry)
    rule = FiringRule(plan.nodes["n"], RunContext())
    rule.start()
    took_fast = rule.fast
    rule.fast = rule.fast and fast
    latest_port = next(iter(rule.latest_ports), None)
    CALLS.clear()
    seen: list[Any] = []
    for port, first, values in SCRIPT:
        if port == "model":
            if latest_port is None:
                continue
            port = latest_port
        out = rule.process([(port, Batch(f"{port}.data", list(range(first, first + len(values))),
                                          [()] * len(values), values))])
        for name, made in sorted(out.items()):
            seen.append((name, [_plain(v) for v in made.values], list(made.parents)))
    finished = rule.finish()
    seen.append(("finish", sorted(finished), rule.fired, rule.errors))
    return CALLS[:], seen, took_fast


def _plain(value: Any) -> Any:
    if isinstance(value, ErrorRecord):
        return (value.error, value.message, value.inputs)
    return value


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_fast_path_calls_and_emits_what_the_join_does(shape: str) -> None:
    slow_calls, slow_out, _ = run_script(shape, fast=False)
    fast_calls, fast_out, took_fast = run_script(shape, fast=True)
    assert took_fast, f"{shape} should take the fast path"
    assert fast_calls == slow_calls
    assert fast_out == slow_out


def test_each_call_sees_the_newest_model_and_its_outputs_name_both_parents() -> None:
    calls, out, _ = run_script("score", fast=True)
    assert calls == [("score", ("m1", 5)), ("score", ("m1", 6)), ("score", ("m1", 0)),
                     ("score", ("m1", None)), ("score", ("m1", 7)), ("score", ("m3", 8)),
                     ("score", ("m3", 0))]
    data = [(values, parents) for port, values, parents in out[:-1] if port == "data"]
    assert data == [([("m1", 5)], [(1, 100)]),  # the waiting message, fired by the model
                    ([("m1", 6), ("m1", 7)], [(2, 100), (5, 100)]),
                    ([("m3", 8)], [(6, 102)])]
    errors = [values for port, values, _parents in out[:-1] if port == "error"]
    assert errors == [[("ValueError", "zero", [3, 100])], [("ValueError", "zero", [7, 102])]]


def test_a_latest_input_that_does_not_wait_gives_none_until_its_value_comes() -> None:
    calls, _out, _ = run_script("hinted", fast=True)
    assert calls[:3] == [("hinted", (None, None, 5)), ("hinted", ("m1", None, 6)),
                         ("hinted", ("m1", None, 0))]


def test_a_sink_is_called_with_the_latest_values_and_its_failures_are_records() -> None:
    calls, out, _ = run_script("keep", fast=True)
    assert [c for _name, c in calls] == [("m1", 5), ("m1", 6), ("m1", 0), ("m1", None),
                                         ("m1", 7), ("m3", 8), ("m3", 0)]
    assert [port for port, *_rest in out[:-1]] == ["error", "error"]
    assert out[-1] == ("finish", [], 7, 2)


def test_a_sink_that_returns_a_generator_has_it_run() -> None:
    calls, _out, _ = run_script("lazy", fast=True)
    assert calls == [("lazy", v) for v in (5, 6, 0, None, 7, 8, 0)]
