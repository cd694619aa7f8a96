"""Every example flow in flows/ validates, runs from a clean copy, and makes what it promises."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    get_scorer,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_validate,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import runtime
from components._model_label import model_label

FLOWS = Path(__file__).resolve().parents[1] / "flows"
FLOW_FILES = sorted(FLOWS.glob("*.json"))


@dataclass
class Outcome:
    """What one run of an example flow did, as a user can see it."""

    folder: Path
    result: runtime.RunResult
    shown: dict[str, list[Any]] = field(default_factory=dict)
    edges: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)


def check_iris(out: Outcome) -> None:
    assert out.result.status == "ok"
    [metrics] = out.shown["metrics"]
    assert metrics["accuracy"] > 0.8
    assert 0.0 <= metrics["f1_macro"] <= 1.0
    assert metrics["rows"] == 38  # a stratified quarter of 150 rows


def check_streaming_scoring(out: Outcome) -> None:
    assert out.result.status == "ok"
    text = (out.folder / "out" / "predictions.csv").read_text()
    lines = text.splitlines()
    assert lines[0] == "f0,f1,f2,f3,f4,f5,target,prediction"
    assert lines.count(lines[0]) == 1
    predictions = pd.read_csv(out.folder / "out" / "predictions.csv")
    incoming = pd.read_csv(out.folder / "data" / "score.csv")
    assert len(predictions) == 10000
    pd.testing.assert_frame_equal(predictions[list(incoming.columns)], incoming)
    train = pd.read_csv(out.folder / "data" / "train.csv")
    model = LogisticRegression(max_iter=1000).fit(train.drop(columns="target"),
                                                  train["target"])
    assert list(predictions["prediction"]) == list(model.predict(incoming.drop(
        columns="target")))
    assert out.result.edges["incoming.data->predict.data"] == 10
    chunk_metrics = out.shown["metrics"]
    assert [m["rows"] for m in chunk_metrics] == [1000] * 10
    assert all(0.5 < m["accuracy"] <= 1.0 for m in chunk_metrics)


def check_dead_letter(out: Outcome) -> None:
    assert out.result.status == "errors"
    readings = pd.read_csv(out.folder / "data" / "readings.csv")
    chunk_ids = [msg_id for msg_id, _ in out.edges["readings.data->predict.data"]]
    chunks = [chunk for _, chunk in out.edges["readings.data->predict.data"]]
    assert [len(c) for c in chunks] == [10] * 60
    bad = [i for i, c in enumerate(chunks) if c.isna().any(axis=None)]
    good = [i for i in range(len(chunks)) if i not in bad]
    assert 0 < len(bad) < len(chunks)

    text = (out.folder / "out" / "dead-letter.jsonl").read_text()
    letters = [json.loads(line) for line in text.splitlines()]
    assert len(letters) == len(bad) == out.result.nodes["predict"].errors
    for letter, index in zip(letters, bad, strict=True):
        assert set(letter) == {"node", "component", "error", "message", "inputs"}
        assert letter["node"] == "predict"
        assert letter["component"] == "ml.predict"
        assert letter["message"]
        assert chunk_ids[index] in letter["inputs"]

    scored = pd.read_csv(out.folder / "out" / "scored.csv")
    good_rows = pd.concat([chunks[i] for i in good])
    assert len(scored) == len(good_rows) == len(readings) - 10 * len(bad)
    assert list(scored["reading_id"]) == list(good_rows["reading_id"])
    assert "prediction" in scored.columns
    assert not scored.isna().any(axis=None)
    lines = (out.folder / "out" / "scored.csv").read_text().splitlines()
    assert lines.count(lines[0]) == 1


def _scaled_logistic(**options: Any) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, **options))


def _only(edges: dict[str, list[tuple[int, Any]]], edge: str) -> Any:
    [(_, value)] = edges[edge]
    return value


def check_scaled_pipeline(out: Outcome) -> None:
    assert out.result.status == "ok"
    frame = datasets.load_breast_cancer(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.25, random_state=0,
                                   stratify=frame["target"])
    x_test, y_test = test.drop(columns="target"), test["target"]
    model = _scaled_logistic().fit(train.drop(columns="target"), train["target"])
    proba = model.predict_proba(x_test)
    expected = test.assign(prediction=model.predict(x_test), proba_0=proba[:, 0],
                           proba_1=proba[:, 1], confidence=proba.max(axis=1))
    pd.testing.assert_frame_equal(_only(out.edges, "predict.data->score.data"), expected)

    [metrics] = out.shown["metrics"]
    names = ["accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss", "roc_auc"]
    assert metrics == {"name": "breast_cancer", "rows": 143,
                       **{n: get_scorer(n)(model, x_test, y_test) for n in names}}
    assert 0.9 < metrics["accuracy"] < 1.0  # a real task, not a trivially separable one
    [confusion] = out.shown["confusion"]
    labels = pd.Index([0, 1])
    pd.testing.assert_frame_equal(confusion, pd.DataFrame(
        confusion_matrix(y_test, model.predict(x_test)),
        index=labels.rename("true"), columns=labels.rename("predicted")))


def _breast_cancer_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = datasets.load_breast_cancer(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.25, random_state=0,
                                   stratify=frame["target"])
    return train, test


TIMES = ["mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"]


def check_grid_search(out: Outcome) -> None:
    assert out.result.status == "ok"
    train, test = _breast_cancer_split()
    x, y = train.drop(columns="target"), train["target"]
    grid = {"logisticregression__C": [0.01, 0.1, 1.0, 10.0, 100.0]}
    searched = GridSearchCV(_scaled_logistic(), grid, scoring="accuracy", cv=5).fit(x, y)

    expected = pd.DataFrame(searched.cv_results_).drop(columns=TIMES)
    results = _only(out.edges, "search.results->save_results.data")
    pd.testing.assert_frame_equal(results.drop(columns=TIMES), expected)
    written = pd.read_csv(out.folder / "out" / "search-results.csv")
    assert list(written.columns) == list(results.columns)
    assert list(written["params"]) == [str(p) for p in searched.cv_results_["params"]]
    for column in ["mean_test_score", "std_test_score", "rank_test_score",
                   *[f"split{i}_test_score" for i in range(5)]]:
        assert list(written[column]) == list(expected[column])

    [best] = out.shown["best"]
    assert best == {"params": searched.best_params_, "score": searched.best_score_}
    assert best["params"] == {"logisticregression__C": 0.1}
    [metrics] = out.shown["test_metrics"]
    x_test, y_test = test.drop(columns="target"), test["target"]
    assert metrics["accuracy"] == searched.score(x_test, y_test)
    assert metrics["rows"] == len(test)

    # ml.cross_validate of the settings the search picked: the same folds, the same scores
    names = ["accuracy", "roc_auc", "neg_log_loss"]
    crossed = cross_validate(_scaled_logistic(C=0.1), x, y, cv=StratifiedKFold(5),
                             scoring=names)
    folds = _only(out.edges, "crossval.folds->folds.data")
    pd.testing.assert_frame_equal(
        folds.drop(columns=["fit_time", "score_time"]),
        pd.DataFrame({"fold": range(5), **{f"test_{n}": crossed[f"test_{n}"] for n in names}}))
    [summary] = out.shown["summary"]
    assert summary == {key: value for n in names for key, value in [
        (f"{n}_mean", float(np.mean(crossed[f"test_{n}"]))),
        (f"{n}_std", float(np.std(crossed[f"test_{n}"])))]}
    assert list(folds["test_accuracy"]) == [searched.cv_results_[f"split{i}_test_score"][1]
                                            for i in range(5)]


def check_feature_engineering(out: Outcome) -> None:
    assert out.result.status == "ok"
    frame = datasets.load_diabetes(as_frame=True).frame
    banded = frame.assign(bmi_band=frame.eval("bmi // 0.05"))
    train, test = train_test_split(banded, test_size=0.25, random_state=0)
    # the statistics come from the training rows only: nothing of the test rows leaks in
    stats = train.groupby("bmi_band").agg(
        band_bp_mean=("bp", "mean"), band_s5_mean=("s5", "mean"), band_s5_std=("s5", "std"),
        band_rows=("bmi", "size"))
    [shown_stats] = out.shown["stats"]
    pd.testing.assert_frame_equal(shown_stats, stats)
    assert len(stats) > 3 and stats["band_rows"].sum() == len(train)

    def joined_and_derived(part: pd.DataFrame, side: str) -> pd.DataFrame:
        joined = part.merge(stats, on="bmi_band", how="left")
        joined.index = part.index  # pandas numbers merged rows; frame.join keeps the left ids
        pd.testing.assert_frame_equal(_only(out.edges, f"join_{side}.data->derive_{side}.data"),
                                      joined)
        return joined.assign(
            bp_vs_band=joined["bp"] - joined["band_bp_mean"],
            s5_z=(joined["s5"] - joined["band_s5_mean"]) / joined["band_s5_std"],
            bmi_bp=joined["bmi"] * joined["bp"])

    train_x = joined_and_derived(train, "train")
    test_x = joined_and_derived(test, "test")
    pd.testing.assert_frame_equal(_only(out.edges, "derive_train.data->fit.data"), train_x)
    model = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(
        train_x.drop(columns="target"), train_x["target"])
    predicted = model.predict(test_x.drop(columns="target"))
    scored = _only(out.edges, "predict.data->score.data")
    pd.testing.assert_frame_equal(scored, test_x.assign(prediction=predicted))
    [metrics] = out.shown["metrics"]
    assert metrics == {"name": "score", "r2": r2_score(test["target"], predicted),
                       "mae": mean_absolute_error(test["target"], predicted),
                       "rmse": root_mean_squared_error(test["target"], predicted),
                       "rows": len(test)}


def check_confidence_routing(out: Outcome) -> None:
    assert out.result.status == "ok"
    features, target = datasets.make_classification(n_samples=6000, n_features=10,
                                                     n_informative=6, random_state=0)
    frame = pd.DataFrame(features, columns=[f"feature_{i}" for i in range(10)])
    frame["target"] = target
    train, test = train_test_split(frame, test_size=0.5, random_state=0)
    model = _scaled_logistic().fit(train.drop(columns="target"), train["target"])
    proba = model.predict_proba(test.drop(columns="target"))
    scored = test.assign(prediction=model.predict(test.drop(columns="target")),
                         proba_0=proba[:, 0], proba_1=proba[:, 1],
                         confidence=proba.max(axis=1))
    sure = scored["confidence"] >= 0.9
    assert 0.2 < sure.mean() < 0.8  # both branches carry a real share of the rows

    chunks = [chunk for _, chunk in out.edges["predict.data->route.data"]]
    assert [len(c) for c in chunks] == [500] * 6
    pd.testing.assert_frame_equal(pd.concat(chunks), scored)
    for port, expected, name in [("confident", scored[sure], "confident"),
                                 ("otherwise", scored[~sure], "unsure")]:
        routed = pd.concat(c for _, c in out.edges[f"route.{port}->save_{name}.data"])
        pd.testing.assert_frame_equal(routed, expected)
        written = pd.read_csv(out.folder / "out" / f"{name}.csv", index_col=0)
        pd.testing.assert_frame_equal(written, expected)
        assert out.shown[f"{name}_rows"] == [len(expected)]
    assert out.shown["rows_in"] == [len(test)]
    assert out.shown["confident_rows"][0] + out.shown["unsure_rows"][0] == len(test)


def check_test_and_score(out: Outcome) -> None:
    assert out.result.status == "ok"
    train, test = _breast_cancer_split()
    x, y = train.drop(columns="target"), train["target"]
    models = {"logistic": _scaled_logistic(),
              "forest": RandomForestClassifier(n_estimators=100, random_state=0),
              "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))}
    names = ["balanced_accuracy", "roc_auc", "neg_log_loss"]
    folds = StratifiedKFold(5)
    scores = {name: cross_validate(model, x, y, cv=folds, scoring=names)
              for name, model in models.items()}
    expected = pd.DataFrame.from_dict(
        {name: {n: float(np.mean(result[f"test_{n}"])) for n in names}
         for name, result in scores.items()}, orient="index", columns=names)
    expected.index.name = "estimator"
    expected["best"] = expected.index == expected["balanced_accuracy"].idxmax()
    [table] = out.shown["table"]
    pd.testing.assert_frame_equal(table, expected)

    winner = str(expected["balanced_accuracy"].idxmax())
    assert winner == "logistic"
    best = _only(out.edges, "evaluate.best->predict.model")
    assert best.edgewise_name_ == winner
    model = models[winner].fit(x, y)
    x_test = test.drop(columns="target")
    predicted = _only(out.edges, "predict.data->score.data")
    pd.testing.assert_frame_equal(predicted, test.assign(prediction=model.predict(x_test)))
    [metrics] = out.shown["test_metrics"]
    assert metrics == {"name": "best on test", "rows": len(test),
                       "balanced_accuracy": get_scorer("balanced_accuracy")(model, x_test,
                                                                             test["target"]),
                       "accuracy": model.score(x_test, test["target"])}

    # each row of 'predictions' is predicted by the model of its test fold
    fold_predictions = _only(out.edges, "evaluate.predictions->fold_predictions.data")
    pd.testing.assert_frame_equal(fold_predictions, train.assign(**{
        name: cross_val_predict(model, x, y, cv=folds) for name, model in models.items()}))


def check_supervised_scoring(out: Outcome) -> None:
    assert out.result.status == "ok", out.result.first_error
    data = out.folder / "data" / "supervised"
    early, late = pd.read_csv(data / "train_early.csv"), pd.read_csv(data / "train_late.csv")
    stream, labels = pd.read_csv(data / "stream.csv"), pd.read_csv(data / "labels.csv")
    x = stream.drop(columns="id")
    fitted = {name: LogisticRegression(max_iter=1000).fit(frame.drop(columns="target"),
                                                          frame["target"])
              for name, frame in (("champion", early), ("challenger", late))}
    old = model_label(_only(out.edges, "champion.model->serve.champion"), None)
    new = model_label(_only(out.edges, "challenger.model->serve.challenger"), None)
    estimator = {old: fitted["champion"], new: fitted["challenger"]}

    # every row served once, in order: by the champion, then, from the promotion on, by
    # the challenger; never before the rows that proved it better were graded (to 3,499)
    scored = pd.read_csv(out.folder / "out" / "scored.csv")
    assert list(scored["id"]) == list(range(6000))
    switch = int(np.argmax(scored["model"].to_numpy() == new))
    assert 3500 <= switch
    assert list(scored["model"]) == [old] * switch + [new] * (6000 - switch)
    assert list(scored["prediction"]) == list(np.where(
        np.arange(6000) < switch, fitted["champion"].predict(x), fitted["challenger"].predict(x)))

    # one decision: the promotion, on the second window after the concept changed at row
    # 3,000 (windows of 250 labelled rows: 12 and 13), with those windows as its evidence
    [decision] = [frame.iloc[0] for frame in out.shown["decisions"]]
    assert (decision["action"], decision["from"], decision["to"], decision["window"]) == (
        "promote", old, new, 13)
    graded = dict(out.edges["monitor.metrics->supervisor.metrics"])
    assert {(graded[i].iloc[0]["window"], graded[i].iloc[0]["model"])
            for i in decision["evidence"]} == {(12, new), (12, old), (13, new), (13, old)}

    # each window's accuracy is scikit-learn's on exactly its rows, for the model it names
    for window in graded.values():
        row = window.iloc[0]
        rows = slice(int(row["first_row"]), int(row["last_row"]) + 1)
        assert row["rows"] == 250
        assert row["accuracy"] == accuracy_score(
            labels["target"].iloc[rows], estimator[row["model"]].predict(x.iloc[rows]))

    # the inputs drifted too: x3 from the first window wholly past row 3,000, never before
    reports = [frame.iloc[0] for frame in out.shown["drift_report"]]
    assert [r["window"] for r in reports] == list(range(24))
    assert [bool(r["drift"]) for r in reports] == [False] * 12 + [True] * 12
    assert all("x3" in r["drifted"].split(",") for r in reports[12:])


def check_serve_model(out: Outcome) -> None:
    # served with `edgewise serve` (tests/serve); a plain run fits the model, then says so
    assert out.result.status == "errors"
    assert out.result.nodes["fit"].fired == 1
    assert "edgewise serve" in str(out.result.first_error)


CHECKS: dict[str, Callable[[Outcome], None]] = {
    "iris.json": check_iris,
    "streaming-scoring.json": check_streaming_scoring,
    "dead-letter.json": check_dead_letter,
    "scaled-pipeline.json": check_scaled_pipeline,
    "grid-search.json": check_grid_search,
    "feature-engineering.json": check_feature_engineering,
    "confidence-routing.json": check_confidence_routing,
    "test-and-score.json": check_test_and_score,
    "serve-model.json": check_serve_model,
    "supervised-scoring.json": check_supervised_scoring,
}


def test_there_are_example_flows() -> None:
    assert {f.name for f in FLOW_FILES} >= set(CHECKS)


@pytest.mark.parametrize("flow_file", FLOW_FILES, ids=[f.stem for f in FLOW_FILES])
def test_example_flow_validates_and_runs(flow_file: Path, tmp_path: Path) -> None:
    assert flow_file.name in CHECKS, f"add the expected outputs of {flow_file.name} to CHECKS"
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder, ignore=shutil.ignore_patterns("out", ".*"))
    path = folder / flow_file.name

    assert runtime.validate(path) == []

    run = runtime.Run(runtime.plan(path))
    shown: dict[str, list[Any]] = {}
    edges: dict[str, list[tuple[int, Any]]] = {}
    run.on_display(lambda node, batch: shown.setdefault(node, []).extend(batch.values))
    run.hooks.add("emitted", lambda edge, batch: edges.setdefault(edge, []).extend(
        zip(batch.ids, batch.values, strict=True)))
    result = run.run()

    CHECKS[flow_file.name](Outcome(folder=folder, result=result, shown=shown, edges=edges))
    leftovers = [p for p in folder.rglob("*") if p.name.endswith(".partial")]
    assert leftovers == []
