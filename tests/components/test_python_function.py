"""The ``python`` family: python.function, the function node running the user's own code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
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
        "defaults": {"config": {}, "inputs": ["data"], "latest_inputs": [],
                     "outputs": ["data"]},
        "dynamic_sides": ["inputs", "outputs"],
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


def test_a_base_exception_from_the_code_is_an_error_record_not_the_end_of_the_run() -> None:
    """KeyboardInterrupt or a BaseException subclass raised by the code ends nothing."""
    code = ("class Stop(BaseException):\n    pass\n\ndef process(data, params):\n"
            "    if data == 1:\n        raise Stop('enough')\n"
            "    if data == 2:\n        raise KeyboardInterrupt\n    return data\n")
    out = run_component("python.function", {"data": [1, 2, 3]}, {"code": code})

    assert out["data"] == [3]
    assert [r.message for r in out.errors] == [
        "line 6 (`raise Stop('enough')`): Stop: enough",
        "line 8 (`raise KeyboardInterrupt`): KeyboardInterrupt: "]
    assert out.result.status == "errors"


def test_a_base_exception_in_a_generator_setup_or_end_is_an_error_record() -> None:
    code = ("def setup():\n    global seen\n    seen = 0\n\n"
            "def process(data, params):\n    global seen\n    seen += 1\n"
            "    yield data\n    raise KeyboardInterrupt('after')\n\n"
            "def end():\n    raise GeneratorExit('end')\n")
    out = run_component("python.function", {"data": [1, 2]}, {"code": code})

    assert out["data"] == [1, 2]
    assert [r.message for r in out.errors] == [
        "line 9 (`raise KeyboardInterrupt('after')`): KeyboardInterrupt: after"] * 2 + [
        "line 12 (`raise GeneratorExit('end')`): GeneratorExit: end"]

    code = "def setup():\n    raise SystemExit\n\ndef process(data, params):\n    return data\n"
    out = run_component("python.function", {"data": [1]}, {"code": code})
    assert [r.message for r in out.errors] == ["line 2 (`raise SystemExit`): SystemExit: "]


def test_a_keyboard_interrupt_on_the_main_thread_may_be_ctrl_c_and_passes_through() -> None:
    """Runs put the code on a worker thread; called on the main thread, Ctrl+C still stops."""
    from components.python import Function, FunctionParams

    code = "def process(data, params):\n    raise KeyboardInterrupt\n"
    node = Function(FunctionParams(code=code))
    with pytest.raises(KeyboardInterrupt):
        list(node(data=1))


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


# -- ports declared in params -----------------------------------------------------------

JOIN = '''def process(left, right, params):
    joined = left.join(right, on=params["on"], how="left")
    joined["total"] = joined["price"] * joined["qty"]
    return joined
'''


def orders() -> list[pd.DataFrame]:
    return [pd.DataFrame({"item": ["a", "b"], "qty": [2, 5]}, index=[7, 3]),
            pd.DataFrame({"item": ["c", "a", "z"], "qty": [1, 4, 9]}, index=[20, 21, 22])]


def prices() -> pd.DataFrame:
    return pd.DataFrame({"price": [1.5, 2.25, 10.0]}, index=pd.Index(["a", "b", "c"],
                                                                     name="item"))


def pandas_join(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    joined = left.join(right, on="item", how="left")
    joined["total"] = joined["price"] * joined["qty"]
    return joined


def join_flow(latest: list[str]) -> dict[str, Any]:
    return {"edgewise": 1, "name": "join", "nodes": [
        {"id": "fn", "component": "python.function",
         "params": {"inputs": ["left", "right"], "latest_inputs": latest, "code": JOIN,
                    "config": {"on": "item"}}}], "edges": []}


def test_two_stream_inputs_are_paired_and_joined_as_the_same_pandas_code_joins() -> None:
    right = [prices(), prices().assign(price=[3.0, 4.0, 5.0])]
    result = runtime.run_flow(join_flow([]), inputs={"fn.left": orders(), "fn.right": right},
                              capture=["fn.data", "fn.error"])

    assert result.status == "ok"
    assert result.values("fn.error") == []
    got = result.values("fn.data")
    assert len(got) == 2
    for out, left, table in zip(got, orders(), right, strict=True):
        assert_frame_equal(out, pandas_join(left, table))
    assert list(got[1].index) == [20, 21, 22]  # the left row ids are kept


def test_a_latest_input_gives_its_last_message_to_every_call() -> None:
    result = runtime.run_flow(join_flow(["right"]),
                              inputs={"fn.left": orders(), "fn.right": [prices()]},
                              capture=["fn.data", "fn.error"])

    assert result.status == "ok"
    got = result.values("fn.data")
    assert len(got) == 2  # one per order message, the one price table reused
    for out, left in zip(got, orders(), strict=True):
        assert_frame_equal(out, pandas_join(left, prices()))
    spec = runtime.default_registry().get("python.function")
    assert spec is not None
    ports = spec.resolve(spec.params_model.model_validate(
        {"inputs": ["left", "right"], "latest_inputs": ["right"], "code": JOIN})).inputs
    assert (ports["left"].mode, ports["right"].mode) == ("stream", "latest")


SPLIT = '''def process(data, params):
    big = data["qty"] >= params["at_least"]
    return {"big": data[big], "small": data[~big] if (~big).any() else None}
'''


def test_two_outputs_split_the_rows_as_pandas_does_and_a_left_out_port_sends_nothing() -> None:
    out = run_component("python.function", {"data": orders()},
                        {"outputs": ["big", "small"], "code": SPLIT,
                         "config": {"at_least": 2}})

    assert out.errors == []
    first, second = orders()
    assert len(out["big"]) == 2
    assert_frame_equal(out["big"][0], first[first["qty"] >= 2])
    assert_frame_equal(out["big"][1], second[second["qty"] >= 2])
    [small] = out["small"]  # the first message has no small rows: None sent nothing
    assert_frame_equal(small, second[second["qty"] < 2])
    assert sorted([*out["big"][1].index, *small.index]) == [20, 21, 22]


def test_a_value_for_a_port_the_node_lacks_is_an_error_record_naming_its_ports() -> None:
    code = ("def process(data, params):\n"
            "    return {'big': data, 'huge': data} if data > 1 else {'small': data}\n")
    out = run_component("python.function", {"data": [1, 2, 3]},
                        {"outputs": ["big", "small"], "code": code})

    assert out["small"] == [1]
    assert out["big"] == []  # a message with a bad port sends nothing at all
    assert [r.message for r in out.errors] == [
        "'process' returned a value for 'huge', which is not an output of this node; "
        "its outputs are: big, small"] * 2


def test_several_outputs_need_a_dict_and_end_and_yield_follow_the_same_rule() -> None:
    code = '''total = 0

def process(data, params):
    global total
    total += data
    yield {"evens" if data % 2 == 0 else "odds": data}
    if data == 3:
        yield data

def end():
    return {"sums": total}
'''
    out = run_component("python.function", {"data": [1, 2, 3, 4]},
                        {"outputs": ["odds", "evens", "sums"], "code": code})

    assert out["odds"] == [1, 3]
    assert out["evens"] == [2, 4]
    assert out["sums"] == [10]
    [record] = out.errors
    assert record.message == ("'process' yielded an int, but this node has several "
                              "outputs (odds, evens, sums): return a dict of output port "
                              "to value")


def test_a_node_without_outputs_runs_for_its_effects_and_refuses_to_send() -> None:
    code = ("seen = []\n\ndef process(data, params):\n    seen.append(data)\n"
            "    return data if data > 2 else None\n\ndef end():\n    assert seen == [1, 2, 3]\n")
    out = run_component("python.function", {"data": [1, 2, 3]},
                        {"outputs": [], "code": code})

    assert set(out.outputs) == set()
    [record] = out.errors
    assert record.message.startswith("'process' returned an int, but this node has no outputs")


def test_process_must_take_exactly_the_declared_inputs_and_params() -> None:
    params = {"inputs": ["left", "right"]}
    typo = "x = 1\n\ndef process(left, rigth, params):\n    return left\n"
    [wrong] = param_problems("python.function", {**params, "code": typo})
    [default] = param_problems("python.function", params)  # process(data, params)
    [no_params] = param_problems("python.function",
                                 {**params, "code": "def process(right, left):\n    pass\n"})
    [single] = param_problems("python.function", {"inputs": ["rows"], "code": typo})

    assert wrong.param == "code"
    assert wrong.message.endswith(
        "line 3: 'process' must take (left, right, params), one argument named after each "
        "input port plus params, in any order: it takes 'rigth', which is not among the "
        "input ports (left, right); it does not take 'right'")
    assert "it takes 'data', which is not among the input ports" in default.message
    assert "it does not take 'params'" in no_params.message
    assert "line 3: 'process' must take (rows, params)" in single.message
    for fine in ("def process(right, left, params):\n    return left\n",
                 "def process(left, **rest):\n    return left\n",
                 "def process(*, params, left, right):\n    return left\n"):
        assert param_problems("python.function", {**params, "code": fine}) == [], fine
    assert param_problems("python.function", {"inputs": ["rows"],
                                              "code": "def process(r, p):\n    pass\n"}) == []


def test_bad_port_names_are_validation_problems_saying_what_to_do() -> None:
    cases = {
        "inputs": ([["data", "Data"], "input port name 'Data' must be snake_case"],
                   [["a", "a"], "input port name 'a' is listed twice"],
                   [["error"], "input port name 'error' is taken (it is the built-in"],
                   [["params", "x"], "input port name 'params' is taken (process already"],
                   [[], "at least 1 item"]),
        "outputs": ([["ok", "no good"], "output port name 'no good' must be snake_case"],
                    [["error"], "output port name 'error' is taken"],
                    [["b", "b"], "output port name 'b' is listed twice"]),
    }
    for param, rows in cases.items():
        for names, expected in rows:
            [problem] = param_problems("python.function", {param: names})
            assert problem.param == param
            assert expected in problem.message, (names, problem.message)
    [latest] = param_problems("python.function", {"latest_inputs": ["model"]})
    assert latest.param == "latest_inputs"
    assert ("latest input 'model' is not one of the inputs (data); add it to 'inputs'"
            in latest.message)


def test_the_editor_gets_the_declared_ports_for_the_params() -> None:
    got = runtime.resolve_ports("python.function", {
        "inputs": ["rows", "lookup"], "latest_inputs": ["lookup"],
        "outputs": ["kept", "dropped"],
        "code": "def process(rows, lookup, params):\n    return None\n"})

    assert got["problems"] == []
    assert got["dynamic_sides"] == ["inputs", "outputs"]
    assert [(p["name"], p["mode"]) for p in got["inputs"]] == [("rows", "stream"),
                                                               ("lookup", "latest")]
    assert [p["name"] for p in got["outputs"]] == ["kept", "dropped", "error"]
    default = runtime.resolve_ports("python.function", {})
    assert [p["name"] for p in default["inputs"]] == ["data"]
    assert [p["name"] for p in default["outputs"]] == ["data", "error"]
    mismatch = runtime.resolve_ports("python.function", {"inputs": ["a", "b"]})
    assert mismatch["inputs"] is None
    assert mismatch["problems"][0]["param"] == "code"


def test_an_edge_to_a_port_the_params_do_not_declare_is_a_validation_problem() -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "ports",
        "nodes": [{"id": "numbers", "component": "stream.range", "params": {"count": 3}},
                  {"id": "fn", "component": "python.function",
                   "params": {"outputs": ["evens", "odds"],
                              "code": "def process(data, params):\n    return None\n"}},
                  {"id": "count", "component": "stream.count"}],
        "edges": [{"source": "numbers.data", "target": "fn.data"},
                  {"source": "fn.even", "target": "count.data"}]})

    [problem] = runtime.validate(flow)
    assert "node 'fn' (python.function) has no output 'even' with its params" in problem.message
    assert "its outputs are: evens, odds, error" in problem.message


README_EXAMPLE = '''def process(orders, prices, params):
    rows = orders.join(prices, on="item")
    known = rows["price"].notna()
    return {"known": rows[known], "unknown": rows[~known]}
'''


def test_the_readme_example_routes_joined_rows_as_the_same_pandas_code_does() -> None:
    assert README_EXAMPLE in (REPO / "README.md").read_text(encoding="utf-8")
    flow = {"edgewise": 1, "name": "readme", "nodes": [
        {"id": "fn", "component": "python.function",
         "params": {"inputs": ["orders", "prices"], "latest_inputs": ["prices"],
                    "outputs": ["known", "unknown"], "code": README_EXAMPLE}}], "edges": []}
    result = runtime.run_flow(flow, inputs={"fn.orders": orders(), "fn.prices": prices()},
                              capture=["fn.known", "fn.unknown", "fn.error"])

    assert result.status == "ok"
    rows = [left.join(prices(), on="item") for left in orders()]
    assert len(result.values("fn.known")) == 2
    for got, joined in zip(result.values("fn.known"), rows, strict=True):
        assert_frame_equal(got, joined[joined["price"].notna()])
    empty, unknown = result.values("fn.unknown")  # an empty DataFrame is still a message
    assert_frame_equal(empty, rows[0][rows[0]["price"].isna()])
    assert empty.empty
    assert_frame_equal(unknown, rows[1][rows[1]["price"].isna()])
    assert list(unknown.index) == [22]


def test_an_error_with_several_inputs_names_the_line_and_lists_every_input_id() -> None:
    code = ("def process(a, b, params):\n    share = a / b\n    return share\n")
    out = run_component("python.function", {"a": [1, 2, 3], "b": [2, 0, 4]},
                        {"inputs": ["a", "b"], "code": code})

    assert out["data"] == [0.5, 0.75]
    [record] = out.errors
    assert record.message == "line 2 (`share = a / b`): ZeroDivisionError: division by zero"
    assert record.inputs and len(record.inputs) == 2  # the pair of messages it came from
