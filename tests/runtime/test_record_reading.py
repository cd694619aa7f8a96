"""Reading a kept run port by port: the same answers as message by message, in linear time."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from runtime import Run, RunOptions, plan
from runtime._record import DamagedRunError, RunStore, StoragePolicy, record_run
from runtime._registry import component, default_registry
from tests.flowkit import flow_doc, node


@component("testing.mixed", inputs={"data": "int"}, outputs={"data": "Any"})
def mixed(data: int) -> Any:
    """A float, a string, a dict, or an error record, by turns."""
    if data % 4 == 0:
        return data / 2
    if data % 4 == 1:
        return f"n{data}"
    if data % 4 == 2:
        return {"n": data}
    msg = f"{data} is not wanted"
    raise ValueError(msg)


def recorded(folder: Path, count: int, policy: StoragePolicy | None = None) -> RunStore:
    """A kept run: ints, their mixed values, and DataFrames in chunks of a CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"a": range(count), "b": [i * i for i in range(count)]}).to_csv(
        folder / "in.csv", index=False)
    flow = flow_doc([node("r", "stream.range", count=count), node("m", "testing.mixed"),
                     node("read", "csv.read", path="in.csv", chunk_rows=7),
                     node("show", "debug"), node("seen", "debug")],
                    [("r.data", "m.data"), ("m.data", "show.data"), ("read.data", "seen.data")])
    registry = default_registry().with_components(mixed)
    run = Run(plan(flow, registry=registry, base_dir=folder), options=RunOptions(batch_size=16))
    recorder = record_run(run, folder, policy=policy)
    assert run.run().status == "errors"  # the error records
    return RunStore(recorder.folder)


def one_by_one(store: RunStore, origin: str) -> list[tuple[Any, Any]]:
    """What a reader got before values(): each message, then value(id) for each."""
    found = []
    for message in store.messages(origin):
        try:
            found.append((store.message(message.id), store.value(message.id)))
        except KeyError:
            found.append((store.message(message.id), None))
    return found


def same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        return isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and a.equals(b)
    return bool(a == b) and type(a) is type(b)


@pytest.mark.parametrize("policy", [None, StoragePolicy(max_values=5, sample_every=3)],
                         ids=["all kept", "capped"])
def test_a_port_read_whole_gives_what_each_message_read_alone_gives(
        tmp_path: Path, policy: StoragePolicy | None) -> None:
    store = recorded(tmp_path, 60, policy)
    for origin in ("r.data", "m.data", "m.error", "read.data"):
        whole = list(store.values(origin))
        alone = one_by_one(store, origin)
        assert len(whole) == len(alone) == store.count(origin) > 0
        for (info, value), (single, expected) in zip(whole, alone, strict=True):
            assert info == single
            assert info.position == single.position
            assert info.preview == single.preview
            assert same(value, expected)
    kept = [info.kept for info, _value in store.values("read.data")]
    # 9 chunks: with the cap, the first 5 kept, then one in 3 (the 6th and the 9th)
    assert kept.count(None) == (0 if policy is None else 2)
    if policy is None:
        errors = [value for _info, value in store.values("m.error")]
        assert [(e.error, e.message) for e in errors] == [
            ("ValueError", f"{n} is not wanted") for n in range(3, 60, 4)]


def test_reading_a_port_looks_each_batch_up_once_not_each_message(tmp_path: Path) -> None:
    # values() and messages() used to query the index three times and open the values file
    # twice per message, and summed every earlier batch for each message's position.
    store = recorded(tmp_path, 3_000)
    batches = len(store.spans("m.data"))
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    found = list(store.values("m.data"))
    assert len(found) == 2_250  # one number in four is an error record instead
    assert batches <= 3_000 // 16 + 1
    assert len(statements) <= 3 * batches + 2


def test_a_cut_short_values_file_names_the_file_when_a_port_is_read(tmp_path: Path) -> None:
    store = recorded(tmp_path, 200)
    [(name,)] = store.db.execute(
        "SELECT DISTINCT file FROM inline_values JOIN batches USING (seq) "
        "WHERE origin = 'r.data'").fetchall()
    values_file = store.values_dir / name
    values_file.write_bytes(values_file.read_bytes()[:100])
    with pytest.raises(DamagedRunError, match=rf"{name}.*cut short or garbled"):
        list(store.values("r.data"))
    with pytest.raises(DamagedRunError, match="cut short or garbled"):
        list(store.messages("r.data"))


def test_the_index_is_opened_read_only(tmp_path: Path) -> None:
    store = recorded(tmp_path, 10)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.db.execute("DELETE FROM batches")
