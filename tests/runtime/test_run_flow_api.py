"""Calling a flow from Python: ``run_flow(flow, inputs=..., capture=...)``, without files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import runtime

REPO = Path(__file__).resolve().parents[2]


def iris_without_sink_and_test_edge() -> dict[str, Any]:
    """flows/iris.json without its debug sink, and with predict.data left open for inputs."""
    doc: dict[str, Any] = json.loads((REPO / "flows" / "iris.json").read_text(encoding="utf-8"))
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "metrics"]
    doc["edges"] = [e for e in doc["edges"]
                    if e["target"] not in ("metrics.data", "predict.data")]
    return doc


def test_a_notebook_gets_predictions_back_equal_to_plain_scikit_learn() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    iris = load_iris(as_frame=True).frame
    new_rows = iris.sample(20, random_state=3)

    result = runtime.run_flow(iris_without_sink_and_test_edge(),
                              inputs={"predict.data": new_rows},
                              capture=["predict.data", "score.metrics"])

    train, _test = train_test_split(iris, test_size=0.25, random_state=0,
                                    stratify=iris["target"])
    features = [c for c in iris.columns if c != "target"]
    model = LogisticRegression(max_iter=500).fit(train[features], train["target"])
    expected = new_rows.copy()
    expected["prediction"] = model.predict(new_rows[features])
    assert result.status == "ok"
    [predicted] = result.values("predict.data")
    assert_frame_equal(predicted, expected)
    assert result.nodes["predict"].fired == 1
    assert len(result.values("score.metrics")) == 1


def test_a_list_feeds_one_message_per_item_and_an_unconnected_output_is_captured() -> None:
    flow = {"edgewise": 1, "name": "double",
            "nodes": [{"id": "same", "component": "stream.identity"},
                      {"id": "count", "component": "stream.count"}],
            "edges": [{"source": "same.data", "target": "count.data"}]}

    result = runtime.run_flow(flow, inputs={"same.data": [1, 2, 3]},
                              capture=["same.data", "count.count"])

    assert result.values("same.data") == [1, 2, 3]
    assert result.values("count.count") == [3]
    assert result.edges["same.data->count.data"] == 3
    assert result.exit_code == 0


def test_a_dict_and_a_generator_feed_what_they_stand_for() -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "pass", "nodes": [{"id": "same", "component": "stream.identity"}],
        "edges": []})

    one = runtime.run_flow(flow, inputs={"same.data": {"a": 1}}, capture=["same.data"])
    many = runtime.run_flow(flow, inputs={"same.data": (i * i for i in range(4))},
                            capture=["same.data"])

    assert one.values("same.data") == [{"a": 1}]
    assert many.values("same.data") == [0, 1, 4, 9]


def test_errors_are_captured_from_the_error_port() -> None:
    flow = {"edgewise": 1, "name": "q",
            "nodes": [{"id": "q", "component": "frame.query", "params": {"expr": "a > 1"}}],
            "edges": []}

    result = runtime.run_flow(flow, inputs={"q.data": [pd.DataFrame({"b": [1]})]},
                              capture=["q.data", "q.error"])

    assert result.status == "errors"
    assert result.values("q.data") == []
    [record] = result.values("q.error")
    assert record.node == "q"


def test_bad_port_names_are_refused_with_what_would_fit() -> None:
    doc = iris_without_sink_and_test_edge()

    with pytest.raises(runtime.FlowInvalidError) as wrong_input:
        runtime.run_flow(doc, inputs={"predict.dta": []})
    with pytest.raises(runtime.FlowInvalidError) as connected:
        runtime.run_flow(doc, inputs={"fit.data": []})
    with pytest.raises(runtime.FlowInvalidError) as wrong_capture:
        runtime.run_flow(doc, inputs={"predict.data": []}, capture=["predict.preds"])
    with pytest.raises(KeyError, match="'score.metrics' was not captured"):
        runtime.run_flow(doc, inputs={"predict.data": []}).values("score.metrics")

    assert ("'predict.dta' is not an input port of this flow; did you mean 'predict.data'? "
            "(open inputs: predict.data)") in str(wrong_input.value)
    assert "'fit.data' is connected already (from 'split.train')" in str(connected.value)
    assert "'predict.preds' is not an output port" in str(wrong_capture.value)
    assert "predict.data" in str(wrong_capture.value)


def test_a_flow_file_runs_as_before_and_its_metrics_can_be_captured() -> None:
    result = runtime.run_flow(REPO / "flows" / "iris.json", capture=["score.metrics"])

    assert isinstance(result, runtime.RunResult)
    assert result.status == "ok"
    assert result.nodes["metrics"].fired == 1
    [metrics] = result.values("score.metrics")
    assert metrics["rows"] == 38


def test_every_bad_input_and_capture_is_reported_at_once_with_a_close_name() -> None:
    doc = iris_without_sink_and_test_edge()

    with pytest.raises(runtime.FlowInvalidError) as bad:
        runtime.run_flow(doc, inputs={"predict.dta": [], "nodot": []},
                         capture=["score.metrcs", "nowhere.data", "x"])

    messages = [p.message for p in bad.value.problems]
    assert len(messages) == 5, messages
    assert messages[0].startswith("inputs: 'predict.dta' is not an input port of this flow; "
                                  "did you mean 'predict.data'? (open inputs:")
    assert messages[1] == "inputs: 'nodot' must name a port as 'node.port'"
    assert messages[2].startswith("capture: 'score.metrcs' is not an output port of this "
                                  "flow; did you mean 'score.metrics'? (outputs:")
    assert "did you mean" not in messages[3]
    assert messages[3].startswith("capture: 'nowhere.data' is not an output port")
    assert messages[4] == "capture: 'x' must name a port as 'node.port'"
