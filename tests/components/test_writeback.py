"""Output files are synced to disk while they grow, and no error of that early sync is lost."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

import components._writeback as writeback
from components._files import AtomicOutput, WriteError
from runtime.testing import run_component


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the files the background syncs were asked to flush.

    The disk is not asked: a sync starts only once the one before has ended, so with the
    disk in the way, how many there were would say how busy it was (three, once, in a
    full run of the suite), not whether the writer asks for them on the way.
    """
    seen: list[int] = []

    def spy(fd: int) -> None:
        seen.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fdatasync", spy)
    monkeypatch.setattr(writeback, "STEP_BYTES", 20_000)
    monkeypatch.setattr(writeback, "CHECK_SECONDS", 0.0)  # look at the size on every write
    return seen


def frames(count: int, rows: int) -> list[pd.DataFrame]:
    return [pd.DataFrame({"n": range(i * rows, (i + 1) * rows), "x": 0.5},
                         index=range(i * rows, (i + 1) * rows)) for i in range(count)]


def test_a_growing_csv_is_synced_on_the_way_and_written_exactly(
        tmp_path: Path, synced: list[int]) -> None:
    chunks = frames(30, 1_000)
    path = tmp_path / "out.csv"
    before = open_fds()
    out = run_component("csv.write", {"data": chunks}, {"path": str(path)})
    assert out.result.status == "ok"
    expected = pd.concat(chunks).to_csv(index=False)
    assert path.read_text(encoding="utf-8") == expected
    # synced on the way, each time a bigger file than the time before (how often depends
    # on how soon each sync's thread ran: test_a_sync_starts_at_each_step_once_the_last_ended)
    assert synced
    assert synced == sorted(synced)
    assert synced[-1] < len(expected)
    for thread in threading.enumerate():
        if thread.name == "edgewise-writeback":
            thread.join(timeout=10)
    assert open_fds() <= before  # every duplicated descriptor was closed


def test_a_failed_background_sync_fails_the_file_and_keeps_the_old_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old,rows\n1,2\n", encoding="utf-8")

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fdatasync", failing)
    monkeypatch.setattr(writeback, "STEP_BYTES", 1_000)
    monkeypatch.setattr(writeback, "CHECK_SECONDS", 0.0)
    out = AtomicOutput(path)
    for chunk in frames(5, 500):
        with out.firing():
            chunk.to_csv(out.handle(), header=False, index=False)
            out.handle().flush()
    with pytest.raises(WriteError, match=rf"finishing {path} failed .*Input/output error"):
        out.finish()
    assert path.read_text(encoding="utf-8") == "old,rows\n1,2\n"
    assert (tmp_path / "out.csv.partial").stat().st_size > 0


def test_nothing_is_synced_before_a_step_has_been_written(tmp_path: Path,
                                                          synced: list[int]) -> None:
    out = run_component("csv.write", {"data": frames(2, 10)},
                        {"path": str(tmp_path / "small.csv")})
    assert out.result.status == "ok"
    assert synced == []


def test_the_size_is_looked_at_no_more_often_than_check_seconds(
        tmp_path: Path, synced: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    # a sink that fires per row must not pay a system call per row
    monkeypatch.setattr(writeback, "CHECK_SECONDS", 3600.0)
    out = run_component("csv.write", {"data": frames(30, 1_000)},
                        {"path": str(tmp_path / "out.csv")})
    assert out.result.status == "ok"
    assert synced == []  # the first write was looked at, before a step had been written


def test_a_sync_starts_at_each_step_once_the_last_ended(tmp_path: Path,
                                                        synced: list[int]) -> None:
    path = tmp_path / "grows.bin"
    with path.open("wb") as handle:
        back = writeback.Writeback(handle.fileno())

        def write(size: int) -> None:
            handle.write(b"x" * size)
            handle.flush()
            back.wrote()

        write(19_999)  # less than a step: nothing
        write(1)  # a step: a sync
        back.finish()  # waits for it
        write(10_000)
        write(9_999)  # half a step, then a byte short of a second one: nothing
        write(1)  # a second step
        back.finish()
        gate = threading.Event()
        started = threading.Event()

        def held(fd: int) -> None:
            started.set()
            gate.wait(10)
            synced.append(os.fstat(fd).st_size)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "fdatasync", held)
            write(20_000)  # a third step; its sync is held up
            assert started.wait(10)
            write(40_000)  # two steps more while it runs: no second sync over it
            gate.set()
            back.finish()
        assert len(synced) == 3
        write(1)  # the first write after it ended catches up with both
        back.finish()
    assert synced == [20_000, 40_000, 100_000, 100_001]
