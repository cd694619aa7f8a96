"""A node's status line and face, and the metric cards' numbers, worded from what a run sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runtime
import runtime.runs
from editor.metric_cards import delta, kept_records, metric_ports, verdict
from editor.node_face import face_text
from editor.node_status import RunFacts, round_number, short_metric, status_text
from runtime._record import record_run

FLOWS = Path(__file__).resolve().parents[2] / "flows"
DONE = {"state": "done", "errors": 0, "fired": 1}


def frame(rows: int, count: int = 1) -> dict[str, Any]:
    """What a snapshot says of an edge that carried DataFrames."""
    return {"count": count, "rows": rows * count,
            "preview": {"kind": "dataframe", "shape": [rows, 5], "summary": f"{rows}×5"}}


def record(value: dict[str, Any]) -> dict[str, Any]:
    return {"count": 1, "rows": None, "preview": {"kind": "dict", "value": value,
                                                   "summary": str(value)}}


MODEL = {"count": 1, "rows": None,
         "preview": {"kind": "model", "summary": "LogisticRegression"}}


@pytest.mark.parametrize(("value", "text"), [
    (0.9736842105263158, "0.974"), (1.0, "1"), (38, "38"), (0.5, "0.5"), (12.3456, "12.346"),
    (1234.567, "1235"), (-0.0123456, "-0.012"), (0.000123456, "0.000123"), (0.0, "0"),
    (float("nan"), "nan")])
def test_numbers_are_rounded_to_three_decimals(value: float, text: str) -> None:
    assert round_number(value) == text


def test_metric_names_are_shortened() -> None:
    assert short_metric("accuracy") == "acc"
    assert short_metric("f1_macro") == "f1"
    assert short_metric("accuracy_mean") == "acc"
    assert short_metric("r2") == "r2"


def test_a_fit_says_how_many_rows_it_was_fitted_on() -> None:
    assert status_text("ml.fit", DONE, [frame(112)], {"model": MODEL}) == "fitted on 112 rows"
    assert status_text("model.load", DONE, [], {"model": MODEL}) == "LogisticRegression"


def test_metrics_lead_rounded_and_short() -> None:
    metrics = record({"name": "score", "accuracy": 0.9736842105263158, "f1_macro": 0.97124,
                      "precision": 0.5, "rows": 38})
    text = status_text("ml.score", DONE, [frame(38)], {"metrics": metrics,
                                                      "confusion": frame(3)})
    assert text == "acc 0.974 · f1 0.971"
    best = record({"params": {"C": 0.1}, "score": 0.9789603283173735})
    assert status_text("ml.search", DONE, [frame(426)],
                       {"model": MODEL, "best": best}) == "score 0.979"


def test_errors_and_stops_come_first() -> None:
    failed = {"state": "failed", "errors": 3, "fired": 3}
    assert status_text("frame.query", failed, [frame(150)], {}) == "3 errors"
    assert status_text("frame.query", {**failed, "errors": 1}, [], {}) == "1 error"
    stopped = {"state": "stopped", "errors": 0}
    assert status_text("csv.read", stopped, [], {"data": frame(100, 4)}) == "stopped"


def test_rows_sent_received_or_written() -> None:
    assert status_text("dataset.load", DONE, [], {"data": frame(150)}) == "150 rows"
    assert status_text("csv.read", DONE, [], {"data": frame(100, 4)}) == "400 rows in 4 msgs"
    assert status_text("ml.split", DONE, [frame(150)],
                       {"train": frame(112), "test": frame(38)}) == "train 112 · test 38"
    assert status_text("debug", DONE, [frame(38)], {}) == "38 rows"
    assert status_text("csv.write", DONE, [frame(5, 2)], {}) == "wrote 10 rows"
    ints = {"count": 7, "rows": None, "preview": {"kind": "text", "summary": "6"}}
    assert status_text("stream.range", DONE, [], {"data": ints}) == "7 msgs"
    assert status_text("debug", DONE, [ints], {}) == "7 msgs"
    assert status_text("debug", {"state": "idle", "errors": 0}, [], {}) == ""
    # the error port's records are counted as errors, not as output
    assert status_text("frame.query", DONE, [frame(1)], {"error": ints}) == "1 row"


def test_run_facts_follow_snapshots_and_the_end() -> None:
    facts = RunFacts({"load": "dataset.load", "fit": "ml.fit", "score": "ml.score"})
    changed = facts.take({"edges": {"load.data->fit.data": frame(150)},
                          "nodes": {"load": {"state": "running", "errors": 0, "fired": 1}}})
    assert changed == {"load": {"state": "running", "errors": 0, "text": "150 rows"}}
    changed = facts.take({"edges": {}, "nodes": {"fit": {"state": "running", "errors": 0}}})
    assert changed["fit"]["text"] == "150 rows"  # received; not fitted yet
    facts.take({"edges": {"fit.model->score.model": MODEL,
                          "fit.model->other.model": MODEL}, "nodes": {}})
    ended = facts.take_states({"fit": {"state": "stopped", "errors": 0}})
    assert ended == {"fit": {"state": "stopped", "errors": 0, "text": "stopped"}}
    assert facts.state("fit")["state"] == "stopped"
    facts.take_states({"fit": {"state": "done", "errors": 0}})
    assert facts.state("fit")["text"] == "fitted on 150 rows"
    facts.take({"edges": {"score.metrics->m.data": record({"accuracy": 0.5, "rows": 3})},
                "nodes": {}})
    assert facts.records({"score.metrics"}) == {"score.metrics": {"accuracy": 0.5}}
    assert facts.records({"load.data"}) == {}


def test_ports_are_named_in_the_components_order() -> None:
    facts = RunFacts({"split": "ml.split"}, {"split": ["train", "test"]})
    facts.take({"edges": {"split.test->a.data": frame(38), "split.train->b.data": frame(112)},
                "nodes": {"split": DONE}})
    assert facts.state("split")["text"] == "train 112 · test 38"


@pytest.mark.parametrize(("component", "params", "face"), [
    ("dataset.load", {"name": "wine"}, "wine"),
    ("ml.fit", {"estimator": "sklearn.ensemble.RandomForestClassifier", "target": "y"},
     "RandomForestClassifier"),
    ("ml.search", {"steps": [{"estimator": "sklearn.preprocessing.StandardScaler"},
                             {"estimator": "sklearn.linear_model.LogisticRegression"}]},
     "StandardScaler → LogisticRegression"),
    ("ml.evaluate", {"estimators": [{"name": "forest", "estimator": "x.Forest"},
                                    {"estimator": "x.Tree"}]}, "forest, Tree"),
    ("csv.read", {"path": "data/train.csv"}, "train.csv"),
    ("parquet.write", {"path": "out\\scores.parquet"}, "scores.parquet"),
    ("frame.query", {"expr": "  `petal length (cm)`\n > 1.5 "}, "`petal length (cm)` > 1.5"),
    ("frame.assign", {"columns": {"bmi_bp": "bmi * bp", "x": "1"}}, "bmi_bp, x"),
    ("frame.groupby", {"by": ["a", "b"]}, "a, b"),
    ("sql.write", {"database": "db/out.sqlite", "table": "scores"}, "out.sqlite: scores"),
    ("python.function", {"code": "import math\n\ndef double(data):\n    return data"},
     "def double(data)"),
    ("chart.plot", {"kind": "hist", "y": "age"}, "hist: age"),
    ("ml.split", {"target": "y", "test_size": 0.2, "stratify": True}, "test 20%, stratified"),
    ("ml.split", {"target": "y"}, "test 25%"),
    ("debug", {}, ""),
    ("ml.fit", {"estimator": 3}, ""),
    ("dataset.load", "not a mapping", ""),
])
def test_the_face_shows_the_key_param(component: str, params: Any, face: str) -> None:
    assert face_text(component, params) == face


def test_every_example_node_with_a_face_rule_shows_something() -> None:
    from editor.node_face import FACES

    for flow in sorted(FLOWS.glob("*.json")):
        for node in json.loads(flow.read_text())["nodes"]:
            if node["component"] in FACES and node.get("params"):
                assert face_text(node["component"], node["params"]), (flow.name, node["id"])


@pytest.mark.parametrize(("value", "before", "shown"), [
    (0.974, None, ("first run", "none")), (0.974, 0.961, ("+0.013", "up")),
    (0.95, 0.974, ("-0.024", "down")), (0.974, 0.974, ("±0", "same")),
    (0.97400001, 0.974, ("±0", "same"))])
def test_the_change_since_the_last_run(value: float, before: float | None,
                                       shown: tuple[str, str]) -> None:
    assert delta(value, before) == shown


def test_metrics_of_a_kept_run(tmp_path: Path) -> None:
    flow = json.loads((FLOWS / "iris.json").read_text())
    registry = runtime.default_registry()
    ports = metric_ports(flow["nodes"], registry)
    assert ports == {"score.metrics"}
    checked = runtime.plan(flow, base_dir=tmp_path, registry=registry)
    run = runtime.Run(checked)
    recorder = record_run(run, tmp_path)
    run.run()
    store = next(s for s in runtime.runs.list_runs(tmp_path) if s.id == recorder.run_id)
    found = kept_records(store, ports)
    assert set(found) == {"score.metrics"}
    assert set(found["score.metrics"]) == {"accuracy", "f1_macro"}
    assert 0.9 <= found["score.metrics"]["accuracy"] <= 1.0
    assert kept_records(store, {"load.data"}) == {}


def test_a_change_is_judged_better_or_worse_by_what_the_metric_measures() -> None:
    assert verdict("accuracy", "up") == "better" and verdict("f1_macro", "down") == "worse"
    assert verdict("mean_squared_error", "down") == "better"
    assert verdict("log_loss", "up") == "worse"
    assert verdict("neg_mean_squared_error", "up") == "better"  # scikit-learn's negated scorer
    assert verdict("r2", "same") == "" and verdict("accuracy", "none") == ""
