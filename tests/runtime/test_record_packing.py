"""Recording's quick paths for streams of numbers keep every value as it was.

Plain 32-bit ints are checked and packed in one pass (``runtime._record.packing``); a batch
passed on unchanged is compared in place with its parent's addresses and shares its entry
(``runtime._record.sameness``); a run's last writes are made on the run's thread. These
tests check that each gives exactly what the general path gives.
"""

from __future__ import annotations

import enum
import gc
import random
import time
import weakref
from array import array
from pathlib import Path
from typing import Any

import pytest

from runtime import Run, RunOptions, plan
from runtime._record import record_run
from runtime._record.packing import pack_small_ints
from runtime._record.sameness import RecentBatches, item_addresses
from runtime._registry import default_registry
from runtime.testing import memory_source
from tests.flowkit import flow_doc, node


class Level(enum.IntEnum):
    """An int subclass."""

    LOW = 1


class Count(int):
    """A plain int subclass."""


INT32 = [0, 1, -1, 255, -256, 65_536, -70_000, 2**31 - 1, -(2**31)]


@pytest.mark.parametrize("values", [
    INT32,
    list(range(-5_000, 5_000)),
    [random.Random(7).randint(-(2**31), 2**31 - 1) for _ in range(4_096)],
    [7],
])
def test_plain_ints_pack_as_array_q_does(values: list[int]) -> None:
    assert pack_small_ints(values) == array("q", values).tobytes()


@pytest.mark.parametrize("values", [
    [], [1, True, 2], [False], [1, 2.0, 3], [1.5], [1, Level.LOW, 2], [1, Count(3), 4],
    [1, 2**31, 3], [1, -(2**31) - 1, 3], [1, 10**30, 3], [1, None, 2], [1, "", 2],
    [1, (), 2], [1, [], 2], [1, {}, 2], [1, b"", 2], ["1", 2], [1, "2"],
])
def test_anything_but_plain_32_bit_ints_is_left_to_the_general_path(values: list[Any]) -> None:
    assert pack_small_ints(values) is None


NUMBERS: list[Any] = [*INT32, 2**31, -(2**31) - 1, 2**63 - 1, 10**30, True, False,
                      Level.LOW, Count(5), 2.5, -0.0]


@pytest.mark.parametrize("batch_size", [1, 3, 4096])
def test_recorded_numbers_read_back_equal_and_with_their_own_types(tmp_path: Path,
                                                                   batch_size: int) -> None:
    source = memory_source("testing.numbers", NUMBERS * 4)
    ints = memory_source("testing.ints", INT32 * 60, "int")
    flow = flow_doc([{"id": "n", "component": "testing.numbers"},
                     node("ni", "stream.identity"),
                     {"id": "s", "component": "testing.ints"}, node("si", "stream.identity"),
                     node("sj", "stream.identity")],
                    [("n.data", "ni.data"), ("s.data", "si.data"), ("si.data", "sj.data")])
    registry = default_registry().with_components(source, ints)
    run = Run(plan(flow, registry=registry, base_dir=tmp_path),
              options=RunOptions(batch_size=batch_size))
    recorder = record_run(run, tmp_path)
    assert run.run().status == "ok"
    assert recorder.failure is None and recorder.errors == []
    store = recorder.store

    def kept(port: str) -> list[Any]:
        return [store.value(m.id) for m in store.messages(port)]

    # bools and floats keep their types; an int subclass is kept as JSON, so it reads back
    # as a plain int, as it always has
    types = [t if t in (bool, float) else int for t in map(type, NUMBERS * 4)]
    for port in ("n.data", "ni.data"):
        assert kept(port) == NUMBERS * 4
        assert [type(v) for v in kept(port)] == types
    for port in ("s.data", "si.data", "sj.data"):
        assert kept(port) == INT32 * 60
        assert {type(v) for v in kept(port)} == {int}
    folder = store.folder / "values"
    assert (folder / "s.data.values").stat().st_size == 8 * len(INT32) * 60
    assert not (folder / "si.data.values").exists()  # pointed at s.data's bytes
    assert not (folder / "sj.data.values").exists()


def test_a_batch_passed_on_shares_its_parents_entry_and_holds_only_the_newest_list() -> None:
    class Values(list[Any]):
        """A list that can be watched for being freed."""

    recent = RecentBatches(budget=6)
    objects = [10**30 + i for i in range(3)]
    first = Values(objects)
    recent.remember(range(0, 3), first, ("int64", "f", 0, 24), item_addresses(first))
    freed = weakref.ref(first)
    second = Values(objects)
    found = recent.passed_on_from(range(0, 3), second)
    assert found is not None and found[0] == ("int64", "f", 0, 24)
    recent.remember(range(3, 6), second, *found)
    del first, objects
    gc.collect()
    assert freed() is None  # the shared entry let the older list go

    third = [*second]
    found = recent.passed_on_from(range(3, 6), third)
    assert found is not None and found[0] == ("int64", "f", 0, 24)
    recent.remember(range(6, 9), third, *found)  # over budget: range(0, 3) is forgotten
    assert recent.passed_on_from(range(0, 3), list(second)) is None
    assert recent.passed_on_from(range(6, 9), list(third)) is not None
    assert recent.passed_on_from(range(6, 9), [10**30 + i for i in range(3)]) is None
    assert recent.passed_on_from(range(6, 9), [float(v) for v in third]) is None
    assert recent.passed_on_from(range(6, 9), third[:2]) is None


def test_a_shared_entry_is_forgotten_with_its_last_batch() -> None:
    recent = RecentBatches(budget=4)
    values = [10**30 + i for i in range(2)]
    recent.remember(range(0, 2), values, ("int64", "f", 0, 16), item_addresses(values))
    found = recent.passed_on_from(range(0, 2), list(values))
    assert found is not None
    recent.remember(range(2, 4), list(values), *found)
    other = [1, 2, 3, 4]
    recent.remember(range(4, 8), other, ("int64", "f", 16, 32), item_addresses(other))
    assert recent.passed_on_from(range(0, 2), list(values)) is None
    assert recent.passed_on_from(range(2, 4), list(values)) is None
    assert recent.passed_on_from(range(4, 8), list(other)) is not None


def test_the_writer_thread_ends_with_the_run(tmp_path: Path) -> None:
    flow = flow_doc([node("r", "stream.range", count=10_000), node("i", "stream.identity")],
                    [("r.data", "i.data")])
    run = Run(plan(flow, base_dir=tmp_path))
    recorder = record_run(run, tmp_path)
    assert run.run().status == "ok"
    store = recorder.store
    assert store.status() == "ok"
    assert [store.value(m.id) for m in store.messages("i.data")][-3:] == [9_997, 9_998, 9_999]
    deadline = time.monotonic() + 10
    while recorder._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not recorder._thread.is_alive()
