"""Column checks at validation: params that name columns the data will not have."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import Field
from test_cli import edgewise, no_traceback

import runtime
from components._columns import BUNDLED_COLUMNS
from runtime import ComponentDefinitionError, Params, Problem, component, default_registry
from runtime.testing import run_component
from tests.flowkit import flow_doc, node

FLOWS = Path(__file__).resolve().parents[2] / "flows"
CSV = "city,pop,area\nAx,10,2.5\nBy,20,4.0\nCz,30,1.5\n"


def column_problems(nodes: list[dict[str, Any]], edges: list[tuple[str, str]],
                    base_dir: Path | None = None,
                    registry: runtime.Registry | None = None) -> list[Problem]:
    problems = runtime.validate(flow_doc(nodes, edges), base_dir=base_dir, registry=registry)
    return [p for p in problems if p.code == "unknown-column"]


def csv_file(folder: Path, text: str = CSV) -> Path:
    path = folder / "cities.csv"
    path.write_text(text, encoding="utf-8")
    return path


# --- the checks users see ----------------------------------------------------------------


def test_iris_example_with_a_misspelt_target_fails_validate_with_a_suggestion(
        tmp_path: Path) -> None:
    doc = json.loads((FLOWS / "iris.json").read_text(encoding="utf-8"))
    fit = next(n for n in doc["nodes"] if n["id"] == "fit")
    fit["params"]["target"] = "targte"
    flow = tmp_path / "iris.json"
    flow.write_text(json.dumps(doc), encoding="utf-8")

    result = edgewise("validate", flow)

    assert result.code == 2, result.output
    no_traceback(result)
    lines = result.stdout.strip().splitlines()
    assert lines == [
        f"{flow}: node 'fit', param 'target': no column 'targte' in the data reaching input "
        "'data' (columns: sepal length (cm), sepal width (cm), petal length (cm), "
        "petal width (cm), target); did you mean 'target'?"]


def test_csv_flow_with_a_misspelt_feature_names_node_param_and_file_columns(
        tmp_path: Path) -> None:
    csv_file(tmp_path)
    problems = column_problems([
        node("read", "csv.read", path="cities.csv"),
        node("fit", "ml.fit", estimator="sklearn.linear_model.LinearRegression",
             target="pop", features=["area", "cty"]),
    ], [("read.data", "fit.data")], base_dir=tmp_path)

    assert [(p.node, p.param, p.where) for p in problems] == [
        ("fit", "features", "nodes[1].params.features")]
    assert problems[0].message == (
        "node 'fit', param 'features': no column 'cty' in the data reaching input 'data' "
        "(columns: city, pop, area); did you mean 'city'?")


def test_select_that_drops_the_target_is_reported_at_the_fit(tmp_path: Path) -> None:
    problems = column_problems([
        node("load", "dataset.load", name="diabetes"),
        node("pick", "frame.select", columns=["bmi", "bp"]),
        node("fit", "ml.fit", estimator="sklearn.linear_model.LinearRegression",
             target="target"),
    ], [("load.data", "pick.data"), ("pick.data", "fit.data")])

    assert [p.message for p in problems] == [
        "node 'fit', param 'target': no column 'target' in the data reaching input 'data' "
        "(columns: bmi, bp)"]


def test_unknown_columns_upstream_give_no_alarm() -> None:
    # get_dummies' columns depend on the values, so nothing after it is checked
    problems = column_problems([
        node("load", "dataset.load", name="iris"),
        node("dum", "frame.dummies"),
        node("fit", "ml.fit", estimator="sklearn.linear_model.LogisticRegression",
             target="not_known_before_the_run"),
    ], [("load.data", "dum.data"), ("dum.data", "fit.data")])

    assert problems == []


def test_group_keys_as_row_ids_may_be_named_later() -> None:
    """frame.groupby (as_index) makes its keys row-id levels, which 'by' may name."""
    flow = flow_doc([
        node("load", "dataset.load", name="iris"),
        node("group", "frame.groupby", by="target",
             aggregations={"n": ["sepal length (cm)", "count"]}),
        node("sort", "frame.sort", by="target"),
    ], [("load.data", "group.data"), ("group.data", "sort.data")])

    assert runtime.validate(flow) == []


def test_every_problem_is_reported_together_with_the_others() -> None:
    problems = runtime.validate(flow_doc([
        node("load", "dataset.load", name="iris"),
        node("split", "ml.split", target="tagret", nosuch=1),
        node("q", "frame.query", expr="petal_lenght > 1"),
        node("score", "ml.score", target="target", prediction="predicted"),
    ], [("load.data", "split.data"), ("load.data", "q.data"), ("q.data", "score.data")]))

    codes = sorted((p.code, p.node) for p in problems)
    # the split's params are invalid (an unknown one), so only that is said of it
    assert codes == [("param", "split"), ("unknown-column", "q"), ("unknown-column", "score")]


def test_query_assign_and_route_expressions_are_checked(tmp_path: Path) -> None:
    csv_file(tmp_path)
    problems = column_problems([
        node("read", "csv.read", path="cities.csv"),
        node("q", "frame.query", expr="pop > 1 and aera < 3"),
        node("add", "frame.assign", columns={"density": "pop / area",
                                             "twice": "density * 2",
                                             "bad": "popp + 1"}),
        node("route", "frame.route", routes={"big": "density > 5", "odd": "twice > densty"}),
    ], [("read.data", "q.data"), ("q.data", "add.data"), ("add.data", "route.data")],
        base_dir=tmp_path)

    assert [(p.node, p.param) for p in problems] == [("q", "expr"), ("add", "columns"),
                                                     ("route", "routes")]
    assert "no column 'aera'" in problems[0].message
    assert "did you mean 'area'?" in problems[0].message
    assert "no column 'popp'" in problems[1].message
    assert "no column 'densty'" in problems[2].message
    assert "did you mean 'density'?" in problems[2].message


def test_params_of_frame_components_that_name_columns(tmp_path: Path) -> None:
    csv_file(tmp_path)
    problems = column_problems([
        node("read", "csv.read", path="cities.csv"),
        node("ren", "frame.rename", columns={"popu": "people"}),
        node("drop", "frame.dropna", subset=["area", "citi"]),
        node("fill", "frame.fillna", value="none"),  # a value, not a column
        node("fill2", "frame.fillna", value={"are": 0}),
        node("group", "frame.groupby", by="cityy", aggregations={"p": ["popp", "sum"]},
             as_index=False),
        node("dum", "frame.dummies", columns=["ctiy"]),
        node("sort", "frame.sort", by=["pop", "areaa"]),
    ], [("read.data", n) for n in ("ren.data", "drop.data", "fill.data", "fill2.data",
                                    "group.data", "dum.data", "sort.data")],
        base_dir=tmp_path)

    assert [(p.node, p.param, p.message.split("'")[5]) for p in problems] == [
        ("ren", "columns", "popu"), ("drop", "subset", "citi"), ("fill2", "value", "are"),
        ("group", "by", "cityy"), ("group", "aggregations", "popp"), ("dum", "columns", "ctiy"),
        ("sort", "by", "areaa")]


def test_join_keys_are_checked_on_each_side_and_columns_follow_the_merge(
        tmp_path: Path) -> None:
    csv_file(tmp_path)
    (tmp_path / "extra.csv").write_text("city,area,mayor\nAx,1,M\n", encoding="utf-8")
    nodes = [node("read", "csv.read", path="cities.csv"),
             node("extra", "csv.read", path="extra.csv"),
             node("join", "frame.join", on="city", suffixes=["_l", "_r"]),
             node("pick", "frame.select", columns=["area_l", "area_r", "mayor", "area"])]
    edges = [("read.data", "join.left"), ("extra.data", "join.right"),
             ("join.data", "pick.data")]

    problems = column_problems(nodes, edges, base_dir=tmp_path)
    assert [p.message.split("(")[0] for p in problems] == [
        "node 'pick', param 'columns': no column 'area' in the data reaching input 'data' "]
    assert "(columns: city, pop, area_l, area_r, mayor)" in problems[0].message

    nodes[2]["params"]["on"] = "town"
    problems = column_problems(nodes, edges, base_dir=tmp_path)
    assert [(p.node, p.param) for p in problems] == [("join", "on"), ("join", "on")]
    assert "reaching input 'left'" in problems[0].message
    assert "reaching input 'right'" in problems[1].message


def test_predict_adds_its_column_and_split_passes_columns_on() -> None:
    nodes = [node("load", "dataset.load", name="iris"),
             node("split", "ml.split", target="target"),
             node("fit", "ml.fit", estimator="sklearn.linear_model.LogisticRegression",
                  target="target"),
             node("predict", "ml.predict", column="predictions"),
             node("score", "ml.score", target="target", prediction="prediction")]
    edges = [("load.data", "split.data"), ("split.train", "fit.data"),
             ("split.test", "predict.data"), ("fit.model", "predict.model"),
             ("predict.data", "score.data")]

    problems = column_problems(nodes, edges)
    assert [(p.node, p.param) for p in problems] == [("score", "prediction")]
    assert "did you mean 'predictions'?" in problems[0].message

    nodes[3]["params"]["probabilities"] = True  # proba_<class> columns: not known before
    assert column_problems(nodes, edges) == []


def test_parquet_schema_is_read_from_the_file(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0]}).to_parquet(tmp_path / "t.parquet")
    nodes = [node("read", "parquet.read", path="t.parquet"),
             node("pick", "frame.select", columns=["a", "c"])]

    problems = column_problems(nodes, [("read.data", "pick.data")], base_dir=tmp_path)

    assert [p.message for p in problems] == [
        "node 'pick', param 'columns': no column 'c' in the data reaching input 'data' "
        "(columns: a, b)"]


def test_a_named_index_in_parquet_leaves_the_columns_unknown(tmp_path: Path) -> None:
    frame = pd.DataFrame({"k": ["x", "y"], "v": [1, 2]}).set_index("k")
    frame.to_parquet(tmp_path / "t.parquet")
    nodes = [node("read", "parquet.read", path="t.parquet"),
             node("sort", "frame.sort", by="k")]  # a row-id level: allowed

    assert runtime.validate(flow_doc(nodes, [("read.data", "sort.data")]),
                            base_dir=tmp_path) == []


# --- the column declarations agree with what the components give -------------------------


@pytest.mark.parametrize("name", sorted(BUNDLED_COLUMNS))
def test_bundled_dataset_columns_are_those_scikit_learn_gives(name: str) -> None:
    from sklearn import datasets

    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    assert list(frame.columns) == BUNDLED_COLUMNS[name]


@pytest.mark.parametrize("params", [
    {"name": "make_classification", "n_samples": 5},
    {"name": "make_classification", "n_samples": 5, "n_features": 4, "n_redundant": 0},
    {"name": "make_regression", "n_samples": 5},
    {"name": "make_regression", "n_samples": 5, "n_features": 3, "n_targets": 2},
    {"name": "make_regression", "n_samples": 5, "n_features": 3, "n_targets": 1},
])
def test_generated_dataset_columns_are_those_generated(params: dict[str, Any]) -> None:
    spec = default_registry().get("dataset.load")
    assert spec is not None and spec.columns_function is not None
    validated = spec.params_model.model_validate(params)

    [frame] = run_component(spec, params=params)["data"]

    assert spec.columns_function(validated, {}) == {"data": list(frame.columns)}


CSV_DIALECTS = ['"a,1",b c,  d\n1,2,3\n', "x;y\n1;2\n", "a,a,b\n1,2,3\n"]


@pytest.mark.parametrize("text", CSV_DIALECTS)
def test_csv_header_columns_are_those_pandas_reads(tmp_path: Path, text: str) -> None:
    path = csv_file(tmp_path, text)
    spec = default_registry().get("csv.read")
    assert spec is not None and spec.columns_function is not None

    [frame] = run_component(spec, params={"path": str(path)})["data"]
    got = spec.columns_function(spec.params_model.model_validate({"path": str(path)}), {})

    assert got == {"data": list(frame.columns)}


DATA = pd.DataFrame({"k": ["a", "b", "a"], "v": [1.0, None, 3.0], "w": [4, 5, 6]})
RIGHT = pd.DataFrame({"k": ["a", "b"], "v": [10, 20], "z": [7, 8]})


@pytest.mark.parametrize(("component_id", "params", "inputs"), [
    ("frame.select", {"columns": ["w", "k"]}, {"data": [DATA]}),
    ("frame.assign", {"columns": {"u": "w * 2", "v": "w + 1"}}, {"data": [DATA]}),
    ("frame.rename", {"columns": {"v": "value"}}, {"data": [DATA]}),
    ("frame.join", {"on": "k"}, {"left": [DATA], "right": [RIGHT]}),
    ("frame.join", {"on": [], "how": "outer", "suffixes": ["_1", "_2"]},
     {"left": [DATA], "right": [RIGHT]}),
    ("frame.groupby", {"by": "k", "aggregations": {"total": ["w", "sum"]}, "as_index": False},
     {"data": [DATA]}),
    ("frame.dropna", {}, {"data": [DATA]}),
    ("frame.fillna", {"value": 0}, {"data": [DATA]}),
    ("frame.sort", {"by": "w"}, {"data": [DATA]}),
    ("frame.sample", {"n": 2}, {"data": [DATA]}),
    ("frame.query", {"expr": "w > 4"}, {"data": [DATA]}),
    ("stream.chunks", {"rows": 2}, {"data": [DATA]}),
    ("stream.collect", {}, {"data": [DATA]}),
    ("stream.identity", {}, {"data": [DATA]}),
])
def test_declared_columns_are_those_the_component_gives(
        component_id: str, params: dict[str, Any], inputs: dict[str, list[Any]]) -> None:
    spec = default_registry().get(component_id)
    assert spec is not None and spec.columns_function is not None
    known = {port: [str(c) for c in values[0].columns] for port, values in inputs.items()}

    ran = run_component(spec, inputs, params)
    declared = spec.columns_function(spec.params_model.model_validate(params), known)

    assert ran.errors == []
    for port, values in ran.outputs.items():
        for value in values:
            assert declared[port] == list(value.columns), port


def test_split_route_and_predict_declare_what_they_give() -> None:
    from sklearn.linear_model import LinearRegression

    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "target": [2.0, 4.0, 6.0, 8.0]})
    model = LinearRegression().fit(data[["x"]], data["target"])
    known = {"data": ["x", "target"]}
    for component_id, params, inputs in [
            ("ml.split", {"target": "target"}, {"data": [data]}),
            ("frame.route", {"routes": {"low": "x < 2"}}, {"data": [data]}),
            ("ml.predict", {"column": "guess"}, {"data": [data], "model": [model]})]:
        spec = default_registry().get(component_id)
        assert spec is not None and spec.columns_function is not None
        ran = run_component(spec, inputs, params)
        declared = spec.columns_function(spec.params_model.model_validate(params), known)
        assert ran.outputs and all(ran.outputs.values())
        for port, values in ran.outputs.items():
            assert declared[port] == list(values[0].columns), (component_id, port)


# --- the pass never gets in the way ------------------------------------------------------


class NameParams(Params):
    """Settings of the test components."""

    column: str = Field(default="x", description="A column.")


def _boom(_params: Any, _inputs: Any) -> Any:
    msg = "a bug in a columns function"
    raise RuntimeError(msg)


@component("test.broken_columns", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           columns=_boom, column_params={"data": ["column"]}, params=NameParams)
def broken(data: Any, *, params: NameParams) -> Any:
    """Pass data on; its columns function fails."""
    return data


@component("test.odd_columns", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           columns=lambda _p, _i: {"data": "not a list"}, params=NameParams)
def odd(data: Any, *, params: NameParams) -> Any:
    """Pass data on; its columns function gives nonsense."""
    return data


def test_a_failing_columns_function_is_skipped_not_a_traceback() -> None:
    registry = default_registry().with_components(broken, odd)
    for spec_id in ("test.broken_columns", "test.odd_columns"):
        problems = column_problems([
            node("load", "dataset.load", name="iris"),
            node("mid", spec_id, column="target"),
            node("fit", "ml.fit", estimator="sklearn.linear_model.LogisticRegression",
                 target="whatever"),
        ], [("load.data", "mid.data"), ("mid.data", "fit.data")], registry=registry)
        assert problems == []


def test_column_params_must_name_params_and_inputs_of_the_component() -> None:
    with pytest.raises(ComponentDefinitionError, match="colum"):
        component("test.bad", inputs={"data": "DataFrame"}, params=NameParams,
                  column_params={"data": ["colum"]})(lambda data, params: None)
    with pytest.raises(ComponentDefinitionError, match="dta"):
        component("test.bad", inputs={"data": "DataFrame"}, params=NameParams,
                  column_params={"dta": ["column"]})(lambda data, params: None)
    with pytest.raises(ComponentDefinitionError, match="column.sideways"):
        component("test.bad", inputs={"data": "DataFrame"}, params=NameParams,
                  column_params={"data": ["column.sideways"]})(lambda data, params: None)


def test_example_flows_have_no_column_problems() -> None:
    for path in sorted(FLOWS.glob("*.json")):
        assert runtime.validate(path) == [], path.name


def test_column_names_with_escape_sequences_are_shown_as_text(tmp_path: Path) -> None:
    csv_file(tmp_path, "ok,\x1b[2Jcol\n1,2\n")
    problems = column_problems([
        node("read", "csv.read", path="cities.csv"),
        node("fit", "ml.fit", estimator="sklearn.linear_model.LinearRegression",
             target="\x1b]0;pwned\x07"),
    ], [("read.data", "fit.data")], base_dir=tmp_path)

    [problem] = problems
    assert "\x1b" not in problem.message and "\x07" not in problem.message
    assert "no column '\\x1b]0;pwned\\x07'" in problem.message
    assert "(columns: ok, \\x1b[2Jcol)" in problem.message
