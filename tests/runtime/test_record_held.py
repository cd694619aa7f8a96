"""Batches kept on the run's thread and batches handed to the writer make one honest record.

Cheap batches (plain numbers, values passed on unchanged) are encoded where they are made
and held until the writer writes them; costly ones go to the writer. These tests check
that the two paths keep the production order, read back every value with its own type,
hold only a bounded amount, and stop the run cleanly when the disk is full.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import runtime._record.recorder as recorder_module
from runtime import Run, RunOptions, plan
from runtime._record import RunStore, list_runs, record_run
from runtime._record.index import IndexWriter
from runtime._registry import component, default_registry
from runtime.testing import memory_source
from tests.flowkit import flow_doc, node, write_flow

REPO = Path(__file__).resolve().parents[2]
FRAMES = [pd.DataFrame({"x": [i, i + 1], "y": [i / 2, 0.5]}, index=[10 * i, 10 * i + 1])
          for i in range(6)]
MIXED = [1, True, 2.5, "text", {"a": [1, None]}, [3, "b"], 7, False, 0.0]
COUNT = 1_500


@component("testing.as_float", inputs={"data": "int"}, outputs={"data": "float"})
def as_float(data: int) -> float:
    """The number as a float."""
    return float(data)


def mixed_flow() -> tuple[dict[str, Any], Any]:
    """Numbers (cheap), DataFrames and mixed JSON values (costly), each passed on unchanged."""
    specs = [memory_source("testing.ints", range(COUNT), "int"),
             memory_source("testing.frames", FRAMES, "DataFrame"),
             memory_source("testing.mixed", MIXED * 50), as_float]
    flow = flow_doc([{"id": "n", "component": "testing.ints"}, node("ni", "stream.identity"),
                     node("nf", "testing.as_float"),
                     {"id": "f", "component": "testing.frames"}, node("fi", "stream.identity"),
                     {"id": "m", "component": "testing.mixed"}, node("mi", "stream.identity")],
                    [("n.data", "ni.data"), ("ni.data", "nf.data"), ("f.data", "fi.data"),
                     ("m.data", "mi.data")])
    return flow, default_registry().with_components(*specs)


def recorded(workspace: Path, batch_size: int) -> RunStore:
    flow, registry = mixed_flow()
    run = Run(plan(flow, registry=registry, base_dir=workspace),
              options=RunOptions(batch_size=batch_size))
    recorder = record_run(run, workspace)
    result = run.run()
    assert result.status == "ok"
    assert recorder.failure is None and recorder.errors == []
    return recorder.store


@pytest.mark.parametrize("batch_size", [1, 7, 4096])
def test_every_value_reads_back_equal_and_with_its_own_type(tmp_path: Path,
                                                           batch_size: int) -> None:
    store = recorded(tmp_path, batch_size)

    def values(port: str) -> list[Any]:
        return [store.value(m.id) for m in store.messages(port)]

    for port in ("n.data", "ni.data"):
        assert values(port) == list(range(COUNT))
        assert {type(v) for v in values(port)} == {int}
    assert values("nf.data") == [float(i) for i in range(COUNT)]
    assert {type(v) for v in values("nf.data")} == {float}
    for port in ("f.data", "fi.data"):
        kept = values(port)
        assert len(kept) == len(FRAMES)
        for got, want in zip(kept, FRAMES, strict=True):
            pd.testing.assert_frame_equal(got, want)
    for port in ("m.data", "mi.data"):
        kept = values(port)
        assert kept == MIXED * 50
        assert [type(v) for v in kept] == [type(v) for v in MIXED * 50]
    recording = store.manifest()["recording"]
    assert recording["messages_indexed"] == 3 * COUNT + 2 * len(FRAMES) + 2 * len(MIXED) * 50
    assert recording["values_not_kept"] == 0


@pytest.mark.parametrize("batch_size", [1, 7, 4096])
def test_batches_are_indexed_in_the_order_they_were_produced(tmp_path: Path,
                                                             batch_size: int) -> None:
    # a cheap batch made while a costly one waits for the writer waits behind it
    store = recorded(tmp_path, batch_size)

    rows = store.db.execute("SELECT origin, first_id, t FROM batches ORDER BY seq").fetchall()
    times = [t for _origin, _first, t in rows]
    assert times == sorted(times)
    for origin in ("n.data", "ni.data", "f.data", "fi.data", "m.data", "mi.data"):
        firsts = [first for o, first, _t in rows if o == origin]
        assert firsts and firsts == sorted(firsts)


def test_a_run_faster_than_the_disk_waits_and_holds_a_bounded_amount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A slow disk: every write of index rows takes a while. The run must wait for the
    # writer rather than hold ever more batches.
    monkeypatch.setattr(recorder_module, "HELD_BATCHES", 8)
    monkeypatch.setattr(recorder_module, "MAX_HELD", 2)
    slow_writes: list[int] = []
    write = IndexWriter.write

    def slow_write(self: IndexWriter, rows: Any) -> None:
        time.sleep(0.002)
        slow_writes.append(len(rows.batches))
        write(self, rows)

    monkeypatch.setattr(IndexWriter, "write", slow_write)
    flow = flow_doc([node("r", "stream.range", count=3_000), node("i", "stream.identity")],
                    [("r.data", "i.data")])
    run = Run(plan(flow, base_dir=tmp_path), options=RunOptions(batch_size=1))
    recorder = record_run(run, tmp_path)
    held: list[int] = []
    run.hooks.add("produced", lambda port, batch: held.append(recorder._index.pending))

    assert run.run().status == "ok"

    assert max(held) <= 2 * 8 + 1
    assert sum(slow_writes) == 6_000 and len(slow_writes) >= 6_000 // (2 * 8 + 1)
    store = recorder.store
    assert [store.value(m.id) for m in store.messages("i.data")] == list(range(3_000))


LIMIT = 5 * recorder_module.HELD_BYTES


def test_a_full_disk_while_numbers_are_kept_stops_the_run_cleanly(tmp_path: Path) -> None:
    # Numbers are encoded on the run's thread; the I/O that fails is the writer's, and the
    # run stops with the record marked incomplete, as for any other value.
    flow = write_flow(tmp_path, [node("r", "stream.range", count=50_000_000),
                                 node("i", "stream.identity")], [("r.data", "i.data")])

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        # past several writes of what was held, so that some were committed before
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))

    proc = subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(flow), "--record",
                           "--json"], cwd=tmp_path, text=True, capture_output=True,
                          timeout=120, preexec_fn=limit, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})

    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["status"] == "stopped"
    assert last["recording"]["status"] == "incomplete"
    assert "File too large" in last["recording"]["error"]
    [store] = list_runs(tmp_path)
    assert store.manifest()["status"] == "incomplete"
    # millions of messages: a few of each port, read back at their places
    for port in ("r.data", "i.data"):
        count = store.count(port)
        assert count > 0
        for position in (0, 1, count // 2, count - 1):
            message = store.message_at(port, position)
            assert message is not None and store.value(message.id) == position
    assert store.count("i.data") <= store.count("r.data")
