"""The ``csv`` family: csv.read and csv.write."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from contract import contract_tests, one_node_flow

import runtime
from runtime.testing import run_component
from tests.flowkit import make_flow

FAMILY_MODULE = "components.csvio"
CONTRACT: dict[str, dict[str, Any]] = {
    "csv.read": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": {"path"},
        "defaults": {"chunk_rows": None},
    },
    "csv.write": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {},
        "required": {"path"},
        "defaults": {},
    },
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


# -- csv.read ---------------------------------------------------------------------------

@pytest.fixture
def numbers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.csv"
    lines = ["n,square,name"] + [f"{n},{n * n},row{n}" for n in range(25)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_whole_file_is_one_frame(numbers_csv: Path) -> None:
    out = run_component("csv.read", params={"path": str(numbers_csv)})
    assert out.errors == []
    [frame] = out["data"]
    assert list(frame.columns) == ["n", "square", "name"]
    assert len(frame) == 25
    assert list(frame.index) == list(range(25))
    assert frame.loc[7, "square"] == 49


@pytest.mark.parametrize(("chunk_rows", "sizes"), [(10, [10, 10, 5]), (25, [25]),
                                                   (1000, [25]), (1, [1] * 25)])
def test_read_in_chunks_of_at_most_chunk_rows(numbers_csv: Path, chunk_rows: int,
                                              sizes: list[int]) -> None:
    out = run_component("csv.read", params={"path": str(numbers_csv), "chunk_rows": chunk_rows})
    assert out.errors == []
    assert [len(chunk) for chunk in out["data"]] == sizes


def test_read_chunk_row_ids_continue_so_row_n_is_on_line_n_plus_2(numbers_csv: Path) -> None:
    lines = numbers_csv.read_text().splitlines()
    chunks = run_component("csv.read",
                           params={"path": str(numbers_csv), "chunk_rows": 10})["data"]
    ids = [i for chunk in chunks for i in chunk.index]
    assert ids == list(range(25))
    for chunk in chunks:
        for row_id, row in chunk.iterrows():
            # line numbers count from 1, and line 1 is the header
            assert lines[row_id + 2 - 1] == f"{row['n']},{row['square']},{row['name']}"


def test_read_chunks_concatenate_to_the_whole_file(numbers_csv: Path) -> None:
    [whole] = run_component("csv.read", params={"path": str(numbers_csv)})["data"]
    chunks = run_component("csv.read",
                           params={"path": str(numbers_csv), "chunk_rows": 7})["data"]
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


def test_read_relative_path_resolves_against_the_flow_folder(numbers_csv: Path) -> None:
    out = run_component("csv.read", params={"path": "numbers.csv"},
                        base_dir=numbers_csv.parent)
    assert len(out["data"][0]) == 25


def test_read_missing_file_is_a_validation_problem(tmp_path: Path) -> None:
    problems = runtime.validate(one_node_flow("csv.read", {"path": "nope.csv"}),
                                base_dir=tmp_path)
    assert len(problems) == 1
    assert problems[0].node == "n"
    assert problems[0].param == "path"
    assert "nope.csv" in problems[0].message


@pytest.mark.parametrize("chunk_rows", [0, -5, "ten"])
def test_read_bad_chunk_rows_is_a_validation_problem(numbers_csv: Path,
                                                     chunk_rows: Any) -> None:
    flow = one_node_flow("csv.read", {"path": str(numbers_csv), "chunk_rows": chunk_rows})
    problems = runtime.validate(flow)
    assert [(p.node, p.param) for p in problems] == [("n", "chunk_rows")]


# -- csv.write --------------------------------------------------------------------------

def frame(values: list[int], start: int = 0) -> pd.DataFrame:
    index = range(start, start + len(values))
    return pd.DataFrame({"a": values, "b": [f"x{v}" for v in values]}, index=index)


def test_write_appends_chunks_under_one_header(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    out = run_component("csv.write", {"data": [frame([1, 2]), frame([3], 2), frame([4, 5], 3)]},
                        {"path": str(path)})
    assert out.result.status == "ok"
    assert path.read_text().splitlines() == ["a,b", "1,x1", "2,x2", "3,x3", "4,x4", "5,x5"]


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "round.csv"
    original = pd.DataFrame({"f": [0.5, -1.25], "s": ["a, with comma", 'q"uote'], "i": [1, 2]})
    run_component("csv.write", {"data": [original]}, {"path": str(path)})
    [back] = run_component("csv.read", params={"path": str(path)})["data"]
    pd.testing.assert_frame_equal(back, original, check_dtype=False)


def test_write_index_adds_row_ids_as_first_column(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    run_component("csv.write", {"data": [frame([7, 8], start=40)]},
                  {"path": str(path), "index": True})
    assert path.read_text().splitlines() == [",a,b", "40,7,x7", "41,8,x8"]


def test_write_relative_path_resolves_against_the_flow_folder(tmp_path: Path) -> None:
    run_component("csv.write", {"data": [frame([1])]}, {"path": "sub/out.csv"},
                  base_dir=tmp_path)
    assert (tmp_path / "sub" / "out.csv").read_text().splitlines() == ["a,b", "1,x1"]


def test_write_refuses_a_chunk_with_other_columns_and_leaves_the_file_alone(
        tmp_path: Path) -> None:
    # A sink that failed on any chunk must not replace the file with an incomplete one: the
    # old file stays, and what was written before the bad chunk is kept as out.csv.partial.
    path = tmp_path / "out.csv"
    path.write_text("old,content\n1,2\n")
    odd = pd.DataFrame({"a": [99], "c": [0]})
    out = run_component("csv.write", {"data": [frame([1]), odd, frame([2], 1)]},
                        {"path": str(path)})
    assert out.result.status == "errors"
    bad, later, at_end = out.errors
    assert bad.node == "node"
    assert bad.component == "csv.write"
    assert "['a', 'c']" in bad.message
    assert "['a', 'b']" in bad.message
    assert "earlier message failed" in later.message
    assert f"{path} was not written" in at_end.message
    assert "it is left as it was, and the part written is kept as out.csv.partial" in (
        at_end.message)
    assert path.read_text() == "old,content\n1,2\n"
    assert (tmp_path / "out.csv.partial").read_text().splitlines() == ["a,b", "1,x1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.csv.partial"]


def test_write_tells_column_names_apart_by_how_they_are_written(tmp_path: Path) -> None:
    # 1 == 1.0, but the header says "1" and the chunk's names would be written "1.0"
    ints = pd.DataFrame([[1, 2]], columns=[1, 2])
    floats = pd.DataFrame([[3, 4]], columns=[1.0, 2.0])
    out = run_component("csv.write", {"data": [ints, ints, floats]},
                        {"path": str(tmp_path / "out.csv")})
    assert [e.message for e in out.errors][:1] == [
        "columns ['1.0', '2.0'] differ from the header already written ['1', '2']; every "
        "chunk must have the same columns"]


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old,content\n1,2\n3,4\n")
    run_component("csv.write", {"data": [frame([1])]}, {"path": str(path)})
    assert path.read_text().splitlines() == ["a,b", "1,x1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_with_no_chunks_does_not_leave_the_previous_runs_rows(tmp_path: Path) -> None:
    # A run whose stream turned out empty (say, every chunk failed upstream) must not leave
    # the previous run's rows in place as if this run had written them; jsonl.write empties
    # its file in the same case.
    path = tmp_path / "out.csv"
    path.write_text("a,b\n1,x1\n")
    out = run_component("csv.write", {"data": []}, {"path": str(path)})
    assert out.result.status == "ok"
    assert not path.exists() or "x1" not in path.read_text()


def _writer_started(folder: Path, before: dict[str, bytes]) -> bool:
    now = {p.name: p.read_bytes() for p in folder.iterdir()}
    return now != before


def _run_cut_short(tmp_path: Path, how: str) -> runtime.RunResult:
    """Write one chunk, then (once the writer has started its file) fail or stop the run."""
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    ended = threading.Event()
    holder: list[runtime.Run] = []

    @runtime.component("testing.cut_short", outputs={"data": "DataFrame"}, threaded=True)
    def cut_short() -> Iterator[pd.DataFrame | None]:
        """Emit a chunk, wait until the writer has begun its file, then fail or stop."""
        yield frame([1, 2])
        deadline = time.monotonic() + 5
        while not _writer_started(tmp_path, before) and time.monotonic() < deadline:
            time.sleep(0.005)
        if how == "fail":
            msg = "source broke"
            raise RuntimeError(msg)
        holder[0].stop()
        deadline = time.monotonic() + 10
        while not ended.wait(0.02) and time.monotonic() < deadline:
            yield None  # nothing to say: control goes back to the engine, which stops
        yield frame([3])

    registry = runtime.default_registry().with_components(cut_short)
    flow = make_flow({"src": "testing.cut_short", "write": ("csv.write", {"path": "out.csv"})},
                     ["src.data->write.data"])
    run = runtime.Run(runtime.plan(flow, registry=registry, base_dir=tmp_path),
                      options=runtime.RunOptions(fail_fast=True, batch_size=1))
    holder.append(run)
    run.hooks.add("run_ended", lambda result: ended.set())
    return run.run()


@pytest.mark.parametrize(("how", "status"), [("fail", "aborted"), ("stop", "stopped")])
def test_write_is_atomic_when_the_run_is_cut_short(tmp_path: Path, how: str,
                                                   status: str) -> None:
    path = tmp_path / "out.csv"
    path.write_text("previous,good\n1,2\n")
    result = _run_cut_short(tmp_path, how)
    assert result.status == status
    assert path.read_text() == "previous,good\n1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_leaves_no_file_when_a_new_one_is_cut_short(tmp_path: Path) -> None:
    result = _run_cut_short(tmp_path, "fail")
    assert result.status == "aborted"
    assert list(tmp_path.iterdir()) == []


def test_write_leaves_no_partial_file_when_aborted_during_its_first_chunk(
        tmp_path: Path) -> None:
    # The run is aborted while the writer is still busy (in its worker thread) with its first
    # chunk. Whatever the writer does after the abort, no temporary file may stay behind.
    # The writer stays busy until the source has failed, which is what aborts the run (the
    # run cannot end while the writer is busy, so waiting for its end would only time out).
    busy, source_failed = threading.Event(), threading.Event()

    class SlowLabel:
        """A column label that is slow to turn into text (a stand-in for a big chunk)."""

        def __str__(self) -> str:
            busy.set()
            source_failed.wait(10)
            return "slow"

    @runtime.component("testing.abort_while_writing", outputs={"data": "DataFrame"},
                       threaded=True)
    def abort_while_writing() -> Iterator[pd.DataFrame | None]:
        """Emit a chunk, then fail once the writer is busy with it."""
        # A source that waits (yields None) runs in its own thread: one that never waits
        # would be read by the writer's thread, in turn with the writing, never beside it.
        yield None
        yield pd.DataFrame({SlowLabel(): [1, 2]})
        busy.wait(5)
        msg = "source broke"
        raise RuntimeError(msg)

    registry = runtime.default_registry().with_components(abort_while_writing)
    flow = make_flow({"src": "testing.abort_while_writing",
                      "write": ("csv.write", {"path": "out.csv"})}, ["src.data->write.data"])
    run = runtime.Run(runtime.plan(flow, registry=registry, base_dir=tmp_path),
                      options=runtime.RunOptions(fail_fast=True, batch_size=1))
    run.hooks.add("failed", lambda node, record: node == "src" and source_failed.set())
    result = run.run()
    assert busy.is_set() and source_failed.is_set()
    assert result.status == "aborted"
    assert list(tmp_path.iterdir()) == []


def test_write_in_a_flow_fed_by_chunked_read(tmp_path: Path, numbers_csv: Path) -> None:
    flow = make_flow({"read": ("csv.read", {"path": "numbers.csv", "chunk_rows": 4}),
                      "write": ("csv.write", {"path": "copy.csv"})}, ["read.data->write.data"])
    result = runtime.run_flow(flow, base_dir=tmp_path)
    assert result.status == "ok"
    assert result.edges["read.data->write.data"] == 7
    assert (tmp_path / "copy.csv").read_text() == numbers_csv.read_text()
