"""The ``stream`` family: stream.range, identity, chunks, collect and count."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from contract import contract_tests, param_problems

import runtime
from runtime.testing import MemorySink, memory_source, run_component
from tests.flowkit import make_flow

FAMILY_MODULE = "components.stream"
CONTRACT: dict[str, dict[str, Any]] = {
    "stream.range": {
        "inputs": {},
        "outputs": {"data": "int"},
        "required": {"count"},
        "defaults": {"start": 0},
    },
    "stream.identity": {
        "inputs": {"data": ("Any", "stream")},
        "outputs": {"data": "Any"},
        "required": set(),
        "defaults": {},
    },
    "stream.chunks": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"data": "DataFrame"},
        "required": {"rows"},
        "defaults": {},
    },
    "stream.collect": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"data": "DataFrame"},
        "required": set(),
        "defaults": {},
    },
    "stream.throttle": {
        "inputs": {"data": ("Any", "stream"), "start": ("Any", "latest")},
        "outputs": {"data": "Any"},
        "required": {"rows_per_second"},
        "defaults": {"delay_seconds": 0.0},
    },
    "stream.count": {
        "inputs": {"data": ("Any", "stream")},
        "outputs": {"count": "int"},
        "required": set(),
        "defaults": {"unit": "messages"},
    },
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


def run_chain(values: Any, steps: list[tuple[str, str, dict[str, Any]]],
              out_port: str = "data") -> tuple[runtime.RunResult, list[Any]]:
    """Run memory source -> steps (node id, component, params) -> memory sink."""
    source = memory_source("testing.values", values)
    sink = MemorySink()
    nodes = [{"id": "src", "component": source.id}, {"id": "sink", "component": sink.spec.id}]
    edges = []
    previous = "src.data"
    for node_id, component_id, params in steps:
        nodes.append({"id": node_id, "component": component_id, "params": params})
        edges.append({"source": previous, "target": f"{node_id}.data"})
        previous = f"{node_id}.data"
    previous = f"{steps[-1][0]}.{out_port}"
    edges.append({"source": previous, "target": "sink.data"})
    flow = runtime.Flow.model_validate({"edgewise": 1, "name": "chain", "nodes": nodes,
                                        "edges": edges})
    registry = runtime.default_registry().with_components(source, sink.spec)
    run = runtime.Run(runtime.plan(flow, registry=registry))
    sink.watch(run, [f"{previous}->sink.data"])
    return run.run(), sink.values


# -- stream.range -----------------------------------------------------------------------

@pytest.mark.parametrize(("params", "expected"), [
    ({"count": 5}, [0, 1, 2, 3, 4]),
    ({"count": 3, "start": 10}, [10, 11, 12]),
    ({"count": 2, "start": -1}, [-1, 0]),
    ({"count": 0}, []),
])
def test_range_emits_count_integers_from_start(params: dict[str, int],
                                               expected: list[int]) -> None:
    out = run_component("stream.range", params=params)
    assert out.errors == []
    assert out["data"] == expected
    assert all(type(v) is int for v in out["data"])


def test_range_emits_one_message_per_integer() -> None:
    out = run_component("stream.range", params={"count": 3000})
    assert out["data"] == list(range(3000))
    assert out.result.nodes["node"].fired == 1
    assert out.result.edges["node.data->out_data.data"] == 3000


@pytest.mark.parametrize("params", [{}, {"count": -1}, {"count": "many"}])
def test_range_needs_a_non_negative_count(params: dict[str, Any]) -> None:
    problems = param_problems("stream.range", params)
    assert [(p.node, p.param) for p in problems] == [("n", "count")]


# -- stream.identity --------------------------------------------------------------------

def test_identity_passes_every_message_unchanged_and_in_order() -> None:
    frame = pd.DataFrame({"a": [1]})
    values: list[Any] = [3, "x", {"k": [1]}, 2.5, frame]
    out = run_component("stream.identity", {"data": values})
    assert out["data"][:4] == [3, "x", {"k": [1]}, 2.5]
    assert out["data"][4] is frame
    assert out.errors == []


def test_identity_keeps_lineage_one_parent_per_message() -> None:
    out = run_component("stream.identity", {"data": [1, 2, 3]})
    envs = out.envelopes["data"]
    assert [e.value for e in envs] == [1, 2, 3]
    assert all(len(e.parents) == 1 for e in envs)
    assert len({e.parents[0] for e in envs}) == 3
    assert all(e.node == "node" and e.port == "data" for e in envs)


# -- stream.chunks ----------------------------------------------------------------------

def test_chunks_split_each_frame_and_keep_row_ids() -> None:
    frame = pd.DataFrame({"a": range(10)}, index=range(100, 110))
    out = run_component("stream.chunks", {"data": [frame]}, {"rows": 4})
    chunks = out["data"]
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert [list(c.index) for c in chunks] == [[100, 101, 102, 103], [104, 105, 106, 107],
                                                [108, 109]]
    pd.testing.assert_frame_equal(pd.concat(chunks), frame)


def test_chunks_split_every_frame_received_separately() -> None:
    first = pd.DataFrame({"a": range(3)})
    second = pd.DataFrame({"a": range(3, 8)}, index=range(3, 8))
    out = run_component("stream.chunks", {"data": [first, second]}, {"rows": 2})
    assert [list(c.index) for c in out["data"]] == [[0, 1], [2], [3, 4], [5, 6], [7]]


def test_chunks_of_a_frame_smaller_than_rows_is_the_frame() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    [chunk] = run_component("stream.chunks", {"data": [frame]}, {"rows": 50})["data"]
    pd.testing.assert_frame_equal(chunk, frame)


@pytest.mark.parametrize("params", [{}, {"rows": 0}, {"rows": -3}])
def test_chunks_needs_a_positive_rows(params: dict[str, Any]) -> None:
    problems = param_problems("stream.chunks", params)
    assert [(p.node, p.param) for p in problems] == [("n", "rows")]


# -- stream.collect ---------------------------------------------------------------------

def test_collect_concatenates_and_emits_once_at_the_end() -> None:
    parts = [pd.DataFrame({"a": [i, i + 1]}, index=[10 * i, 10 * i + 1]) for i in range(5)]
    out = run_component("stream.collect", {"data": parts})
    assert out.errors == []
    [whole] = out["data"]
    pd.testing.assert_frame_equal(whole, pd.concat(parts))
    assert list(whole.index) == [0, 1, 10, 11, 20, 21, 30, 31, 40, 41]


def test_collect_gathers_the_chunks_that_chunks_made() -> None:
    frame = pd.DataFrame({"a": range(25), "b": [f"r{i}" for i in range(25)]},
                         index=range(500, 525))
    result, [whole] = run_chain(
        [frame], [("split", "stream.chunks", {"rows": 4}), ("gather", "stream.collect", {})])
    assert result.status == "ok"
    assert result.edges["split.data->gather.data"] == 7
    pd.testing.assert_frame_equal(whole, frame)


def test_collect_output_names_every_input_message_as_a_parent() -> None:
    # Lineage: a message holds the ids of the messages it was computed from.
    parts = [pd.DataFrame({"a": [i]}, index=[i]) for i in range(3)]
    source = memory_source("testing.frames", parts)
    sink = MemorySink()
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "lineage",
        "nodes": [{"id": "src", "component": source.id},
                  {"id": "gather", "component": "stream.collect"},
                  {"id": "sink", "component": sink.spec.id}],
        "edges": [{"source": "src.data", "target": "gather.data"},
                  {"source": "gather.data", "target": "sink.data"}]})
    registry = runtime.default_registry().with_components(source, sink.spec)
    run = runtime.Run(runtime.plan(flow, registry=registry))
    sink.watch(run, ["gather.data->sink.data"])
    inputs: list[int] = []
    run.hooks.add("emitted", lambda edge, batch: inputs.extend(batch.ids)
                  if edge == "src.data->gather.data" else None)
    assert run.run().status == "ok"
    [envelope] = sink.envelopes
    assert len(inputs) == 3
    assert sorted(envelope.parents) == sorted(inputs)


def test_collect_of_an_empty_stream_emits_nothing() -> None:
    out = run_component("stream.collect", {"data": []})
    assert out.result.status == "ok"
    assert out["data"] == []


# -- stream.count -----------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 7, 2500])
def test_count_emits_the_number_of_messages_once_at_the_end(n: int) -> None:
    out = run_component("stream.count", {"data": list(range(n))})
    assert out.errors == []
    assert out["count"] == [n]


def test_count_counts_messages_of_any_type() -> None:
    out = run_component("stream.count", {"data": ["a", {"b": 1}, pd.DataFrame({"c": [1, 2]})]})
    assert out["count"] == [3]


def test_ten_identities_then_count() -> None:
    steps = [(f"id{i}", "stream.identity", {}) for i in range(10)]
    result, counts = run_chain(range(3, 5003), [*steps, ("count", "stream.count", {})],
                               out_port="count")
    assert result.status == "ok"
    assert counts == [5000]
    assert result.edges["id9.data->count.data"] == 5000


def test_count_rows_sums_the_rows_of_every_frame() -> None:
    frames = [pd.DataFrame({"a": range(n)}) for n in (3, 0, 7, 1)]
    out = run_component("stream.count", {"data": frames}, {"unit": "rows"})
    assert out.errors == []
    assert out["count"] == [len(pd.concat(frames))] == [11]


def test_count_rows_after_chunks_is_the_rows_of_the_source() -> None:
    frame = pd.DataFrame({"a": range(1003)})
    result, counts = run_chain([frame], [("split", "stream.chunks", {"rows": 100}),
                                         ("count", "stream.count", {"unit": "rows"})],
                               out_port="count")
    assert result.status == "ok"
    assert result.edges["split.data->count.data"] == 11
    assert counts == [1003]


def test_count_messages_is_the_default_and_counts_frames_as_one() -> None:
    frames = [pd.DataFrame({"a": range(5)}), pd.DataFrame({"a": range(2)})]
    assert run_component("stream.count", {"data": frames})["count"] == [2]
    assert run_component("stream.count", {"data": frames},
                         {"unit": "messages"})["count"] == [2]


def test_count_rows_of_something_else_is_an_error_record_and_not_counted() -> None:
    frame = pd.DataFrame({"a": range(4)})
    out = run_component("stream.count", {"data": [frame, 7, [1, 2], frame]}, {"unit": "rows"})
    assert out["count"] == [8]
    assert [e.error for e in out.errors] == ["TypeError", "TypeError"]
    assert "counts DataFrame rows, but got a message of type int" in out.errors[0].message
    assert "use unit 'messages'" in out.errors[0].message
    assert out.result.status == "errors"


def test_count_needs_a_known_unit() -> None:
    problems = param_problems("stream.count", {"unit": "bytes"})
    assert [(p.node, p.param) for p in problems] == [("n", "unit")]
    assert "'messages' or 'rows'" in problems[0].message


# -- stream.throttle --------------------------------------------------------------------

def test_throttle_passes_every_message_on_unchanged_at_no_more_than_its_pace() -> None:
    frame = pd.DataFrame({"a": range(1000)}, index=pd.RangeIndex(1000) * 3)
    parts = [frame.iloc[i:i + 100] for i in range(0, 1000, 100)]
    started = time.monotonic()
    result, out = run_chain(parts, [("t", "stream.throttle",
                                     {"rows_per_second": 2000, "delay_seconds": 0.1})])
    elapsed = time.monotonic() - started
    assert result.status == "ok"
    pd.testing.assert_frame_equal(pd.concat(out), frame)  # values and row ids kept
    assert elapsed >= 0.1 + 900 / 2000  # the last part starts at row 900: not before then


def test_throttle_counts_a_message_that_is_not_a_frame_as_one_row() -> None:
    started = time.monotonic()
    result, out = run_chain(list(range(5)), [("t", "stream.throttle", {"rows_per_second": 20})])
    assert result.status == "ok" and out == list(range(5))
    assert time.monotonic() - started >= 4 / 20


def test_throttle_with_a_start_input_plays_from_its_value_on() -> None:
    # The pace is kept from the moment start has a value, not from the first message.
    gate = threading.Event()
    released: list[float] = []

    @runtime.component("t.later_model", outputs={"data": "Any"}, threaded=True)
    def later_model() -> Iterator[Any]:
        """A model that is ready only once the test says so (None while it waits)."""
        while not gate.wait(0.01):
            yield None
        released.append(time.monotonic())
        yield "model"

    registry = runtime.default_registry().with_components(
        memory_source("t.rows", list(range(4)), "Any"), later_model)
    flow = make_flow({"rows": "t.rows", "model": "t.later_model",
                      "t": ("stream.throttle", {"rows_per_second": 10}),
                      "n": "stream.count"},
                     ["rows.data->t.data", "model.data->t.start", "t.data->n.data"])
    run = runtime.Run(runtime.plan(flow, registry=registry))
    passed: list[float] = []
    run.hooks.add("emitted", lambda edge, batch: edge == "t.data->n.data" and passed.extend(
        [time.monotonic()] * len(batch.values)))
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=run.run()), daemon=True)
    thread.start()
    time.sleep(0.3)  # longer than the whole play would take from the first message
    assert passed == []
    gate.set()
    thread.join(30)
    assert box["result"].status == "ok" and len(passed) == 4
    assert passed[-1] - released[0] >= 3 / 10  # the last message is row 3: 0.3 s in


@pytest.mark.parametrize("params", [{"rows_per_second": 0}, {"rows_per_second": 5,
                                                             "delay_seconds": -1}, {}])
def test_throttle_refuses_a_pace_that_means_nothing(params: dict[str, Any]) -> None:
    assert param_problems("stream.throttle", params)
