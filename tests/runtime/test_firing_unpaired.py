"""The ``unpaired`` tag: a component called once per message of any stream input."""

from __future__ import annotations

from typing import Any

import runtime
from runtime import UNPAIRED_TAG, component, default_registry, latest
from runtime._collector import RunContext
from runtime._firing import FiringRule
from runtime._messages import Batch
from runtime.testing import memory_source
from tests.flowkit import make_flow


@component("u.each", inputs={"left": "Any", "right": "Any", "model": latest()},
           outputs={"data": "Any"}, tags=[UNPAIRED_TAG])
def each(left: Any, right: Any, model: Any) -> Any:
    """Say which input the call is for."""
    return (left, right, model)


SPECS = [each, memory_source("u.src", [1]), memory_source("u.models", ["m"])]
FLOW = ({"l": "u.src", "r": "u.src", "m": "u.models", "e": "u.each"},
        ["l.data->e.left", "r.data->e.right", "m.data->e.model"])


def rule() -> FiringRule:
    registry = default_registry().with_components(*SPECS)
    plan = runtime.plan(make_flow(*FLOW), registry=registry)
    made = FiringRule(plan.nodes["e"], RunContext())
    made.start()
    return made


def batch(origin: str, ids: list[int], values: list[Any]) -> Batch:
    return Batch(origin, ids, [()] * len(ids), values)


def test_each_stream_message_fires_alone_in_arrival_order_with_none_on_the_others() -> None:
    e = rule()
    assert e.process([("left", batch("l.data", [1, 2], ["a", "b"]))]) == {}  # no model yet
    out = e.process([("model", batch("m.data", [3], ["m1"]))])
    assert out["data"].values == [("a", None, "m1"), ("b", None, "m1")]
    assert list(out["data"].parents) == [(1, 3), (2, 3)]
    out = e.process([("right", batch("r.data", [4], ["x"])),
                     ("left", batch("l.data", [5], ["c"])),
                     ("right", batch("r.data", [6, 7], ["y", "z"]))])
    assert out["data"].values == [(None, "x", "m1"), ("c", None, "m1"),
                                  (None, "y", "m1"), (None, "z", "m1")]
    assert "error" not in e.finish()  # nothing is left unpaired

