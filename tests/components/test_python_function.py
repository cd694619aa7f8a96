"""The ``python`` family: python.function, the function node running the user's own code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from contract import contract_tests, param_problems
from pandas.testing import assert_frame_equal

import runtime
from runtime.testing import MemorySink, memory_source, run_component

REPO = Path(__file__).resolve().parents[2]
FAMILY_MODULE = "components.python"
CONTRACT: dict[str, dict[str, Any]] = {
    "python.function": {
        "inputs": {"data": ("Any", "stream")},
        "outputs": {"data": "Any"},
        "required": set(),
        "defaults": {"config": {}},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)

BMI = '''def process(data, params):
    data["bmi2"] = data["bmi"] * params["factor"]
    return data[data["bmi2"] > params["floor"]]
'''


def frame() -> pd.DataFrame:
    return pd.DataFrame({"bmi": [0.01, -0.02, 0.05, 0.03], "age": [1, 2, 3, 4]},
                        index=[10, 11, 12, 13])


def test_process_computes_what_the_same_pandas_code_computes_and_keeps_row_ids() -> None:
    data = frame()
    out = run_component("python.function", {"data": [data]},
                        {"code": BMI, "config": {"factor": 2.0, "floor": 0.0}})

    expected = frame()
    expected["bmi2"] = expected["bmi"] * 2.0
    expected = expected[expected["bmi2"] > 0.0]
    assert len(out["data"]) == 1
    assert_frame_equal(out["data"][0], expected)
    assert list(out["data"][0].index) == [10, 12, 13]
    assert out.errors == []


def test_changing_data_in_place_changes_nothing_upstream() -> None:
    """A fan-out branch beside the function node sees the message as it was sent."""
    source = memory_source("testing.frames", [frame()], "DataFrame")
    beside = MemorySink()
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "fan-out",
        "nodes": [{"id": "src", "component": "testing.frames"},
                  {"id": "fn", "component": "python.function",
                   "params": {"code": BMI, "config": {"factor": 2.0, "floor": 0.0}}},
                  {"id": "beside", "component": "testing.sink"}],
        "edges": [{"source": "src.data", "target": "fn.data"},
                  {"source": "src.data", "target": "beside.data"}]})
    registry = runtime.default_registry().with_components(source, beside.spec)
    run = runtime.Run(runtime.plan(flow, registry=registry))
    beside.watch(run, ["src.data->beside.data"])

    assert run.run().status == "ok"
    assert_frame_equal(beside.values[0], frame())


def test_none_sends_nothing_and_setup_and_end_run_once() -> None:
    code = '''seen = []

def setup():
    seen.append("setup")

def process(data, params):
    seen.append(data)
    if data % 2:
        return None
    return data * 10

def end():
    return {"seen": seen}
'''
    out = run_component("python.function", {"data": [1, 2, 3, 4]}, {"code": code})

    assert out["data"] == [20, 40, {"seen": ["setup", 1, 2, 3, 4]}]
    assert out.errors == []


def test_an_error_names_the_line_of_the_code_and_the_flow_goes_on() -> None:
    code = "def process(data, params):\n    ratio = 10 / data\n    return ratio\n"
    out = run_component("python.function", {"data": [5, 0, 2]}, {"code": code})

    assert out["data"] == [2.0, 5.0]
    [record] = out.errors
    assert record.node == "node"
    assert record.inputs and len(record.inputs) == 1
    assert record.message == ("line 2 (`ratio = 10 / data`): ZeroDivisionError: "
                              "division by zero")
    assert out.result.status == "errors"


def test_an_error_in_a_helper_names_the_line_inside_the_helper() -> None:
    code = ("def helper(x):\n    return x['missing']\n\n"
            "def process(data, params):\n    return helper(data)\n")
    out = run_component("python.function", {"data": [{"a": 1}]}, {"code": code})

    [record] = out.errors
    assert record.message.startswith("line 2 (`return x['missing']`): KeyError:")


def test_an_error_in_setup_is_an_error_record_on_each_firing() -> None:
    code = ("import json\n\ndef setup():\n    json.loads('{bad')\n\n"
            "def process(data, params):\n    return data\n")
    out = run_component("python.function", {"data": [1, 2]}, {"code": code})

    assert out["data"] == []
    assert len(out.errors) == 2
    assert "line 4 (`json.loads('{bad')`): JSONDecodeError" in out.errors[0].message


def test_yielding_sends_one_message_each_and_exit_is_an_error_record() -> None:
    code = ("import sys\n\ndef process(data, params):\n    for i in range(data):\n"
            "        yield i\n    if data == 2:\n        sys.exit(3)\n")
    out = run_component("python.function", {"data": [1, 2, 1]}, {"code": code})

    assert out["data"] == [0, 0, 1, 0]
    [record] = out.errors
    assert record.message == "line 7 (`sys.exit(3)`): SystemExit: 3"
    assert out.result.status == "errors"


def test_a_syntax_error_is_a_validation_problem_with_line_and_column() -> None:
    code = "def process(data, params):\n    return (data +\n"

    [problem] = param_problems("python.function", {"code": code})

    assert problem.param == "code"
    assert "syntax error at line 2, column 12" in problem.message
    assert "return (data +" in problem.message


def test_code_without_process_or_with_the_wrong_arguments_is_a_validation_problem() -> None:
    [missing] = param_problems("python.function", {"code": "x = 1\n"})
    [wrong] = param_problems("python.function",
                             {"code": "x = 1\ndef process(data):\n    return data\n"})

    assert "must define a function 'process(data, params)'" in missing.message
    assert "line 2: 'process' must take (data, params)" in wrong.message


def test_the_default_code_passes_data_on() -> None:
    assert param_problems("python.function", {}) == []
    assert run_component("python.function", {"data": [1, "a"]})["data"] == [1, "a"]


def test_the_code_param_is_marked_for_a_code_editor() -> None:
    spec = runtime.default_registry().get("python.function")
    assert spec is not None
    assert spec.params_model.model_json_schema()["properties"]["code"]["format"] == "python-code"
    assert spec.runs_code


def _edgewise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_flow_file_with_a_function_node_runs_only_once_trusted(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    code = (f"def process(data, params):\n    open({str(marker)!r}, 'a').write('x')\n"
            "    return data\n")
    flow = tmp_path / "code.json"
    flow.write_text(json.dumps({
        "edgewise": 1, "name": "code",
        "nodes": [{"id": "numbers", "component": "stream.range", "params": {"count": 3}},
                  {"id": "fn", "component": "python.function", "params": {"code": code}},
                  {"id": "count", "component": "stream.count"}],
        "edges": [{"source": "numbers.data", "target": "fn.data"},
                  {"source": "fn.data", "target": "count.data"}]}), encoding="utf-8")

    refused = _edgewise("run", str(flow))
    assert refused.returncode == 2
    assert "'fn' (python.function)" in refused.stderr
    assert not marker.exists()

    assert _edgewise("trust", str(flow)).returncode == 0
    ran = _edgewise("run", str(flow), "--json")

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1])["nodes"]["fn"]["fired"] == 3
    assert marker.read_text() == "xxx"
