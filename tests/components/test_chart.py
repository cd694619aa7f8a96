"""The ``chart`` family: chart.plot, chart.confusion_matrix and chart.roc, as SVG and PNG."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from sklearn.datasets import load_iris, load_wine
from sklearn.metrics import confusion_matrix

import components.chart
import runtime
from runtime import Run, plan, preview, summary
from runtime._record import record_run
from runtime.testing import ComponentRun, run_component

# The family's entry point is read from the installed distribution; until it is reinstalled
# with this module's entry point, add the module to this process's registry (a no-op after).
runtime.default_registry().add_module(components.chart)

SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

FAMILY_MODULE = "components.chart"
CONTRACT: dict[str, dict[str, Any]] = {
    "chart.plot": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"chart": "Chart"},
        "required": set(),
        "defaults": {"kind": "line", "x": None, "y": None, "title": "", "bins": None,
                     "path": ""},
    },
    "chart.confusion_matrix": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"chart": "Chart"},
        "required": {"target"},
        "defaults": {"prediction": "prediction", "normalize": None, "title": "", "path": ""},
    },
    "chart.roc": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"chart": "Chart"},
        "required": {"target"},
        "defaults": {"pos_label": None, "title": "", "path": ""},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame


def texts(svg: str) -> list[str]:
    """The text of every <text> element of an SVG document (which must parse)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def one_chart(run: ComponentRun) -> dict[str, Any]:
    assert run.errors == []
    assert len(run["chart"]) == 1
    chart: dict[str, Any] = run["chart"][0]
    return chart


# --- chart.plot ----------------------------------------------------------------------------

PLOTS = {
    "line": {"y": ["sepal length (cm)", "petal length (cm)"]},
    "scatter": {"x": "sepal length (cm)", "y": "petal length (cm)"},
    "bar": {"x": "target", "y": "petal width (cm)"},
    "hist": {"y": "sepal width (cm)", "bins": 7},
    "box": {"y": ["sepal width (cm)", "petal width (cm)"]},
}


@pytest.mark.parametrize("kind", sorted(PLOTS))
def test_every_plot_kind_renders_valid_svg_with_its_title(kind: str,
                                                         iris: pd.DataFrame) -> None:
    title = f"Iris {kind} <&>"
    chart = one_chart(run_component("chart.plot", {"data": [iris.head(40)]},
                                    {"kind": kind, "title": title, **PLOTS[kind]}))

    assert chart["kind"] == "chart" and chart["chart"] == kind and chart["title"] == title
    assert title in texts(chart["svg"])
    assert "path" not in chart
    assert json.loads(json.dumps(chart)) == chart  # plain JSON, as a record keeps it


def test_a_plot_without_title_gets_one_naming_its_columns(iris: pd.DataFrame) -> None:
    chart = one_chart(run_component("chart.plot", {"data": [iris]},
                                    {"kind": "hist", "y": "petal length (cm)"}))

    assert chart["title"] == "hist: petal length (cm)"
    assert chart["title"] in texts(chart["svg"])


def test_the_plot_draws_what_pandas_draws(iris: pd.DataFrame) -> None:
    # a bar plot's x tick labels are the x column's values, in the data's order
    data = pd.DataFrame({"fruit": ["apple", "kiwi", "plum"], "kg": [3.0, 1.5, 2.25]})
    chart = one_chart(run_component("chart.plot", {"data": [data]},
                                    {"kind": "bar", "x": "fruit", "y": "kg"}))

    found = texts(chart["svg"])
    assert [t for t in found if t in {"apple", "kiwi", "plum"}] == ["apple", "kiwi", "plum"]
    assert "fruit" in found  # the x axis is labelled with the column, as pandas labels it


def test_the_same_chart_gives_the_same_svg(iris: pd.DataFrame) -> None:
    params = {"kind": "scatter", "x": "sepal length (cm)", "y": "sepal width (cm)"}
    first = one_chart(run_component("chart.plot", {"data": [iris]}, params))
    again = one_chart(run_component("chart.plot", {"data": [iris]}, params))

    assert first["svg"] == again["svg"]


def test_charts_drawn_in_parallel_threads_do_not_mix(iris: pd.DataFrame) -> None:
    results: dict[str, dict[str, Any]] = {}

    def draw(kind: str) -> None:
        results[kind] = one_chart(run_component(
            "chart.plot", {"data": [iris]}, {"kind": kind, "title": f"only {kind}",
                                             **PLOTS[kind]}))

    threads = [threading.Thread(target=draw, args=(k,)) for k in sorted(PLOTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for kind, chart in results.items():
        titles = [t for t in texts(chart["svg"]) if t.startswith("only ")]
        assert titles == [f"only {kind}"]
    assert sorted(results) == sorted(PLOTS)


@pytest.mark.parametrize(("params", "column", "hint"), [
    ({"y": "petal lenght (cm)"}, "y column 'petal lenght (cm)'", "'petal length (cm)'"),
    ({"kind": "scatter", "x": "sepal", "y": "target"}, "x column 'sepal'", None),
    ({"y": ["target", "nope"]}, "y column 'nope'", None),
])
def test_an_unknown_column_is_an_error_record_naming_it(
        params: dict[str, Any], column: str, hint: str | None, iris: pd.DataFrame) -> None:
    run = run_component("chart.plot", {"data": [iris]}, params)

    assert run["chart"] == []
    [error] = run.errors
    assert column in error.message and "is not in the data" in error.message
    assert "petal width (cm)" in error.message  # the columns there are
    if hint is not None:
        assert f"did you mean {hint}" in error.message


@pytest.mark.parametrize(("params", "words"), [
    ({"kind": "line", "bins": 5}, "'bins' applies to a hist"),
    ({"kind": "hist", "x": "a"}, "has no 'x' column"),
    ({"kind": "scatter", "x": "a"}, "a scatter plot needs one 'y' column"),
    ({"kind": "scatter", "y": "a"}, "a scatter plot needs one 'x' column"),
    ({"kind": "scatter", "x": "a", "y": ["b", "c"]}, "needs one 'y' column"),
    ({"y": []}, "'y' is an empty list"),
    ({"kind": "pie"}, "kind"),
    ({"kind": "hist", "bins": 0}, "bins"),
])
def test_settings_that_cannot_work_are_refused_by_validate(params: dict[str, Any],
                                                           words: str) -> None:
    problems = param_problems("chart.plot", params)

    assert problems, params
    assert any(words in p.message or words == p.param for p in problems), problems


# --- PNG files -----------------------------------------------------------------------------

def test_a_png_is_written_to_path_when_given(iris: pd.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "charts" / "hist.png"
    chart = one_chart(run_component("chart.plot", {"data": [iris]},
                                    {"kind": "hist", "y": "petal length (cm)",
                                     "path": str(target)}))

    assert target.read_bytes().startswith(PNG_MAGIC)
    assert chart["path"] == str(target)
    assert [p.name for p in target.parent.iterdir()] == ["hist.png"]  # no partial left


def test_a_relative_path_resolves_against_the_flow_folder(iris: pd.DataFrame,
                                                          tmp_path: Path) -> None:
    run_component("chart.plot", {"data": [iris]}, {"y": "target", "path": "out/line.png"},
                  base_dir=tmp_path)

    assert (tmp_path / "out" / "line.png").read_bytes().startswith(PNG_MAGIC)


def test_a_failed_chart_leaves_the_png_untouched(iris: pd.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    target.write_bytes(b"the old chart")

    bad_column = run_component("chart.plot", {"data": [iris]},
                               {"y": "missing", "path": str(target)})
    text = iris.assign(species=iris["target"].map({0: "a", 1: "b", 2: "c"}))
    cannot_draw = run_component("chart.plot", {"data": [text]},  # text cannot be plotted
                                {"kind": "hist", "y": "species", "path": str(target)})

    assert len(bad_column.errors) == 1 and len(cannot_draw.errors) == 1
    assert target.read_bytes() == b"the old chart"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]


def test_a_path_that_is_not_a_regular_file_is_refused_by_validate() -> None:
    problems = param_problems("chart.plot", {"path": "/dev/null"})

    assert [p.param for p in problems] == ["path"]
    assert "not a regular file" in problems[0].message


# --- chart.confusion_matrix ----------------------------------------------------------------

def cell_texts(svg: str, title: str) -> list[str]:
    """The numbers written in the matrix's cells (drawn after the axis labels, before the title)."""
    found = texts(svg)
    return found[found.index("True label") + 1: found.index(title)]


@pytest.fixture(scope="module")
def predicted() -> pd.DataFrame:
    """Wine with a prediction column that is right on most rows and wrong on some."""
    frame: pd.DataFrame = load_wine(as_frame=True).frame
    names = np.array(["barolo", "grignolino", "barbera"])
    frame["label"] = names[frame["target"]]
    wrong = frame.index % 5 == 0
    frame["prediction"] = np.where(wrong, names[(frame["target"] + 1) % 3], frame["label"])
    return frame


def test_the_confusion_matrix_shows_sklearns_numbers(predicted: pd.DataFrame) -> None:
    chart = one_chart(run_component("chart.confusion_matrix", {"data": [predicted]},
                                    {"target": "label", "title": "wine"}))

    want = confusion_matrix(predicted["label"], predicted["prediction"])
    assert cell_texts(chart["svg"], "wine") == [str(n) for n in want.ravel()]
    assert chart["chart"] == "confusion_matrix"


def test_a_normalised_confusion_matrix_shows_sklearns_fractions(
        predicted: pd.DataFrame) -> None:
    chart = one_chart(run_component("chart.confusion_matrix", {"data": [predicted]},
                                    {"target": "label", "normalize": "true", "title": "n"}))

    want = confusion_matrix(predicted["label"], predicted["prediction"], normalize="true")
    shown = [float(t) for t in cell_texts(chart["svg"], "n")]
    assert shown == [float(f"{v:.2g}") for v in want.ravel()]  # sklearn's ".2g" format


def test_confusion_matrix_names_a_missing_column(predicted: pd.DataFrame) -> None:
    run = run_component("chart.confusion_matrix", {"data": [predicted]},
                        {"target": "label", "prediction": "predicted"})

    [error] = run.errors
    assert "prediction column 'predicted' is not in the data" in error.message
    assert "did you mean 'prediction'" in error.message


# --- chart.roc -----------------------------------------------------------------------------

def predict_flow(target: str, chart: dict[str, Any], *, binary: bool) -> dict[str, Any]:
    dataset = "breast_cancer" if binary else "iris"
    return {"edgewise": 1, "name": "roc", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": dataset}},
        {"id": "split", "component": "ml.split", "params": {"target": target}},
        {"id": "fit", "component": "ml.fit",
         "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                    "options": {"max_iter": 5000}, "target": target}},
        {"id": "predict", "component": "ml.predict", "params": {"probabilities": True}},
        {"id": "chart", "component": "chart.roc", "params": {"target": target, **chart}},
    ], "edges": [
        {"source": "load.data", "target": "split.data"},
        {"source": "split.train", "target": "fit.data"},
        {"source": "split.test", "target": "predict.data"},
        {"source": "fit.model", "target": "predict.model"},
        {"source": "predict.data", "target": "chart.data"},
    ]}


def roc_run(flow: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    result = runtime.run_flow(flow, capture=["chart.chart", "chart.error", "predict.data"])
    assert result.values("chart.error") == []
    [chart] = result.values("chart.chart")
    [data] = result.values("predict.data")
    return chart, data


def test_roc_of_a_binary_model_draws_the_greater_class_with_sklearns_auc() -> None:
    from sklearn.metrics import roc_auc_score

    chart, data = roc_run(predict_flow("target", {"title": "cancer"}, binary=True))

    auc = roc_auc_score(data["target"], data["proba_1"])
    legend = [t for t in texts(chart["svg"]) if "AUC" in t]
    assert legend[0] == f"1 (AUC = {auc:.2f})"  # RocCurveDisplay's own legend text
    assert "cancer" in texts(chart["svg"])


def test_roc_of_a_multiclass_model_draws_one_curve_per_class_against_the_rest() -> None:
    from sklearn.metrics import roc_auc_score

    chart, data = roc_run(predict_flow("target", {}, binary=False))

    legend = [t for t in texts(chart["svg"]) if "AUC" in t]
    want = [f"{c} vs rest (AUC = {roc_auc_score(data['target'] == c, data[f'proba_{c}']):.2f})"
            for c in (0, 1, 2)]
    assert legend[:3] == want
    assert chart["title"] == "ROC: target"


def test_roc_of_one_class_given_by_pos_label() -> None:
    chart, _ = roc_run(predict_flow("target", {"pos_label": 2}, binary=False))

    assert [t for t in texts(chart["svg"]) if "AUC" in t][0].startswith("2 (AUC = ")


def test_roc_without_probabilities_says_how_to_get_them(predicted: pd.DataFrame) -> None:
    run = run_component("chart.roc", {"data": [predicted]}, {"target": "label"})

    [error] = run.errors
    assert "'proba_<class>' columns" in error.message
    assert "probabilities: true on the ml.predict node" in error.message


def test_roc_names_a_pos_label_without_probabilities(iris: pd.DataFrame) -> None:
    data = iris.assign(proba_0=0.2, proba_1=0.3, proba_2=0.5)
    run = run_component("chart.roc", {"data": [data]}, {"target": "target", "pos_label": 7})

    [error] = run.errors
    assert "pos_label '7' has no 'proba_7' column" in error.message
    assert "0, 1, 2" in error.message


# --- previews and records ------------------------------------------------------------------

def test_a_chart_previews_as_a_chart_with_its_whole_svg(iris: pd.DataFrame) -> None:
    chart = one_chart(run_component("chart.plot", {"data": [iris]},
                                    {"kind": "box", "title": "spread"}))

    shown = preview(chart)

    assert shown["kind"] == "chart"
    assert shown["svg"] == chart["svg"] and len(shown["svg"]) > 1000
    assert shown["title"] == "spread" and shown["chart"] == "box"
    assert shown["summary"] == summary(chart) == "box chart: spread"
    assert json.loads(json.dumps(shown)) == shown


def test_a_recorded_run_keeps_the_chart(iris: pd.DataFrame, tmp_path: Path) -> None:
    flow = {"edgewise": 1, "name": "kept", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"}},
        {"id": "chart", "component": "chart.plot",
         "params": {"kind": "hist", "y": "petal length (cm)"}},
    ], "edges": [{"source": "load.data", "target": "chart.data"}]}
    run = Run(plan(flow, base_dir=tmp_path))
    recorder = record_run(run, tmp_path)
    assert run.run().status == "ok"

    [message] = recorder.store.messages("chart.chart")
    kept = recorder.store.value(message.id)
    assert kept["kind"] == "chart" and kept["title"] == "hist: petal length (cm)"
    assert kept["title"] in texts(kept["svg"])


def test_importing_the_family_imports_neither_matplotlib_nor_pandas() -> None:
    code = ("import json, sys\n"
            "import components.chart\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)

    assert not set(json.loads(proc.stdout)) & {"matplotlib", "pandas", "sklearn", "scipy"}
