"""More of the ``frame`` family: each component against the plain pandas call it stands for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems

import runtime
from components._frame_helpers import AGGREGATIONS
from components._frame_params import AssignParams
from components.frame_ops import assign
from runtime._record import record_run
from runtime._record.lineage import Lineage
from runtime.testing import run_component

FAMILY_MODULE = "components.frame_ops"
_DATA = {"data": ("DataFrame", "stream")}
_OUT = {"data": "DataFrame"}
CONTRACT: dict[str, dict[str, Any]] = {
    "frame.assign": {"inputs": _DATA, "outputs": _OUT, "required": {"columns"},
                     "defaults": {}},
    "frame.join": {"inputs": {"left": ("DataFrame", "stream"),
                              "right": ("DataFrame", "latest")},
                   "outputs": _OUT, "required": set(),
                   "defaults": {"on": [], "how": "left", "suffixes": ("_x", "_y")}},
    "frame.groupby": {"inputs": _DATA, "outputs": _OUT, "required": {"by", "aggregations"},
                      "defaults": {"as_index": True, "dropna": True}},
    "frame.sort": {"inputs": _DATA, "outputs": _OUT, "required": {"by"},
                   "defaults": {"ascending": True, "na_position": "last"}},
    "frame.dropna": {"inputs": _DATA, "outputs": _OUT, "required": set(),
                     "defaults": {"subset": None, "how": "any"}},
    "frame.fillna": {"inputs": _DATA, "outputs": _OUT, "required": {"value"},
                     "defaults": {}},
    "frame.dummies": {"inputs": _DATA, "outputs": _OUT, "required": set(),
                      "defaults": {"columns": None, "prefix": None, "prefix_sep": "_",
                                   "dummy_na": False, "drop_first": False, "dtype": "bool"}},
    "frame.rename": {"inputs": _DATA, "outputs": _OUT, "required": {"columns"},
                     "defaults": {}},
    "frame.sample": {"inputs": _DATA, "outputs": _OUT, "required": set(),
                     "defaults": {"n": None, "frac": None, "replace": False,
                                  "random_state": 0}},
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture
def patients() -> pd.DataFrame:
    """Rows with ids 100..107, numbers, text, ties and missing values."""
    return pd.DataFrame({
        "ward": ["a", "b", "a", "c", "b", "a", None, "c"],
        "bmi": [22.5, 31.0, np.nan, 27.25, 19.0, 31.0, 24.0, np.nan],
        "bp": [80, 95, 70, 88, 60, 95, 77, 91],
        "sex": ["f", "m", "m", "f", "f", "m", "f", "m"],
    }, index=pd.Index(range(100, 108), name="row"))


def one(component_id: str, params: dict[str, Any], *frames: pd.DataFrame,
        port: str = "data") -> pd.DataFrame:
    """Run a one-input component on frames; return its single output, with no errors."""
    out = run_component(component_id, {port: list(frames)}, params)
    assert out.errors == []
    [result] = out["data"]
    assert isinstance(result, pd.DataFrame)
    return result


def only_problem(component_id: str, params: dict[str, Any]) -> runtime.Problem:
    problems = param_problems(component_id, params)
    assert len(problems) == 1, problems
    return problems[0]


def test_importing_the_family_imports_neither_pandas_nor_numpy() -> None:
    code = ("import json, sys\nimport components.frame_ops\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert not set(json.loads(proc.stdout)) & {"pandas", "numpy", "sklearn"}


# -- frame.assign -----------------------------------------------------------------------

def test_assign_evaluates_in_order_as_pandas_does(patients: pd.DataFrame) -> None:
    columns = {"bmi_bp": "bmi * bp", "twice": "bmi_bp * 2 + 1", "bp": "bp - 1",
               "heavy": "bmi > 25 and sex == 'm'"}
    got = one("frame.assign", {"columns": columns}, patients)
    want = patients.assign(**{name: (lambda d, e=expr: d.eval(e))
                              for name, expr in columns.items()})
    pd.testing.assert_frame_equal(got, want)
    assert list(got.columns) == ["ward", "bmi", "bp", "sex", "bmi_bp", "twice", "heavy"]
    assert list(got.index) == list(range(100, 108))


@pytest.mark.parametrize(("columns", "part"), [
    ({}, "at least 1 item"),
    ({"x": "bmi *"}, "column 'x': not a valid expression"),
    ({"x": "bmi.__class__"}, "attribute '__class__' at column 5 is not allowed"),
    ({"": "bmi"}, "a new column needs a name"),
])
def test_assign_bad_expressions_are_problems_at_validation(columns: dict[str, str],
                                                           part: str) -> None:
    problem = only_problem("frame.assign", {"columns": columns})
    assert problem.param == "columns"
    assert part in problem.message


def test_assign_unknown_column_is_an_error_record_naming_it(patients: pd.DataFrame) -> None:
    out = run_component("frame.assign", {"data": [patients]}, {"columns": {"x": "bpp * 2"}})
    [record] = out.errors
    assert "column 'x': expression 'bpp * 2' refused: no column 'bpp'" in record.message
    assert "did you mean 'bp'?" in record.message
    assert "columns: ward, bmi, bp, sex" in record.message
    assert out["data"] == []


def test_assign_refuses_code_at_run_time_too(patients: pd.DataFrame) -> None:
    unchecked = AssignParams.model_construct(columns={"x": "bp.__class__"})
    with pytest.raises(ValueError, match="attribute '__class__' at column 4 is not allowed"):
        assign(patients, params=unchecked)


# -- frame.join -------------------------------------------------------------------------

@pytest.fixture
def wards() -> pd.DataFrame:
    """A lookup table with its own row ids; ward 'd' has no patient, 'b' is listed twice."""
    return pd.DataFrame({"ward": ["a", "b", "c", "d", "b"],
                         "floor": [1, 2, 3, 4, 5],
                         "bp": [0, 0, 0, 0, 0]}, index=[0, 1, 2, 3, 4])


def joined(left: pd.DataFrame, right: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    out = run_component("frame.join", {"left": [left], "right": [right]}, params)
    assert out.errors == []
    [result] = out["data"]
    assert isinstance(result, pd.DataFrame)
    return result


def test_join_left_keeps_left_row_ids_and_repeats_them_for_duplicate_keys(
        patients: pd.DataFrame, wards: pd.DataFrame) -> None:
    got = joined(patients, wards, {"on": "ward"})
    want = patients.merge(wards, on="ward", how="left")
    # ward 'b' matches two lookup rows, so patients 101 and 104 come out twice each
    ids = [100, 101, 101, 102, 103, 104, 104, 105, 106, 107]
    pd.testing.assert_frame_equal(got, want.set_axis(pd.Index(ids, name="row")))
    assert list(got.columns) == ["ward", "bmi", "bp_x", "sex", "floor", "bp_y"]


def test_join_inner_with_a_list_key_and_own_suffixes(patients: pd.DataFrame,
                                                     wards: pd.DataFrame) -> None:
    lookup = wards.iloc[[0, 2]].assign(sex=["f", "m"])
    params = {"on": ["ward", "sex"], "how": "inner", "suffixes": ["", "_ward"]}
    got = joined(patients, lookup, params)
    want = patients.merge(lookup, on=["ward", "sex"], how="inner", suffixes=("", "_ward"))
    pd.testing.assert_frame_equal(got, want.set_axis(pd.Index([100, 107], name="row")))


@pytest.mark.parametrize("how", ["right", "outer"])
def test_join_right_and_outer_give_rows_only_in_right_a_right_id(
        how: str, patients: pd.DataFrame, wards: pd.DataFrame) -> None:
    got = joined(patients, wards, {"on": "ward", "how": how})
    want = patients.merge(wards, on="ward", how=how)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
    assert "right:3" in list(got.index)  # lookup row 3, ward 'd', has no patient
    left_rows = [i for i in got.index if i != "right:3"]
    assert all(isinstance(i, int) and 100 <= i <= 107 for i in left_rows)
    assert got.loc["right:3", "floor"] == 4
    assert got.index.name == "row"


def test_join_on_row_ids_when_on_is_empty(patients: pd.DataFrame) -> None:
    extra = pd.DataFrame({"age": [40, 50, 60]}, index=[101, 103, 999])
    got = joined(patients, extra, {"how": "inner"})
    pd.testing.assert_frame_equal(
        got, patients.merge(extra, left_index=True, right_index=True, how="inner"))
    assert list(got.index) == [101, 103]
    outer = joined(patients, extra, {"how": "outer", "on": ""})
    assert list(outer.index) == [*range(100, 108), "right:999"]


def test_join_matches_a_groupby_result_on_its_group_key(patients: pd.DataFrame) -> None:
    params = {"by": "ward", "aggregations": {"ward_bp": ["bp", "mean"]}}
    means = one("frame.groupby", params, patients)
    got = joined(patients, means, {"on": "ward"})
    want = patients.merge(patients.groupby("ward").agg(ward_bp=("bp", "mean")), on="ward",
                          how="left")
    pd.testing.assert_frame_equal(got, want.set_axis(patients.index))


def test_join_keeps_the_latest_right_for_every_left_message(
        patients: pd.DataFrame, wards: pd.DataFrame) -> None:
    chunks = [patients.iloc[:3], patients.iloc[3:]]
    out = run_component("frame.join", {"left": chunks, "right": [wards.drop_duplicates("ward")]},
                        {"on": "ward", "how": "inner"})
    assert [list(f.index) for f in out["data"]] == [[100, 101, 102], [103, 104, 105, 107]]


@pytest.mark.parametrize(("on", "where", "named"), [
    ("wardd", "left", "'wardd'"), ("sex", "right", "'sex'"), (["ward", "x"], "left", "'x'")])
def test_join_on_an_unknown_column_is_an_error_record_naming_it_and_the_columns(
        on: Any, where: str, named: str, patients: pd.DataFrame, wards: pd.DataFrame) -> None:
    out = run_component("frame.join", {"left": [patients], "right": [wards]}, {"on": on})
    [record] = out.errors
    assert record.error == "MissingColumnError"
    assert f"join key: no column {named} in {where}" in record.message
    shown = "ward, bmi, bp, sex" if where == "left" else "ward, floor, bp"
    assert f"columns: {shown}" in record.message


def test_join_refuses_right_ids_that_left_uses_already(wards: pd.DataFrame) -> None:
    left = pd.DataFrame({"ward": ["a"]}, index=["right:3"])
    out = run_component("frame.join", {"left": [left], "right": [wards]},
                        {"on": "ward", "how": "outer"})
    [record] = out.errors
    assert "would get the id(s) ['right:3'], which left uses already" in record.message


@pytest.mark.parametrize(("params", "param", "part"), [
    ({"how": "cross"}, "how", "'left', 'inner', 'right' or 'outer'"),
    ({"suffixes": ["_a", "_a"]}, "suffixes", "the two suffixes must differ"),
    ({"on": ["ward", "ward"]}, "on", "a column is named twice"),
])
def test_join_bad_settings_are_problems_at_validation(params: dict[str, Any], param: str,
                                                      part: str) -> None:
    problem = only_problem("frame.join", params)
    assert problem.param == param
    assert part in problem.message


# -- frame.groupby ----------------------------------------------------------------------

@pytest.mark.parametrize("function", AGGREGATIONS)
@pytest.mark.parametrize("as_index", [True, False])
def test_groupby_gives_what_pandas_agg_gives(function: str, as_index: bool,
                                             patients: pd.DataFrame) -> None:
    aggregations = {"out": ["bmi", function], "n_bp": ["bp", "count"]}
    params = {"by": "ward", "aggregations": aggregations, "as_index": as_index}
    got = one("frame.groupby", params, patients)
    want = patients.groupby("ward", as_index=as_index).agg(
        out=("bmi", function), n_bp=("bp", "count"))
    pd.testing.assert_frame_equal(got, want)


def test_groupby_on_two_keys_and_a_missing_key_group(patients: pd.DataFrame) -> None:
    params = {"by": ["ward", "sex"], "dropna": False,
              "aggregations": {"top": ["bp", "max"], "n": ["bmi", "size"]}}
    got = one("frame.groupby", params, patients)
    want = patients.groupby(["ward", "sex"], dropna=False).agg(top=("bp", "max"),
                                                                n=("bmi", "size"))
    pd.testing.assert_frame_equal(got, want)
    assert got.index.get_level_values("ward").isna().sum() == 1  # patient 106's group


def test_groupby_rows_are_the_group_keys(patients: pd.DataFrame) -> None:
    got = one("frame.groupby", {"by": "ward", "aggregations": {"n": ["bp", "count"]}},
              patients)
    assert list(got.index) == ["a", "b", "c"]
    assert got.index.name == "ward"


@pytest.mark.parametrize(("aggregations", "part"), [
    ({}, "at least 1 item"),
    ({"x": ["bmi", "average"]}, "'sum', 'mean'"),
    ({"x": ["bmi"]}, "aggregations.x"),
    ({"engine": ["bmi", "sum"]}, "'engine' cannot name an output column"),
])
def test_groupby_bad_aggregations_are_problems_at_validation(aggregations: dict[str, Any],
                                                             part: str) -> None:
    problems = param_problems("frame.groupby", {"by": "ward", "aggregations": aggregations})
    assert problems
    assert all(p.param == "aggregations" for p in problems)
    assert any(part in p.message for p in problems), [p.message for p in problems]


@pytest.mark.parametrize(("params", "part"), [
    ({"by": "wardd", "aggregations": {"n": ["bp", "sum"]}}, "by: no column 'wardd'"),
    ({"by": "ward", "aggregations": {"n": ["bpp", "sum"]}}, "aggregations: no column 'bpp'"),
])
def test_groupby_unknown_columns_are_error_records(params: dict[str, Any], part: str,
                                                   patients: pd.DataFrame) -> None:
    [record] = run_component("frame.groupby", {"data": [patients]}, params).errors
    assert part in record.message
    assert "columns: ward, bmi, bp, sex" in record.message


# -- frame.sort -------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"by": "bp"},
    {"by": "bmi", "ascending": False, "na_position": "first"},
    {"by": ["sex", "bmi"], "ascending": [False, True]},
    {"by": ["row"]},
])
def test_sort_gives_what_a_stable_sort_values_gives(params: dict[str, Any],
                                                    patients: pd.DataFrame) -> None:
    got = one("frame.sort", params, patients)
    want = patients.sort_values(params["by"], ascending=params.get("ascending", True),
                                na_position=params.get("na_position", "last"), kind="stable")
    pd.testing.assert_frame_equal(got, want)


def test_sort_keeps_the_order_of_ties(patients: pd.DataFrame) -> None:
    got = one("frame.sort", {"by": "bp", "ascending": False}, patients)
    assert list(got.index[:3]) == [101, 105, 107]  # two 95s, in their first order


def test_sort_bad_settings(patients: pd.DataFrame) -> None:
    problem = only_problem("frame.sort", {"by": ["a", "b"], "ascending": [True]})
    assert problem.param == "ascending"
    assert "one flag per 'by' column: 2 column(s), 1 flag(s)" in problem.message
    assert only_problem("frame.sort", {"by": []}).param == "by"
    [record] = run_component("frame.sort", {"data": [patients]}, {"by": "age"}).errors
    assert "by: no column 'age'" in record.message


def test_sort_of_numbers_mixed_with_text_is_an_error_record() -> None:
    data = pd.DataFrame({"m": [1, "a", 2.5]}, dtype=object)
    [record] = run_component("frame.sort", {"data": [data]}, {"by": "m"}).errors
    assert record.message.startswith("sort by 'm' failed: TypeError")


# -- frame.dropna and frame.fillna ------------------------------------------------------

@pytest.mark.parametrize("params", [{}, {"subset": ["bmi"]}, {"how": "all"},
                                    {"subset": ["ward", "bmi"], "how": "all"}])
def test_dropna_gives_what_pandas_gives(params: dict[str, Any],
                                        patients: pd.DataFrame) -> None:
    got = one("frame.dropna", params, patients)
    pd.testing.assert_frame_equal(got, patients.dropna(**params))


def test_dropna_bad_settings(patients: pd.DataFrame) -> None:
    assert only_problem("frame.dropna", {"subset": []}).param == "subset"
    assert only_problem("frame.dropna", {"how": "some"}).param == "how"
    [record] = run_component("frame.dropna", {"data": [patients]}, {"subset": ["bm"]}).errors
    assert "subset: no column 'bm'" in record.message


@pytest.mark.parametrize(("value", "columns"), [
    (0, ["bmi", "bp"]), (1.5, ["bmi", "bp"]), ("none", ["ward", "sex"]),
    ({"bmi": 25.0, "ward": "unknown"}, None), ({"bmi": 3}, None)])
def test_fillna_gives_what_pandas_gives(value: Any, columns: list[str] | None,
                                        patients: pd.DataFrame) -> None:
    data = patients if columns is None else patients[columns]
    got = one("frame.fillna", {"value": value}, data)
    pd.testing.assert_frame_equal(got, data.fillna(value))
    filled = "bmi" if "bmi" in data else "ward"
    assert got[filled].isna().sum() == 0


def test_fillna_bad_settings(patients: pd.DataFrame) -> None:
    assert only_problem("frame.fillna", {"value": {}}).param == "value"
    assert only_problem("frame.fillna", {}).param == "value"
    [record] = run_component("frame.fillna", {"data": [patients]},
                             {"value": {"bmii": 1}}).errors
    assert "value: no column 'bmii'" in record.message


# -- frame.dummies ----------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {},
    {"columns": ["sex"], "drop_first": True, "dtype": "int64"},
    {"columns": ["ward", "sex"], "prefix": {"ward": "w", "sex": "s"}, "prefix_sep": ":",
     "dummy_na": True},
    {"columns": ["ward"], "prefix": "in", "dtype": "float64"},
])
def test_dummies_gives_what_get_dummies_gives(params: dict[str, Any],
                                              patients: pd.DataFrame) -> None:
    got = one("frame.dummies", params, patients)
    pd.testing.assert_frame_equal(got, pd.get_dummies(patients, **params))
    assert list(got.index) == list(patients.index)


def test_dummies_bad_settings(patients: pd.DataFrame) -> None:
    assert only_problem("frame.dummies", {"dtype": "complex"}).param == "dtype"
    assert only_problem("frame.dummies", {"columns": []}).param == "columns"
    [record] = run_component("frame.dummies", {"data": [patients]},
                             {"columns": ["gender"]}).errors
    assert "columns: no column 'gender'" in record.message
    [record] = run_component("frame.dummies", {"data": [patients]},
                             {"columns": ["sex", "ward"], "prefix": {"sex": "s"}}).errors
    assert record.message.startswith("dummies failed")


# -- frame.rename -----------------------------------------------------------------------

def test_rename_gives_what_pandas_gives(patients: pd.DataFrame) -> None:
    mapping = {"bp": "blood pressure", "sex": "gender"}
    got = one("frame.rename", {"columns": mapping}, patients)
    pd.testing.assert_frame_equal(got, patients.rename(columns=mapping))


def test_rename_bad_settings(patients: pd.DataFrame) -> None:
    problem = only_problem("frame.rename", {"columns": {"bp": "x", "bmi": "x"}})
    assert "two columns would be named 'x'" in problem.message
    assert only_problem("frame.rename", {"columns": {}}).param == "columns"
    out = run_component("frame.rename", {"data": [patients, patients]},
                        {"columns": {"bpp": "pressure"}})
    assert len(out.errors) == 2
    assert "columns: no column 'bpp' in the DataFrame (columns: ward, bmi, bp, sex)" in \
        out.errors[0].message
    [record] = run_component("frame.rename", {"data": [patients]},
                             {"columns": {"bp": "sex"}}).errors
    assert "renaming would give two columns named 'sex'" in record.message


# -- frame.sample -----------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"n": 3}, {"frac": 0.5, "random_state": 7}, {"n": 12, "replace": True},
    {"frac": 1.5, "replace": True, "random_state": 2}])
def test_sample_gives_what_pandas_gives(params: dict[str, Any],
                                        patients: pd.DataFrame) -> None:
    got = one("frame.sample", params, patients)
    want = patients.sample(**{"random_state": 0, **params})
    pd.testing.assert_frame_equal(got, want)


def test_sample_draws_on_across_the_messages_of_a_stream(patients: pd.DataFrame) -> None:
    out = run_component("frame.sample", {"data": [patients, patients]}, {"n": 4})
    first, second = out["data"]
    state = np.random.RandomState(0)
    pd.testing.assert_frame_equal(first, patients.sample(n=4, random_state=state))
    pd.testing.assert_frame_equal(second, patients.sample(n=4, random_state=state))
    assert list(first.index) != list(second.index)


@pytest.mark.parametrize(("params", "param", "part"), [
    ({}, "frac", "give n or frac"),
    ({"n": 2, "frac": 0.5}, "frac", "give n or frac, not both"),
    ({"frac": 2.0}, "replace", "frac=2.0 draws more rows than there are"),
    ({"n": -1}, "n", "greater than or equal to 0"),
])
def test_sample_bad_settings_are_problems(params: dict[str, Any], param: str,
                                          part: str) -> None:
    problems = param_problems("frame.sample", params)
    assert [p.param for p in problems] == [param]
    assert part in problems[0].message


def test_sample_more_rows_than_a_message_has_is_an_error_record(
        patients: pd.DataFrame) -> None:
    [record] = run_component("frame.sample", {"data": [patients]}, {"n": 9}).errors
    assert "cannot draw n=9 rows from a message of 8 without replacement" in record.message


# -- lineage through the family ---------------------------------------------------------

def test_a_row_traces_through_the_family_back_to_its_csv_line(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(
        "ward,bp\na,80\nb,\nc,70\nb,95\na,60\n", encoding="utf-8")
    doc = {"edgewise": 1, "name": "t", "nodes": [
        {"id": "read", "component": "csv.read", "params": {"path": "in.csv"}},
        {"id": "fill", "component": "frame.fillna", "params": {"value": {"bp": 0}}},
        {"id": "calc", "component": "frame.assign", "params": {"columns": {"x": "bp * 2"}}},
        {"id": "sort", "component": "frame.sort", "params": {"by": "x"}},
        {"id": "group", "component": "frame.groupby",
         "params": {"by": "ward", "aggregations": {"top": ["x", "max"]}}},
        {"id": "show", "component": "debug"}, {"id": "show2", "component": "debug"}],
        "edges": [{"source": a, "target": b} for a, b in [
            ("read.data", "fill.data"), ("fill.data", "calc.data"), ("calc.data", "sort.data"),
            ("sort.data", "show.data"), ("sort.data", "group.data"),
            ("group.data", "show2.data")]]}
    run = runtime.Run(runtime.plan(doc, base_dir=tmp_path))
    store = record_run(run, tmp_path).store
    assert run.run().status == "ok"
    [sorted_message] = store.messages("sort.data")
    steps = Lineage(store).trace(sorted_message.id, "3")  # the second 'b', bp 95, line 5
    assert [s.message.origin for s in steps] == ["sort.data", "calc.data", "fill.data",
                                                "read.data"]
    assert steps[-1].source is not None
    assert steps[-1].source["line"] == 5
    [groups] = store.messages("group.data")
    [step] = Lineage(store).trace(groups.id, "b")
    assert "builds new rows" in (step.note or "")


def test_a_group_whose_key_equals_an_input_row_id_is_not_traced_to_that_row(
        tmp_path: Path) -> None:
    # group keys 0 and 1 are also row ids of the input: lineage must not follow them
    (tmp_path / "in.csv").write_text("k,v\n1,10\n0,20\n1,30\n", encoding="utf-8")
    doc = {"edgewise": 1, "name": "t", "nodes": [
        {"id": "read", "component": "csv.read", "params": {"path": "in.csv"}},
        {"id": "group", "component": "frame.groupby",
         "params": {"by": "k", "aggregations": {"total": ["v", "sum"]}}}],
        "edges": [{"source": "read.data", "target": "group.data"}]}
    run = runtime.Run(runtime.plan(doc, base_dir=tmp_path))
    store = record_run(run, tmp_path).store
    assert run.run().status == "ok"
    [groups] = store.messages("group.data")

    steps = Lineage(store).trace(groups.id, 0)

    assert [s.message.origin for s in steps] == ["group.data"]
    assert "builds new rows" in (steps[0].note or "")
    assert steps[0].source is None



def test_a_joined_row_traces_to_its_left_row_when_the_lookup_uses_the_same_ids(
        tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("ward,bp\na,80\nb,90\nb,70\n", encoding="utf-8")
    (tmp_path / "wards.csv").write_text("ward,floor\nb,2\na,1\n", encoding="utf-8")
    doc = {"edgewise": 1, "name": "t", "nodes": [
        {"id": "read", "component": "csv.read", "params": {"path": "in.csv"}},
        {"id": "wards", "component": "csv.read", "params": {"path": "wards.csv"}},
        {"id": "join", "component": "frame.join", "params": {"on": "ward"}},
        {"id": "show", "component": "debug"}],
        "edges": [{"source": a, "target": b} for a, b in [
            ("read.data", "join.left"), ("wards.data", "join.right"),
            ("join.data", "show.data")]]}
    run = runtime.Run(runtime.plan(doc, base_dir=tmp_path))
    store = record_run(run, tmp_path).store
    assert run.run().status == "ok"
    [joined_message] = store.messages("join.data")
    # row 1 is also a row id of the lookup table; the join keeps the left row's id
    steps = Lineage(store).trace(joined_message.id, "1")
    assert [s.message.origin for s in steps] == ["join.data", "read.data"]
    assert steps[-1].source is not None
    assert (steps[-1].source["file"], steps[-1].source["line"]) == ("in.csv", 3)
