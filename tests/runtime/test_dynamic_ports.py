"""Ports set by params: declaring them, validating against them, listing and running them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import Field

import runtime
from runtime import ComponentDefinitionError, Params, Registry, component, latest
from runtime._registry import PortDecl
from runtime.testing import MemorySink, memory_source, run_component
from tests.flowkit import make_flow


class TotalParams(Params):
    """Settings of test.total."""

    names: list[str] = Field(default=["a", "b"], description="One input port per name.")


def total_inputs(params: TotalParams) -> dict[str, PortDecl]:
    return dict.fromkeys(params.names, "int")


@component("test.total", inputs=total_inputs, outputs={"total": "int"}, params=TotalParams)
def total(*, params: TotalParams, **inputs: int) -> int:
    """Add one number from each input; the inputs are named by params."""
    return sum(inputs[name] for name in params.names)


class Weighted:
    """A class component with inputs set by params: ``__call__`` takes ``**inputs``."""

    def __init__(self, params: TotalParams) -> None:
        self.weights = {name: i + 1 for i, name in enumerate(params.names)}

    def __call__(self, **inputs: int) -> int:
        """Weigh each input by its place."""
        return sum(self.weights[name] * value for name, value in inputs.items())


weighted = component("test.weighted", inputs=total_inputs, outputs={"total": "int"},
                     params=TotalParams)(Weighted)


class SpreadParams(Params):
    """Settings of test.spread."""

    outs: list[str] = Field(default=["x"], description="One output port per name.")


def spread_outputs(params: SpreadParams) -> dict[str, PortDecl]:
    return dict.fromkeys(params.outs, "int")


@component("test.spread", inputs={"data": "int"}, outputs=spread_outputs, params=SpreadParams)
def spread(data: int, *, params: SpreadParams) -> dict[str, int]:
    """Send ``data * (i + 1)`` to the i-th output."""
    return {name: data * (i + 1) for i, name in enumerate(params.outs)}


REGISTRY = Registry([total, weighted, spread])


def problems_of(nodes: list[dict[str, Any]], edges: list[tuple[str, str]],
                registry: Registry = REGISTRY) -> list[runtime.Problem]:
    return runtime.validate(make_flow(nodes, edges), registry=registry)


# -- what a declaration gives -----------------------------------------------------------

def test_the_listed_ports_are_those_of_the_default_params() -> None:
    assert list(total.inputs) == ["a", "b"]
    assert list(spread.outputs) == ["x", "error"]
    assert total.dynamic_sides == ["inputs"]
    assert spread.dynamic_sides == ["outputs"]
    info = {c["id"]: c for c in runtime.components(REGISTRY)}
    assert info["test.total"]["dynamic_ports"] is True
    assert info["test.total"]["dynamic_sides"] == ["inputs"]
    assert [p["name"] for p in info["test.total"]["inputs"]] == ["a", "b"]
    assert info["test.spread"]["dynamic_sides"] == ["outputs"]
    assert [p["name"] for p in info["test.spread"]["outputs"]] == ["x", "error"]


def test_static_components_say_their_ports_are_not_dynamic() -> None:
    for info in runtime.components():
        # ml.serve's challenger input is required in canary mode only
        if info["id"] not in ("frame.route", "python.function", "ml.serve"):
            assert info["dynamic_ports"] is False, info["id"]
            assert info["dynamic_sides"] == []


def test_resolve_gives_the_ports_of_the_params_in_order() -> None:
    resolved = total.resolve(TotalParams(names=["z", "a", "m"]))
    assert list(resolved.inputs) == ["z", "a", "m"]
    assert resolved.inputs["m"].type == "int" and resolved.inputs["m"].name == "m"
    assert list(spread.resolve(SpreadParams(outs=["p", "q"])).outputs) == ["p", "q", "error"]
    assert list(total.inputs) == ["a", "b"]  # the component itself is unchanged


def test_a_host_resolves_ports_for_given_params() -> None:
    got = runtime.resolve_ports("test.spread", {"outs": ["hi", "lo"]}, registry=REGISTRY)
    assert got["problems"] == []
    assert got["dynamic_sides"] == ["outputs"]
    assert [p["name"] for p in got["outputs"]] == ["hi", "lo", "error"]
    assert got["inputs"] == [{"name": "data", "type": "int", "mode": "stream",
                              "required": True, "doc": ""}]


def test_resolving_invalid_params_gives_problems_not_ports() -> None:
    got = runtime.resolve_ports("test.spread", {"outs": "hi"}, node="s", registry=REGISTRY)
    assert got["inputs"] is None and got["outputs"] is None
    [problem] = got["problems"]
    assert problem["node"] == "s" and problem["param"] == "outs"
    unknown = runtime.resolve_ports("test.nothing", {}, registry=REGISTRY)
    assert unknown["problems"][0]["code"] == "unknown-component"


def test_resolving_a_static_component_gives_its_ports() -> None:
    got = runtime.resolve_ports("stream.count", {})
    assert got["dynamic_sides"] == []
    assert [p["name"] for p in got["inputs"]] == ["data"]


# -- validation uses the resolved ports -------------------------------------------------

def test_an_edge_to_an_input_the_params_do_not_give_names_node_port_and_ports() -> None:
    src = memory_source("testing.ints", [1], "int")
    registry = REGISTRY.with_components(src)
    problems = problems_of(
        [{"id": "s", "component": src.id}, {"id": "t", "component": "test.total"}],
        [("s.data", "t.a"), ("s.data", "t.b"), ("s.data", "t.c")], registry)
    [problem] = problems
    assert problem.code == "unknown-port" and problem.edge == "s.data->t.c"
    assert "node 't' (test.total) has no input 'c'" in problem.message
    assert problem.message.endswith("its inputs are: a, b")


def test_the_same_edge_is_fine_when_the_params_give_the_port() -> None:
    src = memory_source("testing.ints", [1], "int")
    registry = REGISTRY.with_components(src)
    assert problems_of(
        [{"id": "s", "component": src.id},
         {"id": "t", "component": "test.total", "params": {"names": ["a", "b", "c"]}}],
        [("s.data", "t.a"), ("s.data", "t.b"), ("s.data", "t.c")], registry) == []


def test_an_edge_from_an_output_the_params_do_not_give_names_the_outputs() -> None:
    problems = problems_of(
        [{"id": "sp", "component": "test.spread", "params": {"outs": ["hi", "lo"]}},
         {"id": "t", "component": "test.total", "params": {"names": ["a"]}}],
        [("sp.mid", "t.a")])
    messages = [p.message for p in problems]
    assert any("node 'sp' (test.spread) has no output 'mid' with its params" in m
               and "its outputs are: hi, lo, error" in m for m in messages), messages


def test_required_inputs_follow_the_params() -> None:
    problems = problems_of([{"id": "t", "component": "test.total",
                             "params": {"names": ["a", "q"]}}], [])
    unconnected = sorted(p.message for p in problems if p.code == "unconnected-input")
    assert unconnected == ["node 't': required input 'a' (int) is not connected",
                           "node 't': required input 'q' (int) is not connected"]


def test_invalid_params_are_reported_without_guessing_at_ports() -> None:
    src = memory_source("testing.ints", [1], "int")
    registry = REGISTRY.with_components(src)
    problems = problems_of(
        [{"id": "s", "component": src.id},
         {"id": "t", "component": "test.total", "params": {"names": "a"}}],
        [("s.data", "t.c")], registry)
    assert [(p.node, p.param, p.code) for p in problems] == [("t", "names", "param")]


def test_a_port_name_the_params_make_invalid_is_a_problem_on_the_node() -> None:
    problems = problems_of([{"id": "t", "component": "test.total",
                             "params": {"names": ["a", "no good"]}}], [])
    [problem] = problems
    assert problem.code == "ports" and problem.node == "t"
    assert "input port name 'no good' is not a valid name" in problem.message


def test_connection_check_uses_the_resolved_ports() -> None:
    nodes = [{"id": "sp", "component": "test.spread", "params": {"outs": ["hi"]}},
             {"id": "t", "component": "test.total", "params": {"names": ["a", "k"]}}]
    assert runtime.connection_problem(make_flow(nodes), "sp.hi", "t.k", registry=REGISTRY) is None
    refused = runtime.connection_problem(make_flow(nodes), "sp.x", "t.k", registry=REGISTRY)
    assert refused is not None and "has no output 'x'" in refused.message


# -- the engine runs the resolved ports -------------------------------------------------

def run_flow_collect(nodes: list[dict[str, Any]], edges: list[tuple[str, str]],
                     sources: dict[str, list[int]], watch: str,
                     ) -> tuple[runtime.RunResult, list[Any]]:
    specs = [memory_source(f"testing.src.{name}", values, "int")
             for name, values in sources.items()]
    sink = MemorySink()
    all_nodes = [*nodes, *[{"id": f"src_{n}", "component": s.id}
                           for n, s in zip(sources, specs, strict=True)],
                 {"id": "sink", "component": sink.spec.id}]
    registry = REGISTRY.with_components(*specs, sink.spec)
    run = runtime.Run(runtime.plan(make_flow(all_nodes, [*edges, (watch, "sink.data")]),
                                   registry=registry))
    sink.watch(run, [f"{watch}->sink.data"])
    return run.run(), sink.values


@pytest.mark.parametrize("component_id", ["test.total", "test.weighted"])
def test_a_function_receives_dynamic_inputs_by_name(component_id: str) -> None:
    result, values = run_flow_collect(
        [{"id": "t", "component": component_id, "params": {"names": ["x", "y", "z"]}}],
        [("src_x.data", "t.x"), ("src_y.data", "t.y"), ("src_z.data", "t.z")],
        {"x": [1, 2, 3], "y": [10, 20, 30], "z": [100, 200, 300]}, "t.total")
    assert result.status == "ok"
    if component_id == "test.total":
        assert values == [111, 222, 333]
    else:
        assert values == [1 + 20 + 300, 2 + 40 + 600, 3 + 60 + 900]


def test_one_dynamic_input_does_not_take_the_positional_fast_path() -> None:
    result, values = run_flow_collect(
        [{"id": "t", "component": "test.total", "params": {"names": ["only"]}}],
        [("src_v.data", "t.only")], {"v": [4, 5]}, "t.total")
    assert result.status == "ok"
    assert values == [4, 5]


def test_dynamic_outputs_emit_on_the_ports_of_the_params() -> None:
    out = run_component(spread, {"data": [1, 2]}, {"outs": ["one", "two", "three"]},
                        registry=REGISTRY)
    assert out.errors == []
    assert out["one"] == [1, 2] and out["two"] == [2, 4] and out["three"] == [3, 6]


# -- what a declaration may not do ------------------------------------------------------

def test_dynamic_inputs_need_a_function_taking_keyword_inputs() -> None:
    with pytest.raises(ComponentDefinitionError, match=r"\*\*inputs"):
        @component("test.bad", inputs=total_inputs, params=TotalParams)
        def bad(a: int, *, params: TotalParams) -> None:
            """Takes only a."""


def test_a_named_parameter_must_be_among_the_resolved_inputs() -> None:
    @component("test.named", inputs=total_inputs, outputs={"total": "int"}, params=TotalParams)
    def named(a: int, *, params: TotalParams, **rest: int) -> int:
        """Takes a by name and the rest by keyword."""
        return a + sum(rest.values())

    assert list(named.inputs) == ["a", "b"]
    problems = problems_of([{"id": "n", "component": "test.named",
                             "params": {"names": ["b", "c"]}}], [], Registry([named]))
    [problem] = [p for p in problems if p.code == "ports"]
    assert "its function takes ['a']" in problem.message


def test_a_ports_function_may_not_declare_the_error_output() -> None:
    with pytest.raises(ComponentDefinitionError, match="'error' output is built in"):
        @component("test.err", outputs=lambda _p: {"error": "int"})
        def err() -> Iterator[int]:
            """Emit nothing."""
            yield from ()


def test_a_ports_function_that_fails_on_the_defaults_is_a_definition_error() -> None:
    def broken(_params: Params) -> dict[str, PortDecl]:
        msg = "no ports today"
        raise RuntimeError(msg)

    with pytest.raises(ComponentDefinitionError, match="no ports today"):
        component("test.broken", outputs=broken)(lambda: None)


def test_defaults_that_are_not_valid_params_list_no_ports() -> None:
    class Needs(Params):
        """Settings with no default."""

        outs: list[str] = Field(description="Output names.")

    @component("test.needs", outputs=lambda p: dict.fromkeys(p.outs, "int"), params=Needs)
    def needs(*, params: Needs) -> None:
        """Emit nothing."""

    assert list(needs.outputs) == ["error"]
    assert list(needs.resolve(Needs(outs=["k"])).outputs) == ["k", "error"]


def test_a_single_dynamic_output_still_gets_a_dict() -> None:
    out = run_component(spread, {"data": [3, 4]}, {"outs": ["only"]}, registry=REGISTRY)
    assert out.errors == []
    assert out["only"] == [3, 4]


def test_an_instance_made_from_the_component_has_the_ports_of_its_params() -> None:
    instance = spread.instantiate(SpreadParams(outs=["k", "m"]))
    assert list(instance.spec.outputs) == ["k", "m", "error"]
    assert list(instance.emissions(instance.call(5))) == [("k", 5), ("m", 10)]


class ScaledParams(Params):
    """Settings of test.scaled."""

    latest_factor: bool = Field(default=True, description="Take the factor as a latest input.")


def scaled_inputs(params: ScaledParams) -> dict[str, PortDecl]:
    return {"data": "int", "factor": latest("int") if params.latest_factor else "int"}


@component("test.scaled", inputs=scaled_inputs, outputs={"data": "int"}, params=ScaledParams)
def scaled(data: int, **inputs: int) -> int:
    """Multiply each number by the factor; ``data`` is named, the rest come by keyword."""
    return data * inputs["factor"]


def test_dynamic_inputs_may_be_latest_and_named() -> None:
    assert scaled.inputs["factor"].mode == "latest"
    registry = REGISTRY.with_components(scaled)
    as_stream = scaled.resolve(ScaledParams(latest_factor=False))
    assert as_stream.inputs["factor"].mode == "stream"
    out = run_component(scaled, {"data": [1, 2, 3], "factor": [10]}, registry=registry)
    assert out.errors == []
    assert sorted(out["data"]) == [10, 20, 30]  # the latest factor is kept for every number
    paired = run_component(scaled, {"data": [1, 2, 3], "factor": [10, 100, 1000]},
                           {"latest_factor": False}, registry=registry)
    assert paired["data"] == [10, 200, 3000]  # as a stream: one factor per number
