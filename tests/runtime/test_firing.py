"""The firing rule on its own: batches in, batches out, with no event loop, queue or thread."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime import ErrorRecord, Port, component, default_registry, latest
from runtime._collector import RunContext
from runtime._firing import FailFast, FiringRule
from runtime._messages import Batch, IdRanges
from runtime._sources import MAX_BATCH_ROWS, first_call, pull, take
from runtime.testing import memory_source
from tests.flowkit import make_flow


@component("f.pair", inputs={"left": "Any", "right": "Any"}, outputs={"data": "Any"})
def pair(left: Any, right: Any) -> Any:
    """Pair two messages."""
    return (left, right)


@component("f.apply", inputs={"data": "Any", "model": latest()}, outputs={"data": "Any"})
def apply(data: Any, model: Any) -> Any:
    """Score data with the latest model."""
    return (model, data)


@component("f.both", inputs={"a": latest(), "b": latest()}, outputs={"data": "Any"})
def both(a: Any, b: Any) -> Any:
    """Combine two latest values."""
    return (a, b)


@component("f.opt", inputs={"data": "Any", "extra": Port(required=False)},
           outputs={"data": "Any"})
def opt(data: Any, extra: Any) -> Any:
    """Pass the message with an optional extra."""
    return (data, extra)


@component("f.inverse", inputs={"data": "Any"}, outputs={"data": "Any"})
def inverse(data: Any) -> Any:
    """One over the message: fails on zero."""
    return 1 / data


SPECS = [pair, apply, both, opt, inverse,
         memory_source("f.src", [1]), memory_source("f.models", ["m"])]


def rule(nodes: dict[str, str | tuple[str, dict[str, Any]]], edges: list[str], node: str,
         *, fail_fast: bool = False) -> FiringRule:
    """The started firing rule of ``node`` in a flow built from the compact form."""
    registry = default_registry().with_components(*SPECS)
    plan = runtime.plan(make_flow(nodes, edges), registry=registry)
    made = FiringRule(plan.nodes[node], RunContext(fail_fast=fail_fast))
    made.start()
    return made


def batch(origin: str, ids: list[int], values: list[Any]) -> Batch:
    """A batch of source messages (no parents)."""
    return Batch(origin, ids, [()] * len(ids), values)


def values(out: dict[str, Batch], port: str = "data") -> list[Any]:
    return out[port].values if port in out else []


PAIR = ({"l": "f.src", "r": "f.src", "p": "f.pair"}, ["l.data->p.left", "r.data->p.right"])
APPLY = ({"d": "f.src", "m": "f.models", "a": "f.apply"},
         ["d.data->a.data", "m.data->a.model"])


def test_one_stream_input_fires_once_per_message_with_its_id_as_parent() -> None:
    inv = rule({"s": "f.src", "i": "f.inverse"}, ["s.data->i.data"], "i")
    out = inv.process([("data", batch("s.data", [7, 8, 9], [1, 2, 4]))])
    assert values(out) == [1.0, 0.5, 0.25]
    assert list(out["data"].parents) == [7, 8, 9]
    assert len(set(out["data"].ids)) == 3 and not set(out["data"].ids) & {7, 8, 9}
    assert inv.fired == 3


def test_two_stream_inputs_are_paired_one_to_one_in_order() -> None:
    p = rule(*PAIR, "p")
    first = p.process([("left", batch("l.data", [1, 2, 3], ["a", "b", "c"]))])
    assert first == {}  # nothing to pair yet
    out = p.process([("right", batch("r.data", [4, 5], ["x", "y"]))])
    assert values(out) == [("a", "x"), ("b", "y")]
    assert list(out["data"].parents) == [(1, 4), (2, 5)]
    out = p.process([("right", batch("r.data", [6], ["z"]))])
    assert values(out) == [("c", "z")]


def test_streams_that_end_unevenly_give_one_error_record_listing_the_unpaired() -> None:
    p = rule(*PAIR, "p")
    p.process([("left", batch("l.data", [1, 2, 3], ["a", "b", "c"])),
               ("right", batch("r.data", [4], ["x"]))])
    out = p.finish()
    [record] = values(out, "error")
    assert isinstance(record, ErrorRecord)
    assert "ended unevenly" in record.message and "2 on 'left'" in record.message
    assert record.inputs == [2, 3]
    assert p.errors == 1 and p.failures == [record]


def test_stream_messages_wait_for_the_latest_value_and_use_the_newest() -> None:
    a = rule(*APPLY, "a")
    assert a.process([("data", batch("d.data", [1, 2], [10, 20]))]) == {}
    out = a.process([("model", batch("m.data", [3], ["m1"]))])
    assert values(out) == [("m1", 10), ("m1", 20)]
    assert list(out["data"].parents) == [(1, 3), (2, 3)]
    a.process([("model", batch("m.data", [4, 5], ["m2", "m3"]))])
    out = a.process([("data", batch("d.data", [6], [30]))])
    assert values(out) == [("m3", 30)]  # only the newest value of a batch counts


def test_a_latest_input_that_never_got_a_value_is_reported_at_the_end() -> None:
    a = rule(*APPLY, "a")
    a.process([("data", batch("d.data", [1, 2, 3], [10, 20, 30]))])
    [record] = values(a.finish(), "error")
    assert "'model'" in record.message and "never received a value" in record.message
    assert record.inputs == [1, 2, 3]


def test_a_node_with_only_latest_inputs_fires_on_every_update_once_all_have_a_value() -> None:
    b = rule({"x": "f.src", "y": "f.src", "b": "f.both"}, ["x.data->b.a", "y.data->b.b"],
             "b")
    assert b.process([("a", batch("x.data", [1], ["a1"]))]) == {}
    assert values(b.process([("b", batch("y.data", [2], ["b1"]))])) == [("a1", "b1")]
    assert values(b.process([("a", batch("x.data", [3], ["a2"]))])) == [("a2", "b1")]
    assert b.fired == 2


def test_an_unconnected_optional_input_gets_none() -> None:
    o = rule({"s": "f.src", "o": "f.opt"}, ["s.data->o.data"], "o")
    assert values(o.process([("data", batch("s.data", [1], [5]))])) == [(5, None)]


def test_a_failing_call_gives_an_error_record_and_the_others_go_on() -> None:
    inv = rule({"s": "f.src", "i": "f.inverse"}, ["s.data->i.data"], "i")
    out = inv.process([("data", batch("s.data", [1, 2, 3], [1, 0, 2]))])
    assert values(out) == [1.0, 0.5]
    assert list(out["data"].parents) == [1, 3]
    [record] = values(out, "error")
    assert record.error == "ZeroDivisionError" and record.inputs == [2]
    assert list(out["error"].parents) == [2]
    assert inv.fired == 3 and inv.errors == 1


def test_fail_fast_raises_for_the_engine_to_abort() -> None:
    inv = rule({"s": "f.src", "i": "f.inverse"}, ["s.data->i.data"], "i", fail_fast=True)
    with pytest.raises(FailFast) as caught:
        inv.process([("data", batch("s.data", [1, 2], [1, 0]))])
    assert caught.value.record.inputs == [2]
    assert inv.fired == 2  # the failing firing counts


def test_a_component_that_cannot_be_built_fails_every_firing() -> None:
    @component("f.broken", inputs={"data": "Any"}, outputs={"data": "Any"})
    class Broken:
        """Cannot be built."""

        def __init__(self) -> None:
            msg = "no such model file"
            raise FileNotFoundError(msg)

        def __call__(self, data: Any) -> Any:
            return data

    registry = default_registry().with_components(*SPECS, Broken)
    plan = runtime.plan(make_flow({"s": "f.src", "b": "f.broken"}, ["s.data->b.data"]),
                        registry=registry)
    broken = FiringRule(plan.nodes["b"], RunContext())
    broken.start()
    out = broken.process([("data", batch("s.data", [1, 2], [1, 2]))])
    assert "data" not in out
    assert [r.error for r in values(out, "error")] == ["FileNotFoundError"] * 2


def test_end_lets_collect_emit_with_every_received_message_as_parent() -> None:
    count = rule({"s": "f.src", "n": "stream.count"}, ["s.data->n.data"], "n")
    count.process([("data", batch("s.data", range(1, 4), [1, 2, 3]))])
    count.process([("data", batch("s.data", range(4, 6), [4, 5]))])
    out = count.finish()
    assert values(out, "count") == [5]
    assert out["count"].parents[0] == IdRanges([range(1, 6)])
    assert count.finished


def test_a_source_is_pumped_in_slices_without_an_event_loop() -> None:
    src = rule({"s": ("stream.range", {"count": 10})}, [], "s")
    stream = first_call(src)
    out, done = pull(src, stream, 4, 60.0)
    assert values(out) == [0, 1, 2, 3] and not done
    rest: list[Any] = []
    while not done:
        out, done = pull(src, stream, 4, 60.0)
        rest += values(out)
    assert rest == list(range(4, 10))


def test_a_source_that_raises_ends_with_an_error_record_after_what_it_made() -> None:
    @component("f.fragile", outputs={"data": "Any"})
    def fragile() -> Iterator[int]:
        yield 1
        yield 2
        msg = "disk gone"
        raise OSError(msg)

    registry = default_registry().with_components(fragile)
    plan = runtime.plan(make_flow({"s": "f.fragile"}, []), registry=registry)
    src = FiringRule(plan.nodes["s"], RunContext())
    src.start()
    out, done = pull(src, first_call(src), 100, 60.0)
    assert done
    assert values(out) == [1, 2]
    assert [r.message for r in values(out, "error")] == ["disk gone"]


@pytest.mark.parametrize("module", ["_firing.py", "_sources.py"])
def test_the_firing_rule_needs_no_event_loop(module: str) -> None:
    # A Ray engine reuses these modules as they are: they must not depend on asyncio.
    tree = ast.parse((Path(runtime.__file__).parent / module).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert "asyncio" not in imported
    assert not {"runtime._local", "runtime._api"} & {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def started_source(spec: Any) -> tuple[FiringRule, Iterator[Any]]:
    """A one-node flow of the source ``spec``: its started rule, and what pull reads."""
    registry = default_registry().with_components(spec)
    plan = runtime.plan(make_flow({"s": spec.id}, []), registry=registry)
    src = FiringRule(plan.nodes["s"], RunContext())
    src.start()
    return src, first_call(src)


def test_a_slice_of_frames_is_cut_by_rows_not_only_by_messages() -> None:
    import pandas as pd

    rows = MAX_BATCH_ROWS // 2 + 1
    frames = [pd.DataFrame({"x": range(rows)}) for _ in range(5)]
    src, stream = started_source(memory_source("f.frames", frames, "DataFrame"))
    sizes = []
    done = False
    while not done:
        out, done = pull(src, stream, 1024, 60.0)
        sizes.append(len(values(out)))
    assert sizes == [2, 2, 1]  # two frames pass the row bound; a third would exceed it


def test_a_threaded_source_hands_over_each_message_as_soon_as_it_exists() -> None:
    made: list[int] = []

    @component("f.slow", outputs={"data": "Any"}, threaded=True)
    def slow() -> Iterator[int]:
        for i in range(3):
            made.append(i)
            yield i

    src, stream = started_source(slow)
    out, done = pull(src, stream, 1024, 60.0)
    assert values(out) == [0] and made == [0] and not done  # nothing read ahead


def test_a_threaded_source_waits_goes_on_after_a_yielded_failure_and_ends_on_a_raised_one(
        ) -> None:
    @component("f.watch", outputs={"data": "Any"}, threaded=True)
    def watch() -> Iterator[Any]:
        yield "a"
        yield None  # nothing yet: control goes back to the engine
        yield ValueError("bad file")  # yielded: a record, and the source goes on
        yield "b"
        gone = "the folder went away"
        raise OSError(gone)  # raised: a record, and the source ends

    src, stream = started_source(watch)
    slices = []
    done = False
    while not done:
        out, done = pull(src, stream, 1024, 60.0)
        slices.append(({p: (list(b.ids), list(b.parents), [str(v) if p == "error" else v
                                                          for v in b.values])
                        for p, b in out.items()}, done))
    assert [({p: got[2] for p, got in out.items()}, done) for out, done in slices] == [
        ({"data": ["a"]}, False), ({}, False), ({"error": [str(src.failures[0])]}, False),
        ({"data": ["b"]}, False), ({"error": [str(src.failures[1])]}, True)]
    assert [f.message for f in src.failures] == ["bad file", "the folder went away"]
    assert [out["data"][:2] for out, _done in slices if "data" in out] == [
        ([1], [()]), ([3], [()])]  # ids in order (the first error record took 2), no parents
    assert src.errors == 2


def test_take_reads_several_messages_up_to_a_wait_a_failure_the_end_or_its_bounds() -> None:
    import pandas as pd

    @component("f.watch", outputs={"data": "Any"}, threaded=True)
    def watch() -> Iterator[Any]:
        yield from ("a", "b")
        yield None  # nothing yet
        yield "c"
        yield ValueError("bad file")  # yielded: after what came before it, and it goes on
        yield from ("d", "e", "f")
        gone = "the folder went away"
        raise OSError(gone)  # raised: after what came before it, and it ends

    src, stream = started_source(watch)
    reads = []
    done = False
    while not done:
        out, done = take(src, stream, most=4, seconds=60.0)
        reads.append(({p: [type(v).__name__ if p == "error" else v for v in b.values]
                       for p, b in out.items()}, done))
    assert reads == [({"data": ["a", "b"]}, False), ({"data": ["c"], "error": ["ErrorRecord"]},
                                                     False),
                     ({"data": ["d", "e", "f"], "error": ["ErrorRecord"]}, True)]
    assert [f.message for f in src.failures] == ["bad file", "the folder went away"]

    src, stream = started_source(memory_source("f.frames", [pd.DataFrame({"x": range(300)})
                                                            for _ in range(5)], "DataFrame"))
    sizes = [len(values(take(src, stream, most=4, rows=500, seconds=60.0)[0]))
             for _ in range(3)]
    assert sizes == [2, 2, 1]  # the second frame reaches 500 rows: the read stops there
    src, stream = started_source(memory_source("f.numbers", list(range(10)), "Any"))
    assert values(take(src, stream, most=4, seconds=60.0)[0]) == [0, 1, 2, 3]
    assert values(take(src, stream, most=4, seconds=0.0)[0]) == [4]  # no time to read more


@component("t.lookup", inputs={"data": "str"}, outputs={"data": "str"})
def lookup(data: str) -> str:
    """Look the key up in an empty table."""
    table: dict[str, str] = {}
    if data == "sentence":
        msg = "the table has no row for this key"
        raise KeyError(msg)
    return table[data]


def test_an_error_record_gives_a_keyerrors_sentence_as_written_and_a_key_quoted() -> None:
    out = runtime.testing.run_component(lookup, {"data": ["sentence", "x3"]})
    assert [e.message for e in out.errors] == ["the table has no row for this key", "'x3'"]
