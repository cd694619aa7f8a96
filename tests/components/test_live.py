"""The ``live`` family: timer and file.watch, sources that run until stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from contract import contract_tests, param_problems

import runtime
from runtime.testing import run_component
from tests.flowkit import make_run, run_guarded, write_flow

FAMILY_MODULE = "components.live"
CONTRACT: dict[str, dict[str, Any]] = {
    "timer": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": {"interval"},
        "defaults": {"count": None, "at_start": True},
    },
    "file.watch": {
        "inputs": {},
        "outputs": {"data": "Any"},
        "required": {"folder"},
        "defaults": {"pattern": "*", "output": "path", "format": "auto", "settle": 1.0,
                     "existing": True, "poll": 0.5, "max_files": None},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)

Keep = Callable[[Any, runtime.Run], None]


def run_into(source: tuple[str, dict[str, Any]], keep: Keep | None = None,
             name: str = "t.keep", specs: tuple[runtime.ComponentSpec, ...] = (),
             ) -> tuple[runtime.RunResult, list[Any], list[Any]]:
    """Run ``source -> consumer``; return the result, the data kept and the error records.

    ``keep(value, run)`` is called in the consumer for every data message (to stop the run,
    hold it up, or write the next file).
    """
    kept: list[Any] = []
    errors: list[Any] = []
    holder: dict[str, runtime.Run] = {}

    @runtime.component(name, inputs={"data": "Any"}, outputs={})
    def consume(data: Any) -> None:
        kept.append(data)
        if keep is not None:
            keep(data, holder["run"])

    @runtime.component(f"{name}.errors", inputs={"data": "ErrorRecord"}, outputs={})
    def collect(data: Any) -> None:
        errors.append(data)

    run = make_run({"s": source, "k": name, "e": f"{name}.errors"},
                   ["s.data->k.data", "s.error->e.data"], [consume, collect, *specs])
    holder["run"] = run
    return run_guarded(run), kept, errors


def watch_params(folder: Path, **params: Any) -> tuple[str, dict[str, Any]]:
    return "file.watch", {"folder": str(folder), "poll": 0.02, "settle": 0.2, **params}


def test_a_threaded_source_that_yields_an_exception_goes_on_after_its_error_record() -> None:
    # the engine rule file.watch relies on: yielded, an exception is an error record on
    # the error port and the source keeps running; raised, it ends the source
    @runtime.component("t.goes_on", outputs={"data": "Any"}, threaded=True)
    def goes_on() -> Iterator[Any]:
        yield 1
        yield ValueError("the second file is bad")
        yield None
        yield 3

    result, kept, errors = run_into(("t.goes_on", {}), specs=(goes_on,))
    assert result.status == "errors"
    assert kept == [1, 3]
    assert [(e.node, e.error, e.message) for e in errors] == [
        ("s", "ValueError", "the second file is bad")]


# -- timer ------------------------------------------------------------------------------

def tick_offsets(ticks: list[pd.DataFrame]) -> list[int]:
    """Each tick's due slot after the first: counts plus the ticks skipped so far."""
    slots, slot = [], 0
    for i, tick in enumerate(ticks):
        slot += 0 if i == 0 else 1 + int(tick["skipped"].iloc[0])
        slots.append(slot)
    return slots


def test_timer_emits_count_one_row_ticks_on_an_exact_schedule() -> None:
    out = run_component("timer", params={"interval": 0.01, "count": 5})
    assert out.errors == []
    ticks = out["data"]
    assert [t.index.tolist() for t in ticks] == [[1], [2], [3], [4], [5]]
    assert [int(t["count"].iloc[0]) for t in ticks] == [1, 2, 3, 4, 5]
    for tick in ticks:
        assert list(tick.columns) == ["time", "count", "skipped"]
        assert str(tick["time"].dtype) == "datetime64[ns, UTC]"
    # no drift: every tick is due a whole number of intervals after the first
    first = ticks[0]["time"].iloc[0]
    step = pd.Timedelta(milliseconds=10)
    assert [t["time"].iloc[0] - first for t in ticks] == [k * step for k in tick_offsets(ticks)]


def test_timer_counts_the_ticks_a_slow_consumer_made_it_skip() -> None:
    held = threading.Event()

    def slow(_data: Any, _run: runtime.Run) -> None:
        if not held.is_set():
            held.set()
            time.sleep(0.4)  # the first tick holds the flow up for 40 intervals

    result, ticks, errors = run_into(("timer", {"interval": 0.01, "count": 8}), slow)
    assert result.status == "ok"
    assert errors == []
    assert [int(t["count"].iloc[0]) for t in ticks] == list(range(1, 9))  # no pile-up
    assert sum(int(t["skipped"].iloc[0]) for t in ticks) > 0
    first = ticks[0]["time"].iloc[0]
    step = pd.Timedelta(milliseconds=10)
    assert [t["time"].iloc[0] - first for t in ticks] == [k * step for k in tick_offsets(ticks)]


def test_timer_can_wait_one_interval_before_its_first_tick() -> None:
    before = pd.Timestamp(time.time_ns(), unit="ns", tz="UTC")
    out = run_component("timer", params={"interval": 0.05, "count": 1, "at_start": False})
    assert out["data"][0]["time"].iloc[0] - before >= pd.Timedelta(milliseconds=50)


def test_a_timer_without_count_ticks_until_the_run_is_stopped() -> None:
    def stop_at_three(tick: pd.DataFrame, run: runtime.Run) -> None:
        if int(tick["count"].iloc[0]) == 3:
            run.stop()

    result, ticks, _errors = run_into(("timer", {"interval": 0.01}), stop_at_three)
    assert result.status == "stopped"
    assert [int(t["count"].iloc[0]) for t in ticks][:3] == [1, 2, 3]


@pytest.mark.parametrize(("params", "param"), [
    ({}, "interval"), ({"interval": 0}, "interval"), ({"interval": -1}, "interval"),
    ({"interval": 1, "count": 0}, "count"), ({"interval": "often"}, "interval"),
])
def test_timer_settings_are_checked_at_validation(params: dict[str, Any], param: str) -> None:
    assert [p.param for p in param_problems("timer", params)] == [param]


# -- file.watch -------------------------------------------------------------------------

def test_a_file_written_slowly_is_emitted_once_whole_after_it_stops_growing(
        tmp_path: Path) -> None:
    target = tmp_path / "slow.csv"
    lines = ["a,b\n", *(f"{i},{i * i}\n" for i in range(6))]

    def write_slowly() -> None:
        with target.open("w") as handle:
            for line in lines:
                handle.write(line)
                handle.flush()
                time.sleep(0.03)

    writer = threading.Thread(target=write_slowly)
    writer.start()

    def then_another(_frame: Any, _run: runtime.Run) -> None:
        # while this second file settles, the first one is looked at many more times
        (tmp_path / "next.csv").write_text("a,b\n9,9\n")

    try:
        result, frames, errors = run_into(
            watch_params(tmp_path, output="data", settle=0.5, max_files=2), then_another)
    finally:
        writer.join()
    assert result.status == "ok"
    assert errors == []
    assert [f.attrs["source_file"] for f in frames] == [str(target), str(tmp_path / "next.csv")]
    pd.testing.assert_frame_equal(frames[0], pd.read_csv(target))
    assert len(frames[0]) == 6


def test_files_that_appear_while_running_are_emitted_and_those_there_before_are_not(
        tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("a\n1\n")
    written: list[str] = []
    done = threading.Event()

    def keep_writing() -> None:  # until the watch, started at some point, sees one
        for i in range(100):
            name = f"new_{i}.csv"
            (tmp_path / name).write_text("a\n2\n")
            written.append(str(tmp_path / name))
            if done.wait(0.1):
                return

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result, paths, _errors = run_into(watch_params(tmp_path, existing=False, max_files=1))
    finally:
        done.set()
        writer.join()
    assert result.status == "ok"
    assert paths[0] in written
    assert str(tmp_path / "old.csv") not in paths


def test_a_rewritten_file_is_a_new_version_and_is_emitted_again(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_text("a\n1\n")

    def rewrite_once(frame: pd.DataFrame, _run: runtime.Run) -> None:
        if len(frame) == 1:
            target.write_text("a\n1\n2\n")

    result, frames, errors = run_into(
        watch_params(tmp_path, output="data", max_files=2), rewrite_once)
    assert (result.status, errors) == ("ok", [])
    assert [f["a"].tolist() for f in frames] == [[1], [1, 2]]


def test_data_is_exactly_what_csv_read_and_parquet_read_give(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1.5, None, 3.0], "name": ["a", "b", None]},
                         index=pd.Index([7, 3, 9], name="id"))
    frame.to_csv(tmp_path / "one.csv", index=False)
    frame.to_parquet(tmp_path / "two.parquet")
    result, frames, errors = run_into(watch_params(tmp_path, output="data", max_files=2))
    assert (result.status, errors) == ("ok", [])
    by_file = {Path(f.attrs["source_file"]).name: f for f in frames}
    for name, component in [("one.csv", "csv.read"), ("two.parquet", "parquet.read")]:
        expected = run_component(component, params={"path": str(tmp_path / name)})
        pd.testing.assert_frame_equal(by_file[name], expected["data"][0], check_exact=True)
    assert by_file["two.parquet"].index.tolist() == [7, 3, 9]  # the row ids kept in the file
    assert by_file["one.csv"].index.tolist() == [0, 1, 2]  # row n is on line n + 2


def test_a_file_that_cannot_be_read_goes_to_the_error_port_and_the_watch_goes_on(
        tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,"2\n')  # a quote never closed
    (tmp_path / "good.csv").write_text("a,b\n1,2\n")
    result, frames, errors = run_into(watch_params(tmp_path, output="data", max_files=2))
    assert result.status == "errors"  # a record on the error port, as for any failure
    assert [f.attrs["source_file"] for f in frames] == [str(tmp_path / "good.csv")]
    assert len(errors) == 1
    assert errors[0].node == "s"
    assert str(bad) in errors[0].message
    assert "EOF inside string" in errors[0].message


def test_paths_and_the_pattern_and_hidden_files(tmp_path: Path) -> None:
    for name in ["b.csv", "a.txt", ".hidden.csv", "sub/c.csv"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("a\n1\n")
    _result, paths, _errors = run_into(watch_params(tmp_path, pattern="**/*.csv",
                                                    settle=0, max_files=2))
    assert sorted(paths) == [str(tmp_path / "b.csv"), str(tmp_path / "sub" / "c.csv")]


def test_stop_ends_a_watch_that_waits_for_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a\n1\n")
    result, paths, _errors = run_into(watch_params(tmp_path, settle=0),
                                      lambda _path, run: run.stop())
    assert result.status == "stopped"
    assert paths == [str(tmp_path / "a.csv")]


def test_the_folder_is_resolved_against_the_flow_file_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "afile").write_text("x")
    good = write_flow(tmp_path, {"w": ("file.watch", {"folder": "inbox"})}, name="good.json")
    assert runtime.validate(good) == []
    assert runtime.plan(good).nodes["w"].params.folder == str(tmp_path / "inbox")  # type: ignore[attr-defined]
    for folder, says in [("nowhere", "does not exist"), ("afile", "is not a folder")]:
        flow = write_flow(tmp_path, {"w": ("file.watch", {"folder": folder})},
                          name=f"{folder}.json")
        problems = runtime.validate(flow)
        assert [p.param for p in problems] == ["folder"]
        assert says in problems[0].message
        assert str(tmp_path / folder) in problems[0].message


@pytest.mark.parametrize(("params", "param"), [
    ({"pattern": "../*.csv"}, "pattern"), ({"pattern": "/etc/*"}, "pattern"),
    ({"pattern": ""}, "pattern"), ({"output": "rows"}, "output"), ({"settle": -1}, "settle"),
    ({"poll": 0}, "poll"), ({"max_files": 0}, "max_files"), ({"format": "xls"}, "format"),
])
def test_watch_settings_are_checked_at_validation(tmp_path: Path, params: dict[str, Any],
                                                  param: str) -> None:
    problems = param_problems("file.watch", {"folder": str(tmp_path), **params})
    assert [p.param for p in problems] == [param]


def test_a_watched_row_is_traced_to_its_file_and_line(tmp_path: Path) -> None:
    from runtime.runs import Lineage

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "in.csv").write_text("x\n0\n1\n2\n3\n")
    pd.DataFrame({"x": [5, 6]}, index=[40, 41]).to_parquet(inbox / "in.parquet")
    flow = write_flow(tmp_path, {
        "w": watch_params(inbox, output="data", settle=0, max_files=2),
        "keep": ("frame.query", {"expr": "x > 1"})}, ["w.data->keep.data"])
    run = runtime.Run(runtime.plan(flow))
    store = runtime.record_run(run, tmp_path).store
    assert run_guarded(run).status == "ok"
    sources: dict[int, Any] = {}
    for kept in store.messages("keep.data"):
        row = 2 if store.value(kept.id).index[0] == 2 else 41
        sources[row] = Lineage(store).trace(kept.id, row)[-1].source
    assert sources[2]["text"] == f"{inbox / 'in.csv'} line 4"
    assert sources[41]["text"] == f"{inbox / 'in.parquet'} row 41"
