"""A threaded source read by the threaded node it feeds, in that node's thread (_feeding)."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from runtime import RunOptions, component, latest
from tests.flowkit import make_run, run_guarded
from tests.runtime.test_fusion import canonical, observe

THREADS: dict[str, list[int]] = {"source": [], "consumer": []}  # per message, in order
READ_AHEAD: list[int] = []  # messages yielded but not yet processed, seen at each yield
STATE = {"yielded": 0, "processed": 0}


def reset() -> None:
    for seen in THREADS.values():
        seen.clear()
    READ_AHEAD.clear()
    STATE.update(yielded=0, processed=0)


@component("f.numbers", outputs={"data": "Any"}, threaded=True)
def numbers() -> Iterator[int]:
    """Twenty numbers, noting the thread and how far ahead of the consumer it reads."""
    for i in range(20):
        THREADS["source"].append(threading.get_ident())
        READ_AHEAD.append(STATE["yielded"] - STATE["processed"])
        STATE["yielded"] += 1
        yield i


@component("f.broken", outputs={"data": "Any"}, threaded=True)
def broken() -> Iterator[int]:
    """Five numbers, then a failure."""
    yield from range(5)
    msg = "the file is cut short"
    raise OSError(msg)


@component("f.waits", outputs={"data": "Any"}, threaded=True)
def waits() -> Iterator[int | None]:
    """Two numbers, a wait (None), then three more."""
    for i in range(5):
        THREADS["source"].append(threading.get_ident())
        if i == 2:
            yield None
        yield i


@component("f.scale", inputs={"data": "Any", "factor": latest("Any", "The factor.")},
           outputs={"data": "Any"}, threaded=True)
def scale(data: int, factor: int) -> int:
    """``data`` times the latest ``factor``; odd numbers fail."""
    THREADS["consumer"].append(threading.get_ident())
    STATE["processed"] += 1
    if data % 7 == 3:
        msg = f"{data} is unlucky"
        raise ValueError(msg)
    return data * factor


@component("f.heavy", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def heavy(data: Any) -> Any:
    """A threaded step."""
    THREADS["consumer"].append(threading.get_ident())
    STATE["processed"] += 1
    return data


FACTOR_GATE = threading.Event()


@component("f.factor", outputs={"data": "Any"}, threaded=True)
def factor() -> Iterator[int | None]:
    """The factor 3, once the test lets it come (None while it waits)."""
    while not FACTOR_GATE.wait(0.01):
        yield None
    yield 3


SPECS = [numbers, broken, waits, scale, heavy, factor]


@pytest.mark.parametrize("source", ["f.numbers", "f.broken"])
def test_a_source_read_by_its_consumer_is_observed_exactly_as_in_its_own_thread(
        source: str) -> None:
    FACTOR_GATE.set()
    nodes: dict[str, Any] = {"s": source, "k": ("stream.range", {"count": 1}),
                             "x": "f.scale", "n": "stream.count", "e": "stream.count"}
    edges = ["s.data->x.data", "k.data->x.factor", "x.data->n.data", "x.error->e.data"]
    found = []
    for fuse in (True, False):  # fusion off: every node in its own task, no source lent
        reset()
        run = make_run(nodes, edges, SPECS, RunOptions(fuse=fuse))
        seen = observe(run)
        found.append((run_guarded(run), seen))
    (lent, seen_lent), (plain, seen_plain) = found
    assert lent.status == plain.status == "errors"
    assert lent.nodes == plain.nodes
    assert lent.edges == plain.edges
    assert canonical(seen_lent) == canonical(seen_plain)
    if source == "f.broken":
        assert lent.nodes["s"].errors == 1
        assert lent.nodes["x"].fired == 5


@component("f.slow", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def slow(data: Any) -> Any:
    """A threaded step that takes longer than the run's slice (2 ms, against 1 ms)."""
    THREADS["consumer"].append(threading.get_ident())
    STATE["processed"] += 1
    time.sleep(0.002)
    return data


def test_a_lent_source_is_read_in_its_consumers_thread_one_message_ahead_of_slow_work() -> None:
    reset()
    result = run_guarded(make_run({"s": "f.numbers", "h": "f.slow", "n": "stream.count"},
                                  ["s.data->h.data", "h.data->n.data"], [*SPECS, slow],
                                  RunOptions(source_slice_seconds=0.001)))
    assert result.status == "ok"
    assert result.edges["h.data->n.data"] == 20
    # read by the consumer's worker threads; work that takes longer than a slice is never
    # more than one message behind the reading (the one ahead tells the source's end while
    # its last message is worked on)
    assert set(THREADS["source"]) <= set(THREADS["consumer"])
    assert max(READ_AHEAD) <= 1


FRAME_ROWS = 5_000
SIZES: list[int] = []  # the messages of each batch on the source's edge


@component("f.frames", outputs={"data": "DataFrame"}, threaded=True)
def frames() -> Iterator[Any]:
    """Forty frames of ``FRAME_ROWS`` rows, their first row numbering them."""
    import pandas as pd

    for i in range(40):
        yield pd.DataFrame({"n": [i] * FRAME_ROWS})


@component("f.first", inputs={"data": "DataFrame"}, outputs={"data": "Any"}, threaded=True)
def first(data: Any) -> int:
    """The frame's number: quick work."""
    return int(data["n"].iloc[0])


def test_quick_work_reads_a_lent_source_several_messages_at_once_bounded_in_rows() -> None:
    from runtime._feeding import LENT_ROWS

    SIZES.clear()
    seen: list[int] = []
    run = make_run({"s": "f.frames", "h": "f.first", "n": "stream.count"},
                   ["s.data->h.data", "h.data->n.data"], [frames, first])

    def emitted(edge: str, batch: Any) -> None:
        if edge == "s.data->h.data":
            SIZES.append(len(batch))
        else:
            seen.extend(batch.values)

    run.hooks.add("emitted", emitted)
    result = run_guarded(run)
    assert result.status == "ok"
    assert seen == list(range(40))  # every frame, in order, whatever the batches
    assert sum(SIZES) == 40
    assert SIZES[0] == 1  # the first message goes alone, as soon as it exists
    assert max(SIZES) > 1  # then several at once: their work is quick
    # a batch stops at the first frame that reaches the bound in rows
    assert max(SIZES) * FRAME_ROWS <= LENT_ROWS + FRAME_ROWS


def test_a_source_that_waits_is_handed_back_and_goes_on_in_order() -> None:
    reset()
    seen: list[Any] = []
    run = make_run({"s": "f.waits", "h": "f.heavy", "n": "stream.count"},
                   ["s.data->h.data", "h.data->n.data"], SPECS)
    run.hooks.add("emitted", lambda edge, batch: edge == "h.data->n.data" and seen.extend(
        batch.values))
    result = run_guarded(run)
    assert result.status == "ok"
    assert seen == [0, 1, 2, 3, 4]  # nothing lost or reordered where the reader changed


def test_nothing_more_is_read_while_a_message_waits_for_a_latest_value() -> None:
    reset()
    FACTOR_GATE.clear()
    run = make_run({"s": "f.numbers", "k": "f.factor", "x": "f.scale", "n": "stream.count"},
                   ["s.data->x.data", "k.data->x.factor", "x.data->n.data"], SPECS)
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=run_guarded(run)),
                              daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while STATE["yielded"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # room for reads that should not happen
        # the first message waits for its factor; one more was read ahead, and no more
        assert STATE["yielded"] == 2
    finally:
        FACTOR_GATE.set()
        thread.join(30)
    result = box["result"]
    assert result.status == "errors"  # 3, 10 and 17 are unlucky
    assert result.edges["x.data->n.data"] == 17


class Blob:
    """A message whose lifetime the test can watch."""

    __slots__ = ("__weakref__", "n")

    def __init__(self, n: int) -> None:
        self.n = n


ALIVE: weakref.WeakSet[Blob] = weakref.WeakSet()
HELD: list[int] = []  # blobs still alive each time the sink fires
GOT: dict[str, list[int]] = {"a": [], "b": []}


def _blob(n: int) -> Blob:
    blob = Blob(n)
    ALIVE.add(blob)
    return blob


@component("f.blobs", outputs={"data": "Any"}, threaded=True)
def blobs() -> Iterator[Blob]:
    """Sixty blobs, made as they are read."""
    for i in range(60):
        yield _blob(i)


@component("f.held", inputs={"data": "Any"}, threaded=True)
def held(data: Blob) -> None:
    """Note how many blobs are still alive."""
    del data
    HELD.append(len(ALIVE))


@component("f.got_a", inputs={"data": "Any"})
def got_a(data: Blob) -> None:
    """Keep what came, by number."""
    GOT["a"].append(data.n)


@component("f.got_b", inputs={"data": "Any"})
def got_b(data: Blob) -> None:
    """Keep what came, by number."""
    GOT["b"].append(data.n)


BLOB_SPECS = [blobs, heavy, held, got_a, got_b]


def test_a_streaming_chain_that_no_one_watches_holds_only_the_messages_it_works_on() -> None:
    # Before, a worker held every message of its slice (here: all sixty) until it reported
    # them, so that memory grew with the slice and every message lived through garbage
    # collections. Now only the messages being worked on, and those read ahead, are alive:
    # two reads of at most batch_size messages.
    HELD.clear()
    result = run_guarded(make_run({"s": "f.blobs", "h": "f.heavy", "k": "f.held"},
                                  ["s.data->h.data", "h.data->k.data"], BLOB_SPECS,
                                  RunOptions(batch_size=8)))
    assert result.status == "ok"
    assert result.edges == {"s.data->h.data": 60, "h.data->k.data": 60}
    assert len(HELD) == 60
    assert max(HELD) <= 2 * 8


def test_what_a_lent_chain_sends_to_other_chains_arrives_whole_when_no_one_watches() -> None:
    for seen in GOT.values():
        seen.clear()
    result = run_guarded(make_run({"s": "f.blobs", "h": "f.heavy", "a": "f.got_a",
                                   "b": "f.got_b"},
                                  ["s.data->h.data", "h.data->a.data", "h.data->b.data"],
                                  BLOB_SPECS))
    assert result.status == "ok"
    assert GOT["a"] == GOT["b"] == list(range(60))


LATE: dict[str, Any] = {}  # the run, and what a hook attached during it was handed


@component("f.attach", inputs={"data": "Any"}, threaded=True)
def attach(data: Blob) -> None:
    """At the thirtieth blob, attach a hook that keeps the values it is handed."""
    if data.n == 30:
        LATE["run"].hooks.add("emitted", lambda _edge, batch: LATE["seen"].extend(
            batch.values))


def test_a_hook_attached_during_a_run_is_never_handed_values_already_let_go() -> None:
    run = make_run({"s": "f.blobs", "h": "f.heavy", "k": "f.attach"},
                   ["s.data->h.data", "h.data->k.data"], [*BLOB_SPECS, attach])
    LATE.update(run=run, seen=[])
    result = run_guarded(run)
    assert result.status == "ok"
    assert result.edges["h.data->k.data"] == 60
    # what was worked on before the hook came is counted, but not handed to it as None
    assert LATE["seen"]
    assert all(isinstance(value, Blob) for value in LATE["seen"])


STOPPED: dict[str, Any] = {"run": None, "worked": [], "sunk": []}
STOP_AT = 40


@component("f.many", outputs={"data": "Any"}, threaded=True)
def many() -> Iterator[int]:
    """A long stream, to be stopped part way."""
    yield from range(5_000)


@component("f.stops", inputs={"data": "Any"}, outputs={"data": "Any"}, threaded=True)
def stops(data: int) -> int:
    """Work a little on each number; ask the run to stop at the ``STOP_AT``-th."""
    STOPPED["worked"].append(data)
    if data == STOP_AT:
        STOPPED["run"].stop()
    time.sleep(0.001)
    return data


@component("f.sunk", inputs={"data": "Any"}, threaded=True)
def sunk(data: int) -> None:
    """Keep what came."""
    STOPPED["sunk"].append(data)


@pytest.mark.parametrize("watched", [False, True])
def test_a_stopped_lent_chain_ends_after_its_read_and_counts_all_it_handled(
        watched: bool) -> None:
    # A stop used to let the worker go on reading and working to the end of its slice (a
    # quarter of a second), and none of that slice, when no one watched, reached the edge
    # counts: 'h' fired more times than its input edge had messages.
    STOPPED.update(worked=[], sunk=[])
    run = make_run({"s": "f.many", "h": "f.stops", "k": "f.sunk"},
                   ["s.data->h.data", "h.data->k.data"], [many, stops, sunk],
                   RunOptions(source_slice_seconds=0.01))
    STOPPED["run"] = run
    if watched:
        run.hooks.add("emitted", lambda _edge, _batch: None)
    result = run_guarded(run)
    assert result.status == "stopped"
    worked = len(STOPPED["worked"])
    # the messages read together with the one at work when the stop came are finished, no
    # other is started: reads grow while their work takes under half a slice (5 ms here),
    # so at most 8 messages of 1 ms each
    assert STOP_AT + 1 <= worked <= STOP_AT + 8
    assert len(STOPPED["sunk"]) == worked
    assert result.nodes["h"].fired == result.nodes["k"].fired == worked
    assert result.edges == {"s.data->h.data": worked, "h.data->k.data": worked}
    assert result.undone == {}


@component("f.fast", outputs={"data": "Any"})
def fast() -> Iterator[int]:
    """A source on the event loop, faster than its consumer: it waits on a full inbox."""
    yield from range(5_000)


@pytest.mark.parametrize("fuse", [True, False])
def test_every_message_sent_on_a_stopped_edge_was_handled_or_is_undone(fuse: bool) -> None:
    # A stop used to drop, from the accounting, a batch counted on its edge while its
    # sender waited to put it on a full inbox: neither handled nor undone anywhere.
    STOPPED.update(worked=[], sunk=[])
    run = make_run({"s": "f.fast", "h": "f.stops", "k": "f.sunk"},
                   ["s.data->h.data", "h.data->k.data"], [fast, stops, sunk],
                   RunOptions(batch_size=1, fuse=fuse))
    STOPPED["run"] = run
    result = run_guarded(run)
    assert result.status == "stopped"
    assert result.edges["s.data->h.data"] == result.nodes["h"].fired + result.undone.get("h", 0)
    assert result.edges["h.data->k.data"] == result.nodes["k"].fired + result.undone.get("k", 0)
    assert result.undone.get("h", 0) >= 1  # its inbox was full
