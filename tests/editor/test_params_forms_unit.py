"""The params forms' pure parts: estimator listing and names, option fields, column sources."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

import runtime
import runtime.runs
from editor.column_picker import (
    column_ports,
    gather,
    incoming,
    input_columns,
    preview_columns,
    probe_columns,
    run_columns,
)
from editor.estimator_picker import (
    KINDS,
    by_kind,
    list_estimators,
    option_fields,
    public_path,
    resolve_name,
)
from editor.known_fields import column_value, is_step_list, mapping_kind, string_or_list
from editor.list_forms import moved
from editor.options_form import changed_options, option_value
from runtime._record import record_run

REGISTRY = runtime.default_registry()


def spec(component: str) -> runtime.ComponentSpec:
    found = REGISTRY.get(component)
    assert found is not None
    return found


def schema_of(component: str, param: str) -> dict[str, Any]:
    prop: dict[str, Any] = spec(component).params_model.model_json_schema()["properties"][param]
    return prop


# -- estimators ----------------------------------------------------------------------------

def test_the_listing_is_scikit_learns_by_kind_with_importable_public_paths() -> None:
    from sklearn.utils import all_estimators

    listed = list_estimators()
    assert [e.name for e in listed] == sorted(name for name, _ in all_estimators())
    for kind in KINDS:
        assert {e.name for e in by_kind(listed, kind)} == {
            name for name, _ in all_estimators(type_filter=kind)}
    classes = dict(all_estimators())
    for info in listed:
        module_name, _, name = info.path.rpartition(".")
        assert not any(part.startswith("_") for part in module_name.split("."))
        assert getattr(importlib.import_module(module_name), name) is classes[info.name]
    forest = next(e for e in listed if e.name == "RandomForestClassifier")
    assert forest.path == "sklearn.ensemble.RandomForestClassifier"
    assert forest.kinds == ("classifier",)
    assert forest.label() == "RandomForestClassifier — sklearn.ensemble · classifier"
    assert list_estimators() is listed  # listed once


def test_public_path_skips_private_modules() -> None:
    from sklearn.preprocessing import StandardScaler

    assert StandardScaler.__module__.startswith("sklearn.preprocessing._")
    assert public_path(StandardScaler) == "sklearn.preprocessing.StandardScaler"


@pytest.mark.parametrize(("typed", "resolved"), [
    ("RandomForestClassifier", "sklearn.ensemble.RandomForestClassifier"),
    ("  standardscaler ", "sklearn.preprocessing.StandardScaler"),
    ("KMeans", "sklearn.cluster.KMeans"),
    ("sklearn.svm.SVC", "sklearn.svm.SVC"),  # dotted: kept as typed
    ("sklearn.svm.NoSuch", "sklearn.svm.NoSuch"),  # validation says what is wrong
    ("RandomForest", "RandomForest"),  # not a class name: kept, not guessed
    ("", ""),
])
def test_a_bare_class_name_resolves_to_its_module(typed: str, resolved: str) -> None:
    assert resolve_name(typed, list_estimators()) == resolved


def test_option_fields_follow_get_params_defaults_and_types() -> None:
    from sklearn.ensemble import RandomForestClassifier

    fields = {f.name: f for f in option_fields("sklearn.ensemble.RandomForestClassifier")}
    defaults = RandomForestClassifier().get_params()
    assert list(fields) == list(inspect.signature(RandomForestClassifier).parameters)
    assert set(fields) == set(defaults)
    for name, option in fields.items():
        assert option.default == defaults[name]
        assert not option.required
    assert (fields["n_estimators"].kind, fields["n_estimators"].placeholder()) == ("int", "100")
    assert fields["min_weight_fraction_leaf"].kind == "float"
    assert fields["bootstrap"].kind == "bool"
    assert fields["criterion"].kind == "choice"
    assert set(fields["criterion"].choices) == {"gini", "entropy", "log_loss"}
    assert fields["max_depth"].placeholder() == "null"


def test_a_required_option_and_a_bad_class() -> None:
    fields = {f.name: f for f in option_fields("sklearn.feature_selection.SelectFromModel")}
    assert fields["estimator"].required
    assert fields["estimator"].placeholder() == "required"
    with pytest.raises(ValueError, match="not inside scikit-learn"):
        option_fields("os.system")
    with pytest.raises(ValueError, match="is not a scikit-learn estimator class"):
        option_fields("sklearn.svm.SVX")


def test_only_changed_options_are_kept() -> None:
    fields = option_fields("sklearn.ensemble.RandomForestClassifier")
    by_name = {f.name: f for f in fields}
    assert option_value(by_name["n_estimators"], 50.0) == 50
    assert option_value(by_name["min_weight_fraction_leaf"], 0) == 0.0
    assert option_value(by_name["random_state"], "7") == 7
    assert option_value(by_name["max_features"], "0.5") == 0.5  # not a choice: read as JSON
    assert option_value(by_name["max_features"], "log2") == "log2"
    assert option_value(by_name["n_estimators"], None) is None
    options = changed_options({}, "n_estimators", 50, fields)
    assert options == {"n_estimators": 50}
    assert changed_options(options, "n_estimators", 100, fields) == {}  # back to the default
    assert changed_options(options, "n_estimators", None, fields) == {}
    assert changed_options({}, "bootstrap", False, fields) == {"bootstrap": False}
    assert changed_options({}, "bootstrap", True, fields) == {}
    assert changed_options({}, "max_depth", 0, fields) == {"max_depth": 0}  # 0 is not None


# -- column sources --------------------------------------------------------------------------

def test_column_params_and_the_usual_names_get_pickers() -> None:
    assert column_ports(spec("ml.fit")) == {"target": ["data"], "features": ["data"]}
    assert column_ports(spec("frame.join")) == {"on": ["left", "right"]}
    assert column_ports(spec("frame.groupby")) == {"by": ["data"]}  # not aggregations.values
    assert column_ports(spec("frame.select")) == {"columns": ["data"]}
    assert column_ports(spec("ml.score")) == {"target": ["data"], "prediction": ["data"]}
    assert column_ports(spec("stream.range")) == {}


def test_what_a_column_picker_can_show() -> None:
    by = schema_of("frame.groupby", "by")
    assert string_or_list(by)
    assert column_value(None, {}, by, "a") == (True, True)
    assert column_value(None, {}, by, ["a", "b"]) == (True, True)
    assert column_value(None, {}, by, 3) == (False, True)
    listed = {"type": "string"}
    assert column_value("array", listed, {}, ["a"]) == (True, True)
    assert column_value("array", listed, {}, "a") == (False, True)  # shown raw, with its error
    assert column_value("string", {}, {}, "a") == (True, False)
    assert column_value("string", {}, {}, ["a"]) == (False, False)


def write_csv(folder: Path) -> Path:
    path = folder / "people.csv"
    path.write_text("name,age,city\nann,30,oslo\nbob,40,rome\n")
    return path


def test_the_probe_knows_columns_before_a_run(tmp_path: Path) -> None:
    write_csv(tmp_path)
    flow = {"edgewise": 1, "name": "probe", "nodes": [
        {"id": "read", "component": "csv.read", "params": {"path": "people.csv"}},
        {"id": "pick", "component": "frame.select", "params": {"columns": ["age", "name"]}},
        {"id": "fit", "component": "ml.fit", "params": {}},
        {"id": "join", "component": "frame.join", "params": {"on": "name"}}],
        "edges": [{"source": "read.data", "target": "pick.data"},
                  {"source": "pick.data", "target": "fit.data"},
                  {"source": "read.data", "target": "join.left"},
                  {"source": "pick.data", "target": "join.right"}]}
    known = probe_columns(flow, REGISTRY, tmp_path)
    assert known[("read", "data")] == ["name", "age", "city"]
    assert known[("pick", "data")] == ["age", "name"]
    assert gather(flow, "fit", REGISTRY, tmp_path, None) == {"data": ["age", "name"]}
    assert gather(flow, "join", REGISTRY, tmp_path, None) == {
        "left": ["name", "age", "city"], "right": ["age", "name"]}
    (tmp_path / "people.csv").unlink()  # a file that is not there: its columns unknown
    assert probe_columns(flow, REGISTRY, tmp_path) == {("pick", "data"): ["age", "name"]}


def test_sources_join_in_order_without_repeats() -> None:
    edges = [{"source": "a.data", "target": "n.left"}, {"source": "b.out", "target": "n.left"},
             {"source": "c.data", "target": "n.right"}, {"source": "a.data", "target": "m.data"}]
    assert incoming(edges, "n") == {"left": [("a", "data"), ("b", "out")],
                                    "right": [("c", "data")]}
    run = {("a", "data"): ["x", "y"], ("b", "out"): ["y", "z"]}
    probe = {("a", "data"): ["x", "y", "w"], ("c", "data"): ["q"]}
    assert input_columns("n", edges, run, probe) == {"left": ["x", "y", "z", "w"],
                                                     "right": ["q"]}
    assert preview_columns({"kind": "dataframe", "columns": ["a", 1]}) == ["a", "1"]
    assert preview_columns({"kind": "text"}) is None
    assert preview_columns(None) is None


def test_a_kept_run_gives_the_columns_the_probe_cannot_know(tmp_path: Path) -> None:
    flow = {"edgewise": 1, "name": "wide", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
        {"id": "wide", "component": "frame.dummies", "params": {"columns": ["target"]}},
        {"id": "fit", "component": "ml.fit", "params": {
            "estimator": "sklearn.linear_model.LogisticRegression", "target": "target_0"}}],
        "edges": [{"source": "load.data", "target": "wide.data"},
                  {"source": "wide.data", "target": "fit.data"}]}
    assert gather(flow, "fit", REGISTRY, tmp_path, None) == {}  # dummies: unknown before
    run = runtime.Run(runtime.plan(flow, base_dir=tmp_path, registry=REGISTRY))
    record_run(run, tmp_path)
    run.run()
    store = runtime.runs.list_runs(tmp_path)[-1]
    import sklearn.datasets

    iris = sklearn.datasets.load_iris(as_frame=True).frame
    wide = [*iris.columns.drop("target"), "target_0", "target_1", "target_2"]
    assert run_columns(store, [("wide", "data")]) == {("wide", "data"): wide}
    assert gather(flow, "fit", REGISTRY, tmp_path, store) == {"data": wide}
    assert run_columns(store, [("nowhere", "data")]) == {}


# -- row forms -------------------------------------------------------------------------------

def test_mapping_params_get_the_right_rows() -> None:
    assert mapping_kind(schema_of("frame.route", "routes")) == ("text", [])
    assert mapping_kind(schema_of("frame.assign", "columns")) == ("text", [])
    kind, functions = mapping_kind(schema_of("frame.groupby", "aggregations")) or ("", [])
    assert kind == "pair"
    assert {"sum", "mean", "nunique"} <= set(functions)
    assert mapping_kind(schema_of("ml.search", "grid")) == ("json", [])
    assert mapping_kind(schema_of("python.function", "config")) is None


@pytest.mark.parametrize(("index", "by", "result"), [
    (1, -1, ["b", "a", "c"]), (0, -1, ["a", "b", "c"]), (1, 1, ["a", "c", "b"]),
    (2, 1, ["a", "b", "c"]), (0, 2, ["b", "c", "a"])])
def test_moving_a_row(index: int, by: int, result: list[str]) -> None:
    assert moved(["a", "b", "c"], index, by) == result


def items_of(component: str, param: str) -> dict[str, Any]:
    schema = spec(component).params_model.model_json_schema()
    prop = schema["properties"][param]
    ref = next((o["items"] for o in prop.get("anyOf", [prop]) if "items" in o), {})["$ref"]
    items: dict[str, Any] = schema["$defs"][ref.rsplit("/", 1)[-1]]
    return items


def test_which_estimator_lists_get_the_steps_form() -> None:
    steps, named = items_of("ml.fit", "steps"), items_of("ml.evaluate", "estimators")
    assert is_step_list("steps", "array", steps, None)
    assert is_step_list("steps", "array", steps, [{"estimator": "sklearn.svm.SVC"}])
    assert not is_step_list("steps", "array", steps, "sklearn.svm.SVC")  # shown raw
    assert is_step_list("estimators", "array", named, [{"name": "a", "estimator": "x"}])
    assert not is_step_list("estimators", "array", named,  # a contestant pipeline: JSON
                            [{"name": "a", "steps": [{"estimator": "x"}]}])
