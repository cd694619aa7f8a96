"""The ``frame.route`` switch: first matching route, ``otherwise``, and no row lost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems

import runtime
from runtime.testing import MemorySink, memory_source, run_component

FAMILY_MODULE = "components.route"
CONTRACT: dict[str, dict[str, Any]] = {
    "frame.route": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"otherwise": "DataFrame"},
        "required": set(),
        "defaults": {"routes": {}, "emit_empty": False},
        "dynamic_sides": ["outputs"],
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


def scores() -> pd.DataFrame:
    """Scored rows with gaps: NaN confidence, a missing label, an odd row id order."""
    return pd.DataFrame({
        "confidence": [0.95, 0.5, np.nan, 0.7, 0.99, 0.61, np.nan, 0.2, 0.9, 0.6],
        "label": ["a", "b", "a", None, "b", "a", "b", "a", None, "b"],
    }, index=[40, 3, 17, 8, 99, 1, 55, 2, 70, 12])


def pandas_routes(data: pd.DataFrame, routes: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The same split in plain pandas: query each route, drop rows an earlier one took."""
    taken = pd.Index([])
    out = {}
    for name, expr in routes.items():
        hits = data.query(expr)
        hits = hits[~hits.index.isin(taken)]
        out[name] = hits
        taken = taken.append(hits.index)
    out["otherwise"] = data[~data.index.isin(taken)]
    return out


ROUTES = {"sure": "confidence >= 0.9", "unsure": "confidence >= 0.6",
          "b_labels": "label == 'b'"}


def test_each_row_goes_to_the_first_route_it_matches_as_pandas_computes() -> None:
    data = scores()
    out = run_component("frame.route", {"data": [data]}, {"routes": ROUTES})
    assert out.errors == []
    want = pandas_routes(data, ROUTES)
    for name in [*ROUTES, "otherwise"]:
        [got] = out[name]
        pd.testing.assert_frame_equal(got, want[name])
    assert list(out["sure"][0].index) == [40, 99, 70]
    assert list(out["unsure"][0].index) == [8, 1, 12]
    assert list(out["b_labels"][0].index) == [3, 55]
    assert list(out["otherwise"][0].index) == [17, 2]


def test_rows_out_always_equal_rows_in_including_nan_comparisons() -> None:
    data = scores()
    complementary = {"high": "confidence > 0.6", "low": "confidence <= 0.6"}
    out = run_component("frame.route", {"data": [data]}, {"routes": complementary})
    parts = [frame for name in ("high", "low", "otherwise") for frame in out[name]]
    assert sum(len(p) for p in parts) == len(data)
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), data.sort_index())
    # the two NaN rows, lost by two complementary frame.query nodes, go to otherwise
    [otherwise] = out["otherwise"]
    assert list(otherwise.index) == [17, 55]
    assert len(data.query("confidence > 0.6")) + len(data.query("confidence <= 0.6")) == 8


def test_missing_values_of_nullable_types_go_to_otherwise() -> None:
    data = pd.DataFrame({"n": pd.array([1, None, 5, 3], dtype="Int64"),
                         "s": pd.array(["x", "y", None, "x"], dtype="string")},
                        index=["r1", "r2", "r3", "r4"])
    routes = {"big": "n > 2", "x": "s == 'x'"}
    out = run_component("frame.route", {"data": [data]}, {"routes": routes})
    assert out.errors == []
    [big], [x], [otherwise] = out["big"], out["x"], out["otherwise"]
    assert list(big.index) == ["r3", "r4"]
    assert list(x.index) == ["r1"]
    assert list(otherwise.index) == ["r2"]
    pd.testing.assert_frame_equal(pd.concat([big, x, otherwise]).loc[data.index], data)


def gappy() -> pd.DataFrame:
    """Missing values of every kind: NaN, None in strings, NA in nullable types."""
    data = pd.DataFrame({"x": [1.0, np.nan, 3.0, None, 5.0],
                         "s": ["a", None, "b", "a", None]}, index=list("pqrst"))
    data["n"] = pd.array([1, None, 3, 4, None], dtype="Int64")
    data["b"] = pd.array([True, None, False, True, None], dtype="boolean")
    return data


def routed(data: pd.DataFrame, expr: str) -> list[Any]:
    """The row ids of ``data`` that a single route with ``expr`` takes."""
    out = run_component("frame.route", {"data": [data]}, {"routes": {"t": expr}})
    assert out.errors == [], [e.message for e in out.errors]
    return [i for frame in out["t"] for i in frame.index]


@pytest.mark.parametrize(("expr", "ids"), [
    ("x > 2", ["r", "t"]),
    ("not (x > 2)", ["p"]),
    ("~(x > 2)", ["p"]),
    ("~~(x > 2)", ["r", "t"]),
    ("s != 'a'", ["r"]),
    ("not s == 'a'", ["r"]),
    ("s not in ['a']", ["r"]),
    ("~s.isin(['a'])", ["r"]),
    ("~s.str.startswith('a')", ["r"]),
    ("~(n > 2)", ["p"]),
    ("~b", ["r"]),
    ("x != n", []),
    ("~(x > 2) | (s == 'a')", ["p", "s"]),
    ("(x > 2) or (s == 'b')", ["r", "t"]),
    ("not ((x > 2) and (s == 'b'))", ["p", "s"]),
    ("~(x + n > 3)", ["p"]),
    ("~x.between(2, 4)", ["p", "t"]),
    ("x == None", []),
    ("x != None", []),
    # what says outright what a missing value means is taken at its word
    ("x.isna() | (x > 2)", ["q", "r", "s", "t"]),
    ("~x.notna()", ["q", "s"]),
    ("~(x.isna() | (x < 2))", ["r", "t"]),
    ("~s.str.startswith('a', na=False)", ["q", "r", "t"]),
])
def test_a_comparison_with_a_missing_value_is_unknown_even_when_negated(
        expr: str, ids: list[str]) -> None:
    """Unknown is no match: the row falls through to otherwise, as the docs say."""
    assert routed(gappy(), expr) == ids


def test_missing_dates_and_categories_are_unknown_too() -> None:
    data = pd.DataFrame({
        "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
        "kind": pd.Categorical(["u", None, "v"])}, index=[5, 6, 7])
    assert routed(data, "~(when > '2024-02-01')") == [5]
    assert routed(data, "when.dt.month != 3") == [5]
    assert routed(data, "kind != 'u'") == [7]
    assert routed(data, "not kind == 'u'") == [7]
    by_id = pd.DataFrame({"v": [1, 2, 3]}, index=pd.Index([1.0, np.nan, 3.0], name="rid"))
    assert routed(by_id, "~(rid > 2)") == [1.0]
    assert routed(by_id.reset_index(drop=True).set_axis([1.0, np.nan, 3.0]),
                  "~(index > 2)") == [1.0]


def test_a_row_matching_no_route_goes_to_otherwise_even_under_negation() -> None:
    data = gappy()
    routes = {"big": "x > 2", "not_big": "not (x > 2)", "a": "s == 'a'", "not_a": "s != 'a'"}
    out = run_component("frame.route", {"data": [data]}, {"routes": routes})
    got = {name: [i for f in out[name] for i in f.index] for name in [*routes, "otherwise"]}
    assert got == {"big": ["r", "t"], "not_big": ["p"], "a": ["s"], "not_a": [],
                   "otherwise": ["q"]}


def plain() -> pd.DataFrame:
    """No missing values: here every query answers exactly as pandas' query does."""
    rng = np.random.default_rng(3)
    rows = 60
    return pd.DataFrame({
        "x": rng.normal(size=rows).round(2), "n": rng.integers(0, 9, rows),
        "s": rng.choice(["ab", "ba", "cc"], rows), "flag": rng.integers(0, 2, rows) == 1,
        "my col": rng.integers(0, 5, rows),
        "when": pd.date_range("2024-01-01", periods=rows, freq="D"),
        "kind": pd.Categorical(rng.choice(["u", "v"], rows)),
    }, index=pd.Index(rng.permutation(rows) + 1000, name="rid"))


@pytest.mark.parametrize("expr", [
    "x > 0", "not (x > 0)", "~(x > 0) & (n < 4)", "x > 0 or n == 3", "s != 'ab'",
    "s == 'ab' | s == 'cc'", "s not in ['ab', 'cc']", "~s.isin(['ba'])", "flag", "~flag",
    "not flag and x < 0", "`my col` >= 2", "~(`my col` * 2 > n)", "1 < n < 5",
    "n % 3 == 0", "x.abs().round(1) > 0.5", "x.between(-0.5, 0.5)", "~n.between(2, 6)",
    "s.str.startswith('a') | s.str.endswith('c')", "s.str.len() == 2", "rid > 1030",
    "index % 2 == 0", "when > '2024-01-20'", "~(when.dt.day < 10)", "kind == 'u'",
    "kind != 'u'", "x != x", "x == x", "-x > 0.5", "x ** 2 > 1",
])
def test_without_missing_values_a_route_takes_what_pandas_query_selects(expr: str) -> None:
    data = plain()
    out = run_component("frame.route", {"data": [data]}, {"routes": {"t": expr}})
    assert out.errors == [], [e.message for e in out.errors]
    taken = pd.concat(out["t"]) if out["t"] else data.iloc[:0]
    pd.testing.assert_frame_equal(taken, data.query(expr))


def test_duplicate_row_ids_are_routed_by_position_and_kept() -> None:
    data = pd.DataFrame({"v": [1, 5, 2, 6]}, index=[7, 7, 8, 8])
    out = run_component("frame.route", {"data": [data]}, {"routes": {"big": "v > 4"}})
    [big], [rest] = out["big"], out["otherwise"]
    assert big["v"].tolist() == [5, 6] and list(big.index) == [7, 8]
    assert rest["v"].tolist() == [1, 2] and list(rest.index) == [7, 8]


def test_outputs_with_no_rows_emit_nothing_by_default() -> None:
    frames = [pd.DataFrame({"v": [1, 2]}), pd.DataFrame({"v": [10]}), pd.DataFrame({"v": []})]
    out = run_component("frame.route", {"data": frames}, {"routes": {"big": "v > 5"}})
    assert [f["v"].tolist() for f in out["big"]] == [[10]]
    assert [f["v"].tolist() for f in out["otherwise"]] == [[1, 2]]


def test_emit_empty_sends_one_frame_per_message_on_every_output() -> None:
    frames = [pd.DataFrame({"v": [1, 2]}), pd.DataFrame({"v": [10]})]
    out = run_component("frame.route", {"data": frames},
                        {"routes": {"big": "v > 5"}, "emit_empty": True})
    assert [len(f) for f in out["big"]] == [0, 1]
    assert [len(f) for f in out["otherwise"]] == [2, 0]
    empty = out["big"][0]
    assert list(empty.columns) == ["v"] and empty["v"].dtype == frames[0]["v"].dtype


def test_no_routes_sends_every_row_to_otherwise() -> None:
    data = scores()
    [whole] = run_component("frame.route", {"data": [data]})["otherwise"]
    pd.testing.assert_frame_equal(whole, data)


def test_each_output_message_has_the_input_message_as_parent() -> None:
    data = scores()
    out = run_component("frame.route", {"data": [data, data]}, {"routes": ROUTES})
    sure, rest = out.envelopes["sure"], out.envelopes["otherwise"]
    assert [len(e.parents) for e in sure] == [1, 1]
    assert [e.parents for e in sure] == [e.parents for e in rest]
    assert sure[0].parents != sure[1].parents


# -- mistakes -----------------------------------------------------------------------------

@pytest.mark.parametrize(("routes", "words"), [
    ({"otherwise": "a > 1"}, "taken by the built-in 'otherwise' output"),
    ({"error": "a > 1"}, "taken by the built-in 'error' output"),
    ({"High": "a > 1"}, "must be snake_case"),
    ({"1st": "a > 1"}, "must be snake_case"),
    ({"two words": "a > 1"}, "must be snake_case"),
    ({"a.b": "a > 1"}, "must be snake_case"),
    ({"ok": "  "}, "route 'ok' has an empty query"),
    ({"ok": "a >"}, "route 'ok': not a valid query"),
    ({"ok": "a.__class__ == 1"}, "route 'ok': not a valid query"),
])
def test_bad_routes_are_reported_by_validate(routes: dict[str, str], words: str) -> None:
    problems = param_problems("frame.route", {"routes": routes})
    assert [(p.node, p.param) for p in problems] == [("n", "routes")]
    assert words in problems[0].message


def test_every_bad_route_is_reported_not_only_the_first() -> None:
    problems = param_problems("frame.route", {"routes": {"big": "target >", "Small": "x",
                                                         "fine": "x > 1", "error": "x"}})
    assert [p.param for p in problems] == ["routes"] * 3
    assert "route 'big': not a valid query" in problems[0].message
    assert "route name 'Small' must be snake_case" in problems[1].message
    assert "route name 'error' is taken" in problems[2].message


def test_an_edge_from_a_route_that_is_not_there_names_the_routes() -> None:
    sink = MemorySink()
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "t",
        "nodes": [{"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
                  {"id": "r", "component": "frame.route",
                   "params": {"routes": {"wide": "`sepal width (cm)` > 3"}}},
                  {"id": "sink", "component": sink.spec.id}],
        "edges": [{"source": "load.data", "target": "r.data"},
                  {"source": "r.narrow", "target": "sink.data"}]})
    registry = runtime.default_registry().with_components(sink.spec)
    [problem] = runtime.validate(flow, registry=registry)
    assert problem.edge == "r.narrow->sink.data"
    assert problem.message == ("edge 'r.narrow->sink.data': node 'r' (frame.route) has no "
                               "output 'narrow' with its params; its outputs are: wide, "
                               "otherwise, error")


def test_an_unknown_column_is_an_error_record_naming_the_route() -> None:
    out = run_component("frame.route", {"data": [scores()]},
                        {"routes": {"ok": "confidence > 0.5", "bad": "colour == 'red'"}})
    [record] = out.errors
    assert "route 'bad'" in record.message and "colour" in record.message
    assert "columns: confidence, label" in record.message
    assert out["ok"] == [] and out["otherwise"] == []


def test_a_query_that_is_not_true_or_false_is_an_error_record() -> None:
    out = run_component("frame.route", {"data": [scores()]},
                        {"routes": {"sum": "confidence + 1"}})
    [record] = out.errors
    assert "route 'sum'" in record.message
    assert "must be true or false for each row" in record.message


# -- ports follow the routes --------------------------------------------------------------

def test_components_and_resolve_ports_list_the_routes() -> None:
    info = {c["id"]: c for c in runtime.components()}["frame.route"]
    assert info["dynamic_ports"] is True and info["dynamic_sides"] == ["outputs"]
    assert [p["name"] for p in info["outputs"]] == ["otherwise", "error"]
    got = runtime.resolve_ports("frame.route", {"routes": {"b": "x > 1", "a": "x < 0"}})
    assert [p["name"] for p in got["outputs"]] == ["b", "a", "otherwise", "error"]
    assert {p["type"] for p in got["outputs"][:3]} == {"DataFrame"}
    bad = runtime.resolve_ports("frame.route", {"routes": {"Bad": "x > 1"}}, node="r")
    assert bad["outputs"] is None
    assert bad["problems"][0]["param"] == "routes"


def test_a_flow_routes_a_stream_and_counts_rows_per_route() -> None:
    data = pd.DataFrame({"v": np.arange(1000) % 13, "w": np.where(np.arange(1000) % 7, 1.0,
                                                                   np.nan)})
    source = memory_source("testing.frames", [data], "DataFrame")
    sinks = {name: MemorySink(f"testing.sink.{name}") for name in ("low", "mid", "otherwise")}
    nodes = [{"id": "src", "component": source.id},
             {"id": "chunks", "component": "stream.chunks", "params": {"rows": 64}},
             {"id": "r", "component": "frame.route",
              "params": {"routes": {"low": "v < 4 and w > 0", "mid": "v < 9"}}}]
    edges = [{"source": "src.data", "target": "chunks.data"},
             {"source": "chunks.data", "target": "r.data"}]
    for name, sink in sinks.items():
        nodes += [{"id": f"count_{name}", "component": "stream.count",
                   "params": {"unit": "rows"}},
                  {"id": f"sink_{name}", "component": sink.spec.id}]
        edges += [{"source": f"r.{name}", "target": f"count_{name}.data"},
                  {"source": f"count_{name}.count", "target": f"sink_{name}.data"}]
    flow = runtime.Flow.model_validate({"edgewise": 1, "name": "route", "nodes": nodes,
                                        "edges": edges})
    registry = runtime.default_registry().with_components(
        source, *[s.spec for s in sinks.values()])
    run = runtime.Run(runtime.plan(flow, registry=registry))
    for name, sink in sinks.items():
        sink.watch(run, [f"count_{name}.count->sink_{name}.data"])
    assert run.run().status == "ok"
    want = pandas_routes(data, {"low": "v < 4 and w > 0", "mid": "v < 9"})
    counts = {name: sink.values for name, sink in sinks.items()}
    assert counts == {name: [len(frame)] for name, frame in want.items()}
    assert sum(c[0] for c in counts.values()) == 1000


def test_a_misspelt_route_gets_a_suggestion() -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "t",
        "nodes": [{"id": "r", "component": "frame.route",
                   "params": {"routes": {"wide": "sepal_width > 3"}}},
                  {"id": "c", "component": "stream.count"}],
        "edges": [{"source": "r.wied", "target": "c.data"}]})
    problems = [p for p in runtime.validate(flow) if p.code == "unknown-port"]
    assert problems[0].message.endswith("; did you mean 'wide'?")


def test_a_message_that_is_not_a_dataframe_is_an_error_record() -> None:
    out = run_component("frame.route", {"data": [[1, 2]]}, {"routes": {"a": "x > 1"}})
    [record] = out.errors
    assert record.error == "TypeError" and "got a list" in record.message
