"""The ``debug`` family: the debug sink, which the host shows (editor panel or terminal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contract import contract_tests, described

import runtime
from runtime.cli import main
from runtime.testing import run_component

FAMILY_MODULE = "components.debug"
CONTRACT: dict[str, dict[str, Any]] = {
    "debug": {
        "inputs": {"data": ("Any", "stream")},
        "outputs": {},
        "required": set(),
        "defaults": {},
    },
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


def test_debug_is_tagged_display_and_has_no_outputs() -> None:
    info = described("debug")
    assert runtime.DISPLAY_TAG == "display"
    assert info["tags"] == ["display"]
    assert [p["name"] for p in info["outputs"]] == ["error"]
    assert info["doc"]


def test_debug_consumes_every_message_and_emits_nothing() -> None:
    out = run_component("debug", {"data": [1, "two", {"three": 3}]})
    assert out.outputs == {}
    assert out.errors == []
    assert out.result.status == "ok"
    assert out.result.nodes["node"].fired == 3


def range_to_debug_flow(tmp_path: Path) -> Path:
    flow = {
        "edgewise": 1, "name": "show",
        "nodes": [{"id": "numbers", "component": "stream.range",
                   "params": {"count": 3, "start": 41}},
                  {"id": "shown", "component": "debug"}],
        "edges": [{"source": "numbers.data", "target": "shown.data"}]}
    path = tmp_path / "show.json"
    path.write_text(json.dumps(flow))
    return path


def test_host_sees_what_debug_receives(tmp_path: Path) -> None:
    run = runtime.Run(runtime.plan(range_to_debug_flow(tmp_path)))
    seen: list[tuple[str, Any]] = []
    run.on_display(lambda node, batch: seen.extend((node, v) for v in batch.values))
    result = run.run()
    assert result.status == "ok"
    assert seen == [("shown", 41), ("shown", 42), ("shown", 43)]


def test_headless_run_prints_what_debug_receives(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(range_to_debug_flow(tmp_path))])
    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "shown:" in line]
    assert [line.split("shown:", 1)[1].strip() for line in lines] == ["41", "42", "43"]
    assert all(line.startswith("debug") for line in lines)
