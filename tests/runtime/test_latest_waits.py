"""A latest input declared ``waits=False``: stream messages go on without its first value."""

from __future__ import annotations

from typing import Any

import runtime
from runtime import component, default_registry, latest
from runtime._collector import RunContext
from runtime._firing import FiringRule
from runtime._schedule import LatestSchedule, NodeSchedule, ScheduledRule, rule_for
from runtime.testing import memory_source
from tests.flowkit import make_flow, make_run, run_guarded
from tests.runtime.test_firing import batch, values


@component("w.apply", inputs={"data": "Any", "model": latest(),
                              "extra": latest(required=False, waits=False)},
           outputs={"data": "Any"})
def apply(data: Any, model: Any, extra: Any) -> Any:
    """The message with the latest model and, once there is one, the latest extra."""
    return (data, model, extra)


@component("w.only", inputs={"model": latest(), "extra": latest(required=False, waits=False)},
           outputs={"data": "Any"})
def only(model: Any, extra: Any) -> Any:
    """Fires on every update of its latest inputs."""
    return (model, extra)


SPECS = [apply, only, memory_source("w.src", [1]), memory_source("w.nothing", [])]
NODES: dict[str, Any] = {"d": "w.src", "m": "w.src", "x": "w.src", "a": "w.apply"}
EDGES = ["d.data->a.data", "m.data->a.model", "x.data->a.extra"]


def rule(nodes: dict[str, Any], edges: list[str], node: str) -> FiringRule:
    plan = runtime.plan(make_flow(nodes, edges),
                        registry=default_registry().with_components(*SPECS))
    made = FiringRule(plan.nodes[node], RunContext())
    made.start()
    return made


def test_messages_wait_for_a_latest_input_that_waits_but_not_for_one_that_does_not() -> None:
    a = rule(NODES, EDGES, "a")
    assert a.process([("data", batch("d.data", [1], ["r1"]))]) == {}  # no model yet
    out = a.process([("model", batch("m.data", [2], ["m"]))])
    assert values(out) == [("r1", "m", None)]  # the extra, connected, held nothing back
    out = a.process([("extra", batch("x.data", [3], ["e"])),
                     ("data", batch("d.data", [4], ["r2"]))])
    assert values(out) == [("r2", "m", "e")]
    assert list(out["data"].parents) == [(4, 2, 3)]


def test_a_latest_input_that_does_not_wait_never_makes_messages_fail_at_the_end() -> None:
    a = rule(NODES, EDGES, "a")
    a.process([("model", batch("m.data", [2], ["m"])),
               ("data", batch("d.data", [1, 5], ["r1", "r2"]))])
    assert a.finish() == {}
    assert a.errors == 0


def test_a_node_of_latest_inputs_fires_once_those_that_wait_have_a_value() -> None:
    o = rule({"m": "w.src", "x": "w.src", "o": "w.only"},
             ["m.data->o.model", "x.data->o.extra"], "o")
    assert values(o.process([("model", batch("m.data", [1], ["m"]))])) == [("m", None)]
    assert values(o.process([("extra", batch("x.data", [2], ["e"]))])) == [("m", "e")]


def test_in_a_run_a_latest_input_that_never_gets_a_value_holds_nothing_back() -> None:
    result = run_guarded(make_run({"d": "w.src", "m": "w.src", "x": "w.nothing",
                                   "a": "w.apply", "n": "stream.count"},
                                  [*EDGES, "a.data->n.data"], SPECS))
    assert result.status == "ok"
    assert result.edges["a.data->n.data"] == 1


def test_the_port_says_it_does_not_wait() -> None:
    described = {p["name"]: p for p in apply.to_json()["inputs"]}
    assert described["extra"]["waits"] is False
    assert "waits" not in described["model"]


def test_a_replays_schedule_does_not_make_a_latest_input_that_does_not_wait_wait() -> None:
    # The recorded call named only the model ({} would be "whatever the input holds"): in a
    # replay the message fires at once, the extra None, as it did when recorded.
    plan = runtime.plan(make_flow(NODES, EDGES),
                        registry=default_registry().with_components(*SPECS))
    schedule = LatestSchedule({"a": NodeSchedule(calls={"d.data": [(0, {})]})})
    a = rule_for(plan.nodes["a"], RunContext(), schedule)
    assert isinstance(a, ScheduledRule)
    a.start()
    a.process([("model", batch("m.data", [2], ["m"]))])
    assert values(a.process([("data", batch("d.data", [1], ["r1"]))])) == [("r1", "m", None)]
