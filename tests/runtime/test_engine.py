"""The local engine: firing rule, latest ports, ends, lineage, errors, stop, back pressure."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import runtime
from runtime import (
    ErrorRecord,
    Port,
    Run,
    RunOptions,
    RunResult,
    component,
    latest,
)
from runtime.engines import Hooks
from runtime.testing import memory_source
from tests.flowkit import make_run, run_guarded

# -- helpers ----------------------------------------------------------------------------


def keeper(component_id: str, *, threaded: bool = False) -> tuple[runtime.ComponentSpec,
                                                                   list[Any]]:
    """A sink that keeps every value it receives."""
    got: list[Any] = []

    @component(component_id, inputs={"data": "Any"}, threaded=threaded)
    def keep(data: Any) -> None:
        got.append(data)

    return keep, got


def record_edges(run: Run) -> dict[str, list[runtime.Envelope]]:
    """Every envelope put on every edge, through the public ``emitted`` hook."""
    seen: dict[str, list[runtime.Envelope]] = {}

    def emitted(edge: str, batch: Any) -> None:
        seen.setdefault(edge, []).extend(batch)

    run.hooks.add("emitted", emitted)
    return seen


@component("t.double", inputs={"data": "Any"}, outputs={"data": "Any"})
def double(data: Any) -> Any:
    """Double a value."""
    return data * 2


@component("t.pair", inputs={"left": "Any", "right": "Any"}, outputs={"data": "Any"})
def pair(left: Any, right: Any) -> Any:
    """Pair two messages."""
    return (left, right)


@component("t.apply", inputs={"data": "Any", "model": latest()}, outputs={"data": "Any"})
def apply(data: Any, model: Any) -> Any:
    """Score data with the latest model."""
    return (model, data)


@component("t.triple", inputs={"data": "Any"}, outputs={"data": "Any"})
def triple(data: Any) -> Iterator[Any]:
    """Emit three messages per input."""
    for k in range(3):
        yield (data, k)


# -- fan-out and fan-in -------------------------------------------------------------------


def test_fan_out_every_target_receives_the_same_messages() -> None:
    sink_a, got_a = keeper("t.keep_a")
    sink_b, got_b = keeper("t.keep_b")
    sink_c, got_c = keeper("t.keep_c")
    run = make_run(
        {"src": ("stream.range", {"count": 300}), "a": "t.keep_a", "b": "t.keep_b",
         "dbl": "t.double", "c": "t.keep_c"},
        ["src.data->a.data", "src.data->b.data", "src.data->dbl.data", "dbl.data->c.data"],
        [sink_a, sink_b, sink_c, double], RunOptions(batch_size=16))
    seen = record_edges(run)
    result = run_guarded(run)
    assert result.status == "ok"
    assert got_a == list(range(300))
    assert got_b == list(range(300))
    assert got_c == [2 * i for i in range(300)]
    ids_a = [e.id for e in seen["src.data->a.data"]]
    assert ids_a == [e.id for e in seen["src.data->b.data"]]
    assert ids_a == [e.id for e in seen["src.data->dbl.data"]]
    assert result.edges["src.data->a.data"] == result.edges["src.data->b.data"] == 300


def test_fan_in_merges_every_message_of_every_source() -> None:
    sink, got = keeper("t.keep")
    run = make_run(
        {"one": ("stream.range", {"count": 500}),
         "two": ("stream.range", {"count": 500, "start": 10_000}), "k": "t.keep"},
        ["one.data->k.data", "two.data->k.data"], [sink], RunOptions(batch_size=32))
    result = run_guarded(run)
    assert result.status == "ok"
    assert sorted(got) == list(range(500)) + list(range(10_000, 10_500))
    # each source's messages keep their own order inside the merge
    assert [v for v in got if v < 10_000] == list(range(500))
    assert [v for v in got if v >= 10_000] == list(range(10_000, 10_500))
    assert result.nodes["k"].fired == 1000


def test_two_stream_inputs_fire_only_in_pairs() -> None:
    left = memory_source("t.left", [1, 2, 3, 4, 5])
    right = memory_source("t.right", ["a", "b", "c"])
    sink, got = keeper("t.keep")
    run = make_run({"l": "t.left", "r": "t.right", "p": "t.pair", "k": "t.keep"},
                   ["l.data->p.left", "r.data->p.right", "p.data->k.data"],
                   [left, right, pair, sink])
    result = run_guarded(run)
    assert got == [(1, "a"), (2, "b"), (3, "c")]
    assert result.nodes["p"].fired == 3
    # the two messages left without a partner are reported, not silently dropped
    assert result.status == "errors"
    assert result.nodes["p"].errors == 1
    assert result.first_error is not None
    assert "unevenly" in result.first_error.message


# -- latest ports ----------------------------------------------------------------------


def test_latest_value_is_kept_and_not_consumed() -> None:
    models = memory_source("t.models", ["m1"])
    data = memory_source("t.data", list(range(50)))
    sink, got = keeper("t.keep")
    run = make_run({"m": "t.models", "d": "t.data", "a": "t.apply", "k": "t.keep"},
                   ["m.data->a.model", "d.data->a.data", "a.data->k.data"],
                   [models, data, apply, sink], RunOptions(batch_size=8))
    seen = record_edges(run)
    result = run_guarded(run)
    assert result.status == "ok"
    assert got == [("m1", i) for i in range(50)]
    # lineage: each output comes from its data message and the one model message
    model_id = seen["m.data->a.model"][0].id
    data_ids = [e.id for e in seen["d.data->a.data"]]
    assert [e.parents for e in seen["a.data->k.data"]] == [(d, model_id) for d in data_ids]


def test_stream_data_arriving_before_the_latest_value_waits_for_it() -> None:
    data_sent = threading.Event()
    order: list[str] = []

    @component("t.data", outputs={"data": "Any"})
    def data() -> Iterator[int]:
        yield from range(20)

    @component("t.models", outputs={"data": "Any"}, threaded=True)
    def models() -> Iterator[str]:
        assert data_sent.wait(5), "the data never reached the node"
        yield "m1"

    sink, got = keeper("t.keep")
    run = make_run({"d": "t.data", "m": "t.models", "a": "t.apply", "k": "t.keep"},
                   ["d.data->a.data", "m.data->a.model", "a.data->k.data"],
                   [data, models, apply, sink])

    def emitted(edge: str, batch: Any) -> None:
        if edge.endswith("->a.data") or edge.endswith("->a.model"):
            order.append(edge.rsplit(".", 1)[1])
        if edge == "d.data->a.data":
            data_sent.set()

    run.hooks.add("emitted", emitted)
    result = run_guarded(run)
    assert order[0] == "data" and "model" in order  # the data really came first
    assert result.status == "ok"
    assert got == [("m1", i) for i in range(20)]


def test_a_newer_latest_value_replaces_the_old_one_for_later_messages() -> None:
    # Two model sources feed one latest port (fan-in); the second model is trained
    # only after the first half of the data has been scored with the first one.
    m1_sent = threading.Event()
    half_scored = threading.Event()
    m2_sent = threading.Event()

    def gated_source(cid: str, wait: threading.Event | None,
                     values: list[Any]) -> runtime.ComponentSpec:
        def emit() -> Iterator[Any]:
            if wait is not None:
                assert wait.wait(5), f"{cid} waited in vain"
            yield from values

        emit.__doc__ = "A source that waits for an event."
        return component(cid, outputs={"data": "Any"}, threaded=True)(emit)

    got: list[Any] = []

    @component("t.keep", inputs={"data": "Any"})
    def keep(data: Any) -> None:
        got.append(data)
        if len(got) == 5:
            half_scored.set()

    run = make_run(
        {"m1": "t.m1", "m2": "t.m2", "d1": "t.d1", "d2": "t.d2", "a": "t.apply",
         "k": "t.keep"},
        ["m1.data->a.model", "m2.data->a.model", "d1.data->a.data", "d2.data->a.data",
         "a.data->k.data"],
        [gated_source("t.m1", None, ["model-1"]),
         gated_source("t.m2", half_scored, ["model-2"]),
         gated_source("t.d1", m1_sent, [0, 1, 2, 3, 4]),
         gated_source("t.d2", m2_sent, [5, 6, 7, 8, 9]), apply, keep])

    def emitted(edge: str, batch: Any) -> None:
        if edge == "m1.data->a.model":
            m1_sent.set()
        if edge == "m2.data->a.model":
            m2_sent.set()

    run.hooks.add("emitted", emitted)
    result = run_guarded(run)
    assert result.status == "ok"
    assert got == [("model-1", i) for i in range(5)] + [("model-2", i) for i in range(5, 10)]


def test_a_latest_input_that_never_gets_a_value_gives_an_error_record() -> None:
    models = memory_source("t.models", [])
    data = memory_source("t.data", [1, 2, 3])
    sink, got = keeper("t.keep")
    errors, failures = keeper("t.errors")
    run = make_run(
        {"m": "t.models", "d": "t.data", "a": "t.apply", "k": "t.keep", "e": "t.errors"},
        ["m.data->a.model", "d.data->a.data", "a.data->k.data", "a.error->e.data"],
        [models, data, apply, sink, errors])
    seen = record_edges(run)
    result = run_guarded(run)
    assert got == []
    assert result.status == "errors"
    assert result.nodes["a"].errors == 1
    assert len(failures) == 1
    record = failures[0]
    assert isinstance(record, ErrorRecord)
    assert record.node == "a"
    assert "'model'" in record.message and "never received a value" in record.message
    assert "3 message" in record.message
    assert sorted(record.inputs) == sorted(e.id for e in seen["d.data->a.data"])


def test_a_slow_source_delivers_each_message_before_making_the_next() -> None:
    # A model source that takes long to train its second model must not hold back the
    # first one: the data waiting for a model should be scored as soon as it exists.
    first_arrived = threading.Event()

    @component("t.slow", outputs={"data": "Any"}, threaded=True)
    def slow() -> Iterator[str]:
        yield "first"
        # "training" the next value takes until the first has been seen downstream
        yield "second" if first_arrived.wait(3) else "second (first was held back)"

    @component("t.keep", inputs={"data": "Any"})
    def keep(data: Any) -> None:
        first_arrived.set()
        got.append(data)

    got: list[Any] = []
    run = make_run({"s": "t.slow", "k": "t.keep"}, ["s.data->k.data"], [slow, keep])
    run_guarded(run)
    assert got == ["first", "second"]


# -- how things end ----------------------------------------------------------------------


def test_collect_and_count_emit_when_their_input_ends() -> None:
    frames = [pd.DataFrame({"x": [1, 2]}, index=[10, 11]),
              pd.DataFrame({"x": [3]}, index=[12]),
              pd.DataFrame({"x": [4, 5, 6]}, index=[13, 14, 15])]
    src = memory_source("t.frames", frames, "DataFrame")
    collected, got_frames = keeper("t.keep_frames")
    counted, got_counts = keeper("t.keep_counts")
    run = make_run(
        {"src": "t.frames", "all": "stream.collect", "n": "stream.count",
         "kf": "t.keep_frames", "kc": "t.keep_counts"},
        ["src.data->all.data", "src.data->n.data", "all.data->kf.data", "n.count->kc.data"],
        [src, collected, counted])
    result = run_guarded(run)
    assert result.status == "ok"
    assert got_counts == [3]
    assert len(got_frames) == 1
    assert got_frames[0]["x"].tolist() == [1, 2, 3, 4, 5, 6]
    assert got_frames[0].index.tolist() == [10, 11, 12, 13, 14, 15]
    assert {n.state for n in result.nodes.values()} == {"done"}


def test_count_of_an_empty_stream_is_zero_and_collect_emits_nothing() -> None:
    src = memory_source("t.nothing", [], "DataFrame")
    collected, got_frames = keeper("t.keep_frames")
    counted, got_counts = keeper("t.keep_counts")
    run = make_run(
        {"src": "t.nothing", "all": "stream.collect", "n": "stream.count",
         "kf": "t.keep_frames", "kc": "t.keep_counts"},
        ["src.data->all.data", "src.data->n.data", "all.data->kf.data", "n.count->kc.data"],
        [src, collected, counted])
    result = run_guarded(run)
    assert result.status == "ok"
    assert got_counts == [0]
    assert got_frames == []


def test_a_run_ends_when_every_node_has_ended_and_class_components_end_then_close() -> None:
    events: list[str] = []

    @component("t.buffer", inputs={"data": "Any"}, outputs={"data": "Any"})
    class Buffer:
        """Hold everything, emit it reversed at the end."""

        def __init__(self) -> None:
            self.items: list[Any] = []

        def __call__(self, data: Any) -> None:
            self.items.append(data)

        def end(self) -> Iterator[Any]:
            events.append("end")
            yield from reversed(self.items)

        def close(self) -> None:
            events.append("close")

    sink, got = keeper("t.keep")
    run = make_run({"src": ("stream.range", {"count": 4}), "b": "t.buffer", "k": "t.keep"},
                   ["src.data->b.data", "b.data->k.data"], [Buffer, sink])
    result = run_guarded(run)
    assert result.status == "ok"
    assert got == [3, 2, 1, 0]
    assert events == ["end", "close"]
    assert set(result.nodes) == {"src", "b", "k"}
    assert all(n.state == "done" for n in result.nodes.values())
    assert result.nodes["src"].fired == 1  # a source fires once and ends when exhausted
    assert result.nodes["b"].fired == 4


# -- lineage ----------------------------------------------------------------------------


def test_lineage_parents_are_the_inputs_of_the_firing_and_ids_are_unique() -> None:
    run = make_run(
        {"a": ("stream.range", {"count": 40}), "b": ("stream.range", {"count": 40}),
         "dbl": "t.double", "p": "t.pair", "tri": "t.triple", "k": "stream.count"},
        ["a.data->dbl.data", "dbl.data->p.left", "b.data->p.right", "p.data->tri.data",
         "tri.data->k.data"],
        [double, pair, triple], RunOptions(batch_size=7))
    seen = record_edges(run)
    result = run_guarded(run)
    assert result.status == "ok"
    all_ids = [e.id for envs in seen.values() for e in envs]
    assert len(all_ids) == len(set(all_ids)) == 40 + 40 + 40 + 40 + 120
    for edge in ("a.data->dbl.data", "b.data->p.right"):
        assert all(e.parents == () for e in seen[edge])
    a_ids = [e.id for e in seen["a.data->dbl.data"]]
    dbl_out = seen["dbl.data->p.left"]
    assert [e.parents for e in dbl_out] == [(i,) for i in a_ids]
    b_ids = [e.id for e in seen["b.data->p.right"]]
    pairs = seen["p.data->tri.data"]
    assert [e.parents for e in pairs] == [(d.id, b) for d, b in zip(dbl_out, b_ids,
                                                                      strict=True)]
    tri_out = seen["tri.data->k.data"]
    assert [e.parents for e in tri_out] == [(p.id,) for p in pairs for _ in range(3)]
    assert {e.node for e in tri_out} == {"tri"} and {e.port for e in tri_out} == {"data"}


def test_dataframe_row_ids_survive_read_query_select_and_predict(tmp_path: Path) -> None:
    rows = 28  # every chunk of 4 keeps at least one row after the query
    table = pd.DataFrame({"a": [float(i % 7) for i in range(rows)],
                          "b": [float(i % 5) for i in range(rows)],
                          "target": [i % 2 for i in range(rows)]})
    table.to_csv(tmp_path / "data.csv", index=False)
    sink, got = keeper("t.keep")
    run = make_run(
        {"train": ("csv.read", {"path": str(tmp_path / "data.csv")}),
         "fit": ("ml.fit", {"estimator": "sklearn.tree.DecisionTreeClassifier",
                            "target": "target", "features": ["a", "b"]}),
         "rows": ("csv.read", {"path": str(tmp_path / "data.csv"), "chunk_rows": 4}),
         "q": ("frame.query", {"expr": "a > 2"}),
         "sel": ("frame.select", {"columns": ["b", "a"]}),
         "pred": "ml.predict", "k": "t.keep"},
        ["train.data->fit.data", "fit.model->pred.model", "rows.data->q.data",
         "q.data->sel.data", "sel.data->pred.data", "pred.data->k.data"], [sink])
    result = run_guarded(run)
    assert result.status == "ok", result.first_error
    out = pd.concat(got)
    expected = table.index[table["a"] > 2].tolist()
    assert out.index.tolist() == expected
    assert list(out.columns) == ["b", "a", "prediction"]
    assert out["a"].tolist() == table.loc[expected, "a"].tolist()


def test_predict_scores_a_chunk_that_a_query_emptied(tmp_path: Path) -> None:
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "target": [0, 0, 1, 1]})
    table.to_csv(tmp_path / "data.csv", index=False)
    sink, got = keeper("t.keep")
    run = make_run(
        {"train": ("csv.read", {"path": str(tmp_path / "data.csv")}),
         "fit": ("ml.fit", {"estimator": "sklearn.tree.DecisionTreeClassifier",
                            "target": "target"}),
         "rows": ("csv.read", {"path": str(tmp_path / "data.csv"), "chunk_rows": 2}),
         "q": ("frame.query", {"expr": "a > 2"}),
         "pred": "ml.predict", "k": "t.keep"},
        ["train.data->fit.data", "fit.model->pred.model", "rows.data->q.data",
         "q.data->pred.data", "pred.data->k.data"], [sink])
    result = run_guarded(run)
    # the first chunk (a = 1, 2) has no row left; that is no error, just no rows
    assert result.first_error is None
    assert result.status == "ok"
    assert pd.concat(got).index.tolist() == [2, 3]


# -- errors are contained ----------------------------------------------------------------


def _fragile_variants() -> dict[str, Callable[[], runtime.ComponentSpec]]:
    def plain() -> runtime.ComponentSpec:
        @component("t.fragile", inputs={"data": "Any"}, outputs={"data": "Any"})
        def fragile(data: int) -> int:
            if data % 2:
                msg = f"odd value {data}"
                raise ValueError(msg)
            return data

        return fragile

    def threaded() -> runtime.ComponentSpec:
        @component("t.fragile", inputs={"data": "Any"}, outputs={"data": "Any"},
                   threaded=True)
        def fragile(data: int) -> int:
            if data % 2:
                msg = f"odd value {data}"
                raise ValueError(msg)
            return data

        return fragile

    def generator() -> runtime.ComponentSpec:
        @component("t.fragile", inputs={"data": "Any"}, outputs={"data": "Any"})
        def fragile(data: int) -> Iterator[int]:
            if data % 2:
                msg = f"odd value {data}"
                raise ValueError(msg)
            yield data

        return fragile

    def two_outputs() -> runtime.ComponentSpec:
        @component("t.fragile", inputs={"data": "Any"},
                   outputs={"data": "Any", "other": "Any"})
        def fragile(data: int) -> dict[str, int]:
            if data % 2:
                msg = f"odd value {data}"
                raise ValueError(msg)
            return {"data": data}

        return fragile

    def stateful() -> runtime.ComponentSpec:
        @component("t.fragile", inputs={"data": "Any"}, outputs={"data": "Any"})
        class Fragile:
            """Fail on odd values."""

            def __call__(self, data: int) -> int:
                if data % 2:
                    msg = f"odd value {data}"
                    raise ValueError(msg)
                return data

        return Fragile

    return {"function": plain, "threaded": threaded, "generator": generator,
            "two-outputs": two_outputs, "class": stateful}


@pytest.mark.parametrize("variant", list(_fragile_variants()))
def test_a_failing_firing_sends_an_error_record_and_the_node_goes_on(variant: str) -> None:
    fragile = _fragile_variants()[variant]()
    ok_sink, ok = keeper("t.ok")
    err_sink, failures = keeper("t.err")
    other_sink, other = keeper("t.other")
    run = make_run(
        {"src": ("stream.range", {"count": 20}), "f": "t.fragile", "ok": "t.ok",
         "err": "t.err", "dbl": "t.double", "other": "t.other"},
        ["src.data->f.data", "f.data->ok.data", "f.error->err.data", "src.data->dbl.data",
         "dbl.data->other.data"],
        [fragile, ok_sink, err_sink, other_sink, double], RunOptions(batch_size=4))
    seen = record_edges(run)
    result = run_guarded(run)
    assert result.status == "errors"
    assert ok == list(range(0, 20, 2))
    assert other == [2 * i for i in range(20)]  # the other branch finished
    assert result.nodes["f"].fired == 20
    assert result.nodes["f"].errors == 10
    assert result.nodes["f"].state == "failed"
    assert result.nodes["dbl"].errors == 0
    ids = {e.value: e.id for e in seen["src.data->f.data"]}
    assert len(failures) == 10
    for value, record in zip(range(1, 20, 2), failures, strict=True):
        assert isinstance(record, ErrorRecord)
        assert record.node == "f"
        assert record.component == "t.fragile"
        assert record.error == "ValueError"
        assert record.message == f"odd value {value}"
        assert record.inputs == [ids[value]]
    assert result.first_error == failures[0]
    assert result.exit_code == 1


def test_errors_are_counted_even_when_the_error_port_is_not_connected() -> None:
    fragile = _fragile_variants()["function"]()
    ok_sink, ok = keeper("t.ok")
    run = make_run({"src": ("stream.range", {"count": 9}), "f": "t.fragile", "ok": "t.ok"},
                   ["src.data->f.data", "f.data->ok.data"], [fragile, ok_sink])
    result = run_guarded(run)
    assert ok == [0, 2, 4, 6, 8]
    assert result.nodes["f"].errors == 4
    assert result.status == "errors"
    assert result.first_error is not None and result.first_error.message == "odd value 1"


def test_the_error_port_can_route_failures_to_a_dead_letter_file(tmp_path: Path) -> None:
    fragile = _fragile_variants()["function"]()
    ok_sink, ok = keeper("t.ok")
    dead = tmp_path / "dead.jsonl"
    run = make_run(
        {"src": ("stream.range", {"count": 6}), "f": "t.fragile", "ok": "t.ok",
         "dead": ("jsonl.write", {"path": str(dead)})},
        ["src.data->f.data", "f.data->ok.data", "f.error->dead.data"], [fragile, ok_sink])
    result = run_guarded(run)
    assert result.status == "errors"
    assert ok == [0, 2, 4]
    lines = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [line["message"] for line in lines] == ["odd value 1", "odd value 3",
                                                   "odd value 5"]
    assert all(line["node"] == "f" and line["error"] == "ValueError" for line in lines)
    assert all(line["component"] == "t.fragile" and len(line["inputs"]) == 1
               for line in lines)


def test_a_class_component_whose_init_raises_gives_error_records_not_a_crash() -> None:
    @component("t.broken", inputs={"data": "Any"}, outputs={"data": "Any"})
    class Broken:
        """Cannot be built."""

        def __init__(self) -> None:
            msg = "cannot load the weights"
            raise OSError(msg)

        def __call__(self, data: Any) -> Any:
            return data

    @component("t.broken_source", outputs={"data": "Any"})
    class BrokenSource:
        """Cannot be built either."""

        def __init__(self) -> None:
            msg = "no connection"
            raise ConnectionError(msg)

        def __call__(self) -> Iterator[int]:
            yield 1

    err_sink, failures = keeper("t.err")
    ok_sink, ok = keeper("t.ok")
    run = make_run(
        {"src": ("stream.range", {"count": 3}), "b": "t.broken", "ok": "t.ok",
         "bs": "t.broken_source", "e": "t.err"},
        ["src.data->b.data", "b.data->ok.data", "b.error->e.data", "bs.data->ok.data",
         "bs.error->e.data"], [Broken, BrokenSource, err_sink, ok_sink])
    result = run_guarded(run)
    assert result.status == "errors"
    assert ok == []
    assert result.nodes["b"].errors == 3
    assert result.nodes["bs"].errors == 1
    by_node = {n: [r for r in failures if r.node == n] for n in ("b", "bs")}
    assert [r.error for r in by_node["b"]] == ["OSError"] * 3
    assert all(r.message == "cannot load the weights" for r in by_node["b"])
    assert [r.error for r in by_node["bs"]] == ["ConnectionError"]
    assert by_node["bs"][0].inputs == []


def test_a_source_that_fails_midway_keeps_what_it_emitted_and_ends() -> None:
    @component("t.flaky", outputs={"data": "Any"})
    def flaky() -> Iterator[int]:
        yield 1
        yield 2
        msg = "disk gone"
        raise OSError(msg)

    ok_sink, ok = keeper("t.ok")
    err_sink, failures = keeper("t.err")
    run = make_run({"s": "t.flaky", "k": "t.ok", "e": "t.err"},
                   ["s.data->k.data", "s.error->e.data"], [flaky, ok_sink, err_sink])
    result = run_guarded(run)
    assert ok == [1, 2]
    assert [(r.node, r.error, r.message) for r in failures] == [("s", "OSError", "disk gone")]
    assert result.status == "errors"


def test_fail_fast_aborts_the_run_at_the_first_error() -> None:
    @component("t.fails_on_3", inputs={"data": "Any"}, outputs={"data": "Any"})
    def fails_on_3(data: int) -> int:
        if data == 3:
            msg = "three is not allowed"
            raise ArithmeticError(msg)
        return data

    ok_sink, ok = keeper("t.ok")
    run = make_run({"src": ("stream.range", {"count": 100_000}), "f": "t.fails_on_3",
                    "k": "t.ok"},
                   ["src.data->f.data", "f.data->k.data"], [fails_on_3, ok_sink],
                   RunOptions(fail_fast=True, batch_size=8))
    result = run_guarded(run)
    assert result.status == "aborted"
    assert result.exit_code == 1
    assert result.first_error is not None
    assert (result.first_error.node, result.first_error.error) == ("f", "ArithmeticError")
    assert result.first_error.message == "three is not allowed"
    assert 3 not in ok
    assert len(ok) < 100_000


def test_fail_fast_in_a_threaded_component() -> None:
    @component("t.fails_threaded", inputs={"data": "Any"}, outputs={"data": "Any"},
               threaded=True)
    def fails(data: int) -> int:
        if data == 5:
            msg = "five"
            raise ValueError(msg)
        return data

    run = make_run({"src": ("stream.range", {"count": 50}), "f": "t.fails_threaded",
                    "n": "stream.count"}, ["src.data->f.data", "f.data->n.data"], [fails],
                   RunOptions(fail_fast=True))
    result = run_guarded(run)
    assert result.status == "aborted"
    assert result.first_error is not None and result.first_error.message == "five"


# -- generators and several outputs -------------------------------------------------------


def test_generator_components_emit_many_messages_per_firing() -> None:
    @component("t.fan", inputs={"data": "Any"}, outputs={"data": "Any"})
    def fan(data: int) -> Iterator[int]:
        for k in range(25):
            yield data * 100 + k

    @component("t.many", outputs={"data": "Any"})
    def many() -> Iterator[int]:
        yield from range(2_000)

    sink, got = keeper("t.keep")
    run = make_run({"s": "t.many", "f": "t.fan", "k": "t.keep"},
                   ["s.data->f.data", "f.data->k.data"], [fan, many, sink],
                   RunOptions(batch_size=50))
    result = run_guarded(run)
    assert result.status == "ok"
    assert got == [d * 100 + k for d in range(2_000) for k in range(25)]
    assert result.edges["f.data->k.data"] == 50_000
    assert result.nodes["f"].fired == 2_000


def test_a_class_with_a_generator_call_can_return_one_final_value_from_end() -> None:
    @component("t.gen_then_total", inputs={"data": "Any"}, outputs={"data": "Any"})
    class GenThenTotal:
        """Pass values on one by one, then emit their total once."""

        def __init__(self) -> None:
            self.total = 0

        def __call__(self, data: int) -> Iterator[int]:
            self.total += data
            yield data

        def end(self) -> str:
            return f"total={self.total}"

    sink, got = keeper("t.keep")
    run = make_run({"s": ("stream.range", {"count": 4}), "g": "t.gen_then_total",
                    "k": "t.keep"}, ["s.data->g.data", "g.data->k.data"],
                   [GenThenTotal, sink])
    run_guarded(run)
    assert got == [0, 1, 2, 3, "total=6"]


def test_multi_output_components_return_a_dict_and_may_omit_ports() -> None:
    @component("t.route", inputs={"data": "Any"},
               outputs={"even": "Any", "odd": "Any", "big": "Any"})
    def route(data: int) -> dict[str, Any] | None:
        if data == 7:
            return None  # emits nothing at all
        out: dict[str, Any] = {"even" if data % 2 == 0 else "odd": data}
        out["big"] = data if data >= 8 else None  # None: nothing on that port
        return out

    evens, got_even = keeper("t.even")
    odds, got_odd = keeper("t.odd")
    bigs, got_big = keeper("t.big")
    run = make_run({"s": ("stream.range", {"count": 10}), "r": "t.route", "e": "t.even",
                    "o": "t.odd", "b": "t.big"},
                   ["s.data->r.data", "r.even->e.data", "r.odd->o.data", "r.big->b.data"],
                   [route, evens, odds, bigs])
    seen = record_edges(run)
    result = run_guarded(run)
    assert result.status == "ok"
    assert got_even == [0, 2, 4, 6, 8]
    assert got_odd == [1, 3, 5, 9]
    assert got_big == [8, 9]
    assert result.edges == {"s.data->r.data": 10, "r.even->e.data": 5, "r.odd->o.data": 4,
                            "r.big->b.data": 2}
    # both outputs of one firing name the same parent
    src = {e.value: e.id for e in seen["s.data->r.data"]}
    assert [e.parents for e in seen["r.big->b.data"]] == [(src[8],), (src[9],)]


def test_multi_output_mistakes_become_error_records() -> None:
    @component("t.bad_route", inputs={"data": "Any"}, outputs={"a": "Any", "b": "Any"})
    def bad_route(data: int) -> Any:
        if data == 0:
            return {"nope": 1}
        if data == 1:
            return 42
        return {"a": data}

    sink, got = keeper("t.keep")
    errs, failures = keeper("t.err")
    run = make_run({"s": ("stream.range", {"count": 3}), "r": "t.bad_route", "k": "t.keep",
                    "e": "t.err"}, ["s.data->r.data", "r.a->k.data", "r.error->e.data"],
                   [bad_route, sink, errs])
    result = run_guarded(run)
    assert got == [2]
    assert [r.error for r in failures] == ["KeyError", "TypeError"]
    assert "nope" in failures[0].message
    assert "dict" in failures[1].message
    assert result.nodes["r"].errors == 2


def test_an_unconnected_optional_input_is_passed_as_none() -> None:
    @component("t.opt_stream", inputs={"data": "Any", "extra": Port(required=False)},
               outputs={"data": "Any"})
    def opt_stream(data: Any, extra: Any) -> Any:
        return (data, extra)

    sink, got = keeper("t.keep")
    run = make_run({"s": ("stream.range", {"count": 2}), "o": "t.opt_stream", "k": "t.keep"},
                   ["s.data->o.data", "o.data->k.data"], [opt_stream, sink])
    result = run_guarded(run)
    assert result.status == "ok"
    assert got == [(0, None), (1, None)]


def test_an_unconnected_optional_input_is_passed_as_none_next_to_a_latest_input() -> None:
    @component("t.opt_latest", inputs={"config": latest(), "extra": Port(required=False)},
               outputs={"data": "Any"})
    def opt_latest(config: Any, extra: Any) -> Any:
        return (config, extra)

    src = memory_source("t.configs", ["c1"])
    sink, got = keeper("t.keep")
    run = make_run({"s": "t.configs", "o": "t.opt_latest", "k": "t.keep"},
                   ["s.data->o.config", "o.data->k.data"], [src, opt_latest, sink])
    result = run_guarded(run)
    assert result.first_error is None
    assert got == [("c1", None)]


def test_a_node_whose_only_inputs_are_optional_and_unconnected_gets_none() -> None:
    @component("t.opt_only", inputs={"seed": Port(required=False)}, outputs={"data": "Any"})
    def opt_only(seed: Any) -> Any:
        return 1 if seed is None else seed

    sink, got = keeper("t.keep")
    run = make_run({"o": "t.opt_only", "k": "t.keep"}, ["o.data->k.data"], [opt_only, sink])
    result = run_guarded(run)
    assert result.first_error is None
    assert got == [1]


# -- stopping, back pressure, threads -----------------------------------------------------


@pytest.mark.parametrize("threaded", [False, True])
def test_stop_from_another_thread_ends_an_endless_run(threaded: bool) -> None:
    @component("t.endless", outputs={"data": "Any"}, threaded=threaded)
    def endless() -> Iterator[int]:
        yield from itertools.count()

    run = make_run({"s": "t.endless", "n": "stream.count"}, ["s.data->n.data"], [endless])
    timer = threading.Timer(0.3, run.stop)
    timer.start()
    try:
        result = run_guarded(run)
    finally:
        timer.cancel()
    assert result.status == "stopped"
    assert result.exit_code == 1
    assert result.edges["s.data->n.data"] > 0
    assert {n: r.state for n, r in result.nodes.items()} == {"s": "stopped", "n": "stopped"}


def test_stop_before_the_run_starts_stops_it_at_once() -> None:
    @component("t.endless", outputs={"data": "Any"})
    def endless() -> Iterator[int]:
        yield from itertools.count()

    run = make_run({"s": "t.endless", "n": "stream.count"}, ["s.data->n.data"], [endless])
    run.stop()
    assert run_guarded(run).status == "stopped"


@pytest.mark.parametrize("fan_in", [1, 2])
def test_back_pressure_bounds_messages_in_flight(fan_in: int) -> None:
    options = RunOptions(batch_size=10, queue_batches=2)
    state = {"produced": 0, "consumed": 0, "most": 0}
    holder: dict[str, Run] = {}

    @component("t.endless", outputs={"data": "Any"})
    def endless() -> Iterator[int]:
        for i in itertools.count():
            state["produced"] += 1
            yield i

    @component("t.slow", inputs={"data": "Any"}, threaded=True)
    def slow(data: Any) -> None:
        state["consumed"] += 1
        state["most"] = max(state["most"], state["produced"] - state["consumed"])
        time.sleep(0.00002)
        if state["consumed"] == 3_000:
            holder["run"].stop()

    sources = {f"s{i}": "t.endless" for i in range(fan_in)}
    run = make_run(sources | {"k": "t.slow"}, [f"{s}.data->k.data" for s in sources],
                   [endless, slow], options)
    holder["run"] = run
    result = run_guarded(run)
    assert result.status == "stopped"
    assert state["consumed"] >= 3_000
    # what the queues can hold, what the node is working on, and one batch being put
    bound = (2 * options.queue_batches + 2) * fan_in * options.batch_size
    assert 0 < state["most"] <= bound
    assert state["produced"] - state["consumed"] <= bound


def test_a_threaded_component_leaves_the_event_loop_live() -> None:
    window: dict[str, float] = {}

    @component("t.heavy", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
    def heavy(data: Any) -> Any:
        window["start"] = time.monotonic()
        time.sleep(0.5)
        window["end"] = time.monotonic()
        return data

    snapshot_times: list[float] = []
    run = make_run({"s": ("stream.range", {"count": 1}), "h": "t.heavy",
                    "n": "stream.count"}, ["s.data->h.data", "h.data->n.data"], [heavy])
    run.subscribe(lambda snap: snapshot_times.append(time.monotonic()))
    result = run_guarded(run)
    assert result.status == "ok"
    during = [t for t in snapshot_times if window["start"] < t < window["end"]]
    assert during, "no snapshot arrived while the threaded node worked"


def test_threaded_components_run_off_the_event_loop_thread() -> None:
    threads: dict[str, int] = {}

    @component("t.where_threaded", inputs={"data": "Any"}, outputs={"data": "Any"},
               threaded=True)
    def where_threaded(data: Any) -> Any:
        threads["threaded"] = threading.get_ident()
        return data

    @component("t.where_inline", inputs={"data": "Any"})
    def where_inline(data: Any) -> None:
        threads["inline"] = threading.get_ident()

    run = make_run({"s": ("stream.range", {"count": 1}), "t": "t.where_threaded",
                    "i": "t.where_inline"}, ["s.data->t.data", "t.data->i.data"],
                   [where_threaded, where_inline])
    run_guarded(run)
    assert set(threads) == {"threaded", "inline"}
    assert threads["threaded"] != threads["inline"]


def test_hooks_of_a_run_see_every_node_end_and_the_run_end() -> None:
    ended: list[tuple[str, str]] = []
    results: list[RunResult] = []
    run = make_run({"s": ("stream.range", {"count": 3}), "d": "t.double",
                    "n": "stream.count"}, ["s.data->d.data", "d.data->n.data"], [double])
    assert isinstance(run.hooks, Hooks)
    run.hooks.add("node_ended", lambda node, state: ended.append((node, state)))
    run.hooks.add("run_ended", results.append)
    result = run_guarded(run)
    assert sorted(ended) == [("d", "done"), ("n", "done"), ("s", "done")]
    assert results == [result]


def test_a_threaded_source_that_waits_lets_the_run_stop() -> None:
    # A source waiting for something (a request, a tick) yields None while it waits; the
    # run stops at once instead of waiting for the source's next real message.
    release = threading.Event()
    seen: list[int] = []
    holder: dict[str, Run] = {}

    @component("t.waiting", outputs={"data": "Any"}, threaded=True)
    def waiting() -> Iterator[int | None]:
        yield 1
        while not release.wait(0.02):
            yield None
        yield 2

    @component("t.sink", inputs={"data": "Any"}, outputs={})
    def sink(data: int) -> None:
        seen.append(data)
        holder["run"].stop()

    run = make_run({"s": "t.waiting", "k": "t.sink"}, ["s.data->k.data"], [waiting, sink])
    holder["run"] = run
    try:
        result = run_guarded(run)
    finally:
        release.set()
    assert result.status == "stopped"
    assert seen == [1]
