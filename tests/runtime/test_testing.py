"""The testing helpers: run_component, memory_source and MemorySink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import runtime
from runtime import ErrorRecord, FlowInvalidError, Registry, Run, component
from runtime.testing import ComponentRun, MemorySink, memory_source, run_component
from tests.flowkit import make_flow


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [0, 1, 2, 3], "b": [10, 20, 30, 40]}, index=[5, 6, 7, 8])


# -- run_component -------------------------------------------------------------------------


def test_the_documented_example_works(frame: pd.DataFrame) -> None:
    out = run_component("frame.query", {"data": [frame]}, {"expr": "a > 1"})
    assert isinstance(out, ComponentRun)
    assert out["data"][0]["a"].min() > 1
    assert out["data"][0].index.tolist() == [7, 8]
    assert out.errors == []
    assert out.result.status == "ok"


def test_run_component_feeds_every_value_as_one_message() -> None:
    out = run_component("stream.identity", {"data": [1, "two", [3], 4.0]})
    assert out["data"] == [1, "two", [3], 4.0]
    assert out.result.nodes["node"].fired == 4


def test_run_component_runs_a_source_with_params() -> None:
    out = run_component("stream.range", params={"count": 3, "start": 5})
    assert out["data"] == [5, 6, 7]
    assert all(e.parents == () for e in out.envelopes["data"])


def test_run_component_collects_every_output_port(frame: pd.DataFrame) -> None:
    out = run_component("ml.split", {"data": [frame]}, {"target": "b", "test_size": 0.5})
    assert set(out.outputs) == {"train", "test"}
    train, test = out["train"][0], out["test"][0]
    assert sorted(train.index.tolist() + test.index.tolist()) == [5, 6, 7, 8]
    assert "error" not in out.outputs


def test_run_component_returns_error_records(frame: pd.DataFrame) -> None:
    out = run_component("frame.select", {"data": [frame, frame[["a"]]]}, {"columns": ["b"]})
    assert len(out["data"]) == 1
    assert len(out.errors) == 1
    record = out.errors[0]
    assert isinstance(record, ErrorRecord)
    assert (record.node, record.component, record.error) == ("node", "frame.select",
                                                             "KeyError")
    assert out.result.status == "errors"
    assert [e.value for e in out.envelopes["error"]] == out.errors
    assert record.inputs == list(out.envelopes["error"][0].parents)


def test_run_component_envelopes_carry_lineage() -> None:
    out = run_component("stream.identity", {"data": [1, 2, 3]})
    envelopes = out.envelopes["data"]
    assert [e.value for e in envelopes] == [1, 2, 3]
    assert all(len(e.parents) == 1 for e in envelopes)
    assert len({e.id for e in envelopes} | {e.parents[0] for e in envelopes}) == 6
    assert {e.origin for e in envelopes} == {"node.data"}


def test_run_component_feeds_latest_ports() -> None:
    train = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [1.0, 3.0, 5.0]})
    model = LinearRegression().fit(train[["x"]], train["y"])
    chunks = [pd.DataFrame({"x": [3.0]}), pd.DataFrame({"x": [4.0, 5.0]})]
    out = run_component("ml.predict", {"data": chunks, "model": [model]})
    assert [c["prediction"].round(6).tolist() for c in out["data"]] == [[7.0], [9.0, 11.0]]


def test_run_component_with_fail_fast(frame: pd.DataFrame) -> None:
    out = run_component("frame.select", {"data": [frame]}, {"columns": ["zz"]},
                        fail_fast=True)
    assert out.result.status == "aborted"
    assert out.result.first_error is not None
    assert out.result.first_error.error == "KeyError"


def test_run_component_resolves_paths_against_base_dir(tmp_path: Path,
                                                       frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "in.csv", index=False)
    out = run_component("csv.read", params={"path": "in.csv", "chunk_rows": 3},
                        base_dir=tmp_path)
    assert [len(c) for c in out["data"]] == [3, 1]
    assert out["data"][1].index.tolist() == [3]


def test_run_component_refuses_bad_params_and_unknown_ids() -> None:
    with pytest.raises(FlowInvalidError, match="count"):
        run_component("stream.range", params={"count": -1})
    with pytest.raises(KeyError, match="no.such"):
        run_component("no.such", {"data": [1]})


def test_run_component_runs_a_spec_given_as_an_object() -> None:
    @component("mytests.square", inputs={"data": "Any"}, outputs={"data": "Any"})
    def square(data: int) -> int:
        return data * data

    out = run_component(square, {"data": [1, 2, 3]})
    assert out["data"] == [1, 4, 9]


def test_run_component_runs_the_spec_given_even_if_an_installed_one_has_its_id() -> None:
    @component("stream.identity", inputs={"data": "Any"}, outputs={"data": "Any"})
    def shout(data: str) -> str:
        return data.upper()

    out = run_component(shout, {"data": ["a", "b"]})
    assert out["data"] == ["A", "B"]


def test_run_component_with_a_registry_that_holds_the_spec() -> None:
    @component("mytests.negate", inputs={"data": "Any"}, outputs={"data": "Any"})
    def negate(data: int) -> int:
        return -data

    out = run_component("mytests.negate", {"data": [1, -2]}, registry=Registry([negate]))
    assert out["data"] == [-1, 2]


def test_run_component_with_a_class_component_and_its_end() -> None:
    out = run_component("stream.count", {"data": list(range(7))})
    assert out["count"] == [7]


# -- memory_source and MemorySink --------------------------------------------------------


def test_memory_source_and_sink_carry_values_through_a_flow() -> None:
    values = [{"a": 1}, [2], "three", 4]
    source = memory_source("mytests.values", values)
    values.append("added later")  # the source keeps what it was given
    sink = MemorySink()
    assert sink.spec.id == "testing.sink"
    registry = Registry([source, sink.spec])
    run = Run(runtime.plan(make_flow({"src": "mytests.values", "out": "testing.sink"},
                                     [("src.data", "out.data")]), registry=registry))
    sink.watch(run, ["src.data->out.data"])
    result = run.run()
    assert result.status == "ok"
    assert sink.values == [{"a": 1}, [2], "three", 4]
    assert [e.origin for e in sink.envelopes] == ["src.data"] * 4
    assert len({e.id for e in sink.envelopes}) == 4


def test_memory_sink_watches_several_edges_in_arrival_order() -> None:
    first = memory_source("mytests.first", [1, 2, 3])
    second = memory_source("mytests.second", [10, 20])
    sink = MemorySink("mytests.sink")
    registry = Registry([first, second, sink.spec])
    run = Run(runtime.plan(make_flow(
        {"a": "mytests.first", "b": "mytests.second", "out": "mytests.sink"},
        [("a.data", "out.data"), ("b.data", "out.data")]), registry=registry))
    sink.watch(run, ["a.data->out.data", "b.data->out.data"])
    run.run()
    assert sorted(sink.values) == [1, 2, 3, 10, 20]
    assert [v for v in sink.values if v < 10] == [1, 2, 3]
    assert {e.node for e in sink.envelopes} == {"a", "b"}


def test_memory_source_declares_its_output_type() -> None:
    typed = memory_source("mytests.numbers", [1], "int")
    assert typed.outputs["data"].type == "int"
    assert typed.category == "testing"
    assert memory_source("mytests.any", []).outputs["data"].type == "Any"
    registry = runtime.default_registry().with_components(typed)
    flow = make_flow({"n": "mytests.numbers", "q": "frame.query"}, [("n.data", "q.data")])
    problems = runtime.validate(flow, registry=registry)
    assert any("expects DataFrame" in p.message for p in problems)


def test_memory_sink_spec_is_a_sink_with_one_input() -> None:
    sink = MemorySink("mytests.keep")
    assert list(sink.spec.inputs) == ["data"]
    assert sink.spec.data_outputs == []
    assert sink.values == [] and sink.envelopes == []


def test_memory_source_values_are_emitted_in_order_in_many_batches() -> None:
    values: list[Any] = list(range(5_000))
    out = run_component("stream.identity", {"data": values})
    assert out["data"] == values
