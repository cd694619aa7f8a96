"""The ``jsonl`` family: jsonl.write."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests

import runtime
from runtime.testing import memory_source, run_component

FAMILY_MODULE = "components.jsonl"
CONTRACT: dict[str, dict[str, Any]] = {
    "jsonl.write": {
        "inputs": {"data": ("Any", "stream")},
        "outputs": {},
        "required": {"path"},
        "defaults": {},
    },
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


def not_json(constant: str) -> Any:
    msg = f"{constant} is not JSON"
    raise ValueError(msg)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Parse a JSON Lines file strictly: NaN and Infinity are not JSON."""
    text = path.read_text()
    assert text == "" or text.endswith("\n")
    return [json.loads(line, parse_constant=not_json) for line in text.splitlines()]


def write(tmp_path: Path, messages: list[Any], **params: Any) -> tuple[Path, Any]:
    path = tmp_path / "out.jsonl"
    out = run_component("jsonl.write", {"data": messages}, {"path": str(path), **params})
    return path, out


def test_dataframe_writes_one_line_per_row(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "s": ["x", "y", "z"]}, index=[10, 11, 12])
    path, out = write(tmp_path, [frame])
    assert out.errors == []
    assert read_lines(path) == [{"a": 1, "s": "x"}, {"a": 2, "s": "y"}, {"a": 3, "s": "z"}]


def test_several_dataframes_append_in_order(tmp_path: Path) -> None:
    first = pd.DataFrame({"a": [1, 2]})
    second = pd.DataFrame({"a": [3]})
    path, _ = write(tmp_path, [first, second])
    assert read_lines(path) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_missing_values_become_null(tmp_path: Path) -> None:
    path, _ = write(tmp_path, [pd.DataFrame({"a": [1.5, None]})])
    assert read_lines(path) == [{"a": 1.5}, {"a": None}]


def test_index_adds_row_ids_as_row_key(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [7, 8]}, index=[40, 41])
    path, _ = write(tmp_path, [frame], index=True)
    assert read_lines(path) == [{"_row": 40, "a": 7}, {"_row": 41, "a": 8}]


def test_dict_writes_one_line(tmp_path: Path) -> None:
    path, out = write(tmp_path, [{"accuracy": 0.9, "rows": 38}, {"k": "v"}])
    assert out.errors == []
    assert read_lines(path) == [{"accuracy": 0.9, "rows": 38}, {"k": "v"}]


def test_dict_with_numpy_scalars_writes_plain_numbers(tmp_path: Path) -> None:
    path, out = write(tmp_path, [{"n": np.int64(3), "x": np.float64(0.5)}])
    assert out.errors == []
    assert read_lines(path) == [{"n": 3, "x": 0.5}]


def test_dict_with_numpy_array_writes_a_list(tmp_path: Path) -> None:
    # A dict holding an array (for example predictions) must still be one JSON line.
    path, out = write(tmp_path, [{"values": np.array([1, 2, 3])}])
    assert out.errors == []
    assert read_lines(path) == [{"values": [1, 2, 3]}]


def test_dict_with_missing_numbers_is_still_strict_json(tmp_path: Path) -> None:
    # ml.score gives r2 = NaN on a one-row chunk; its line must still be JSON (null),
    # as missing values in a DataFrame already are.
    path, out = write(tmp_path, [{"r2": float("nan"), "mae": 0.5, "rows": 1}])
    assert out.errors == []
    assert read_lines(path) == [{"r2": None, "mae": 0.5, "rows": 1}]


def test_a_series_writes_one_line_holding_an_object(tmp_path: Path) -> None:
    # Only a DataFrame is written row by row; any other value is one JSON object.
    path, out = write(tmp_path, [pd.Series([1, 2, 3], name="x")])
    assert out.errors == []
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert isinstance(json.loads(lines[0]), dict)


def test_other_values_write_one_line_each(tmp_path: Path) -> None:
    path, out = write(tmp_path, [7, "text", [1, 2]])
    assert out.errors == []
    assert read_lines(path) == [{"value": 7}, {"value": "text"}, {"value": [1, 2]}]


def test_error_record_writes_one_line_with_its_fields(tmp_path: Path) -> None:
    record = runtime.ErrorRecord(node="fit", component="ml.fit", error="ValueError",
                                 message="bad input", inputs=[3, 4])
    path, out = write(tmp_path, [record])
    assert out.errors == []
    assert read_lines(path) == [{"node": "fit", "component": "ml.fit", "error": "ValueError",
                                 "message": "bad input", "inputs": [3, 4]}]


def test_no_messages_writes_an_empty_file(tmp_path: Path) -> None:
    path, out = write(tmp_path, [])
    assert out.result.status == "ok"
    assert path.read_text() == ""


def test_routes_a_nodes_error_port_to_a_dead_letter_file(tmp_path: Path) -> None:
    good = pd.DataFrame({"a": [1], "b": [2]})
    bad = pd.DataFrame({"a": [3]})
    source = memory_source("testing.frames", [good, bad, good])
    registry = runtime.default_registry().with_components(source)
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "dead letters",
        "nodes": [{"id": "src", "component": "testing.frames"},
                  {"id": "pick", "component": "frame.select", "params": {"columns": ["b"]}},
                  {"id": "dead", "component": "jsonl.write",
                   "params": {"path": "dead.jsonl"}}],
        "edges": [{"source": "src.data", "target": "pick.data"},
                  {"source": "pick.error", "target": "dead.data"}]})
    run = runtime.Run(runtime.plan(flow, registry=registry, base_dir=tmp_path))
    source_ids: list[int] = []
    run.hooks.add("emitted", lambda edge, batch: source_ids.extend(batch.ids)
                  if edge == "src.data->pick.data" else None)
    result = run.run()
    assert result.status == "errors"
    [line] = read_lines(tmp_path / "dead.jsonl")
    assert set(line) == {"node", "component", "error", "message", "inputs"}
    assert line["node"] == "pick"
    assert line["component"] == "frame.select"
    assert line["error"] == "KeyError"
    assert "'b'" in line["message"]
    assert line["inputs"] == [source_ids[1]]


def test_relative_path_resolves_against_the_flow_folder(tmp_path: Path) -> None:
    run_component("jsonl.write", {"data": [{"k": 1}]}, {"path": "logs/dead.jsonl"},
                  base_dir=tmp_path)
    assert read_lines(tmp_path / "logs" / "dead.jsonl") == [{"k": 1}]


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"old": 1}\n{"old": 2}\n')
    write(tmp_path, [{"new": 1}])
    assert read_lines(path) == [{"new": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


@pytest.mark.parametrize(("how", "status"), [("fail", "aborted"), ("stop", "stopped")])
def test_write_is_atomic_when_the_run_is_cut_short(tmp_path: Path, how: str,
                                                   status: str) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"previous": true}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    ended = threading.Event()
    holder: list[runtime.Run] = []

    def writer_started() -> bool:
        return {p.name: p.read_bytes() for p in tmp_path.iterdir()} != before

    @runtime.component("testing.cut_short", outputs={"data": "Any"}, threaded=True)
    def cut_short() -> Iterator[dict[str, int] | None]:
        """Emit a message, wait until the writer has begun its file, then fail or stop."""
        yield {"first": 1}
        deadline = time.monotonic() + 5
        while not writer_started() and time.monotonic() < deadline:
            time.sleep(0.005)
        if how == "fail":
            msg = "source broke"
            raise RuntimeError(msg)
        holder[0].stop()
        deadline = time.monotonic() + 10
        while not ended.wait(0.02) and time.monotonic() < deadline:
            yield None  # nothing to say: control goes back to the engine, which stops
        yield {"second": 2}

    registry = runtime.default_registry().with_components(cut_short)
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "cut",
        "nodes": [{"id": "src", "component": "testing.cut_short"},
                  {"id": "write", "component": "jsonl.write",
                   "params": {"path": "out.jsonl"}}],
        "edges": [{"source": "src.data", "target": "write.data"}]})
    run = runtime.Run(runtime.plan(flow, registry=registry, base_dir=tmp_path),
                      options=runtime.RunOptions(fail_fast=True, batch_size=1))
    holder.append(run)
    run.hooks.add("run_ended", lambda result: ended.set())
    result = run.run()
    assert result.status == status
    assert path.read_text() == '{"previous": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
