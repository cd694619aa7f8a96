"""The ``ml`` monitoring components: ml.drift and ml.monitor, against scipy and scikit-learn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score

import components.ml_monitor as family
import runtime
from runtime._collector import RunContext
from runtime._firing import FiringRule
from runtime._messages import Batch
from runtime._record.diff import EdgeDiff, _compare_frames
from runtime.runs import Lineage, list_runs
from runtime.testing import MemorySink, memory_source
from tests.flowkit import make_flow, make_run, run_guarded

FAMILY_MODULE = "components.ml_monitor"
if runtime.default_registry().get("ml.drift") is None:  # until the entry point is installed
    runtime.default_registry().add_module(family)

CONTRACT: dict[str, dict[str, Any]] = {
    "ml.drift": {
        "inputs": {"data": ("DataFrame", "stream"), "reference": ("DataFrame", "latest")},
        "outputs": {"report": "DataFrame"},
        "required": set(),
        "defaults": {"window_rows": 500, "columns": None, "exclude": [], "psi_threshold": 0.25,
                     "psi_warn": 0.1, "ks_threshold": 0.2, "bins": 10},
    },
    "ml.monitor": {
        "inputs": {"predictions": ("DataFrame", "stream"), "labels": ("DataFrame", "stream")},
        "outputs": {"metrics": "DataFrame"},
        "required": {"target"},
        "defaults": {"prediction": "prediction", "key": None, "max_wait_rows": 10_000,
                     "window_rows": 500, "metrics": None, "task": "auto"},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
 ) = contract_tests(FAMILY_MODULE, CONTRACT)

SOURCES = [memory_source(f"mon.{name}", [None]) for name in ("a", "b", "c")]


class Node:
    """The firing rule of one ml.drift or ml.monitor node, fed frames in a chosen order."""

    def __init__(self, component_id: str, params: dict[str, Any], ports: list[str]) -> None:
        nodes: dict[str, Any] = {"n": (component_id, params)}
        edges = []
        for index, port in enumerate(ports):  # a port named twice gets two edges (fan-in)
            nodes[f"s{index}"] = SOURCES[index].id
            edges.append(f"s{index}.data->n.{port}")
        registry = runtime.default_registry().with_components(*SOURCES)
        plan = runtime.plan(make_flow(nodes, edges), registry=registry)
        self.rule = FiringRule(plan.nodes["n"], RunContext())
        self.rule.start()
        self.next_id = 1
        self.out: list[pd.DataFrame] = []
        self.errors: list[Any] = []

    @property
    def component(self) -> Any:
        assert self.rule.instance is not None
        return self.rule.instance.call

    def _keep(self, out: dict[str, Batch]) -> list[pd.DataFrame]:
        self.errors += out["error"].values if "error" in out else []
        made = [v for port, b in out.items() if port != "error" for v in b.values]
        self.out += made
        return made

    def feed(self, port: str, value: Any) -> list[pd.DataFrame]:
        """Give one message to ``port``; return what the node emitted."""
        batch = Batch(f"x.{port}", [self.next_id], [()], [value])
        self.next_id += 1
        return self._keep(self.rule.process([(port, batch)]))

    def finish(self) -> list[pd.DataFrame]:
        return self._keep(self.rule.finish())


def chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)]


# -- ml.drift -----------------------------------------------------------------------------

def psi_formula(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """PSI written out: quantile bins of the reference, open at both ends, shares >= 1e-6."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.maximum(np.histogram(expected, edges)[0] / len(expected), 1e-6)
    a = np.maximum(np.histogram(actual, edges)[0] / len(actual), 1e-6)
    return float(sum((a - e) * np.log(a / e)))


def categorical_formula(expected: pd.Series, actual: pd.Series) -> float:
    """Categorical PSI written out: the reference's categories, then one 'other' bucket."""
    categories = sorted(set(expected))
    e = [float((expected == c).mean()) for c in categories] + [0.0]
    a = [float((actual == c).mean()) for c in categories]
    a.append(1.0 - sum(a))
    total = 0.0
    for pe, pa in zip(e, a, strict=True):
        pe, pa = max(pe, 1e-6), max(pa, 1e-6)
        total += (pa - pe) * np.log(pa / pe)
    return total


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"x": rng.normal(size=2000), "y": rng.exponential(size=2000),
                         "n": rng.integers(0, 5, size=2000),
                         "c": rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=2000),
                         "target": rng.integers(0, 2, size=2000)})


def test_drift_statistics_are_the_diffs_and_scipys(reference: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    stream = pd.DataFrame({"x": rng.normal(0.3, 1.2, size=700), "y": rng.exponential(size=700),
                           "n": rng.integers(0, 6, size=700),
                           "c": rng.choice(["a", "b", "d"], size=700),
                           "target": rng.integers(0, 2, size=700)},
                          index=pd.RangeIndex(5000, 5700))
    stream.loc[5003, "x"] = np.nan  # dropped, as the diff drops it
    node = Node("ml.drift", {"window_rows": 300, "exclude": ["target"]}, ["data", "reference"])
    node.feed("reference", reference)
    for part in chunks(stream, 130):  # windows span the incoming frames
        node.feed("data", part)
    node.finish()
    assert node.errors == []
    assert [r["window"].item() for r in node.out] == [0, 1, 2]
    assert [r["rows"].item() for r in node.out] == [300, 300, 100]  # the last one is partial
    for report, start in zip(node.out, (0, 300, 600), strict=True):
        window = stream.iloc[start:start + 300]
        assert report["first_row"].item() == window.index[0]
        assert report["last_row"].item() == window.index[-1]
        assert list(report.columns) == ["window", "rows", "first_row", "last_row", "psi:x",
                                        "psi:y", "psi:n", "psi:c", "ks:x", "ks:y", "ks:n",
                                        "drifted", "drift", "warned"]
        for column in ("x", "y", "n"):
            ref, new = reference[column].to_numpy(float), window[column].dropna().to_numpy(float)
            assert report[f"ks:{column}"].item() == stats.ks_2samp(ref, new).statistic
            assert report[f"psi:{column}"].item() == pytest.approx(psi_formula(ref, new),
                                                                   rel=1e-12)
        assert report["psi:c"].item() == pytest.approx(
            categorical_formula(reference["c"], window["c"]), rel=1e-12)
        # and exactly what `edgewise diff` reports for the same two frames
        diff = EdgeDiff(edge="e", in_a=True, in_b=True)
        _compare_frames(diff, reference, window)
        for column in ("x", "y", "n"):
            assert diff.columns[column]["psi"] == round(report[f"psi:{column}"].item(), 6)
            assert diff.columns[column]["ks"] == round(report[f"ks:{column}"].item(), 6)


def test_a_planted_shift_is_flagged_from_the_first_window_mostly_past_it(
        reference: pd.DataFrame) -> None:
    # x shifts by one standard deviation from row 1250 on. Windows of 200 rows: window 6
    # (rows 1200-1399) is the first with most of its rows (150 of 200) past the shift. The
    # bound: windows 0-5 are not flagged, window 6 and every later one are, for x alone.
    rng = np.random.default_rng(3)
    stream = reference.sample(3000, replace=True, random_state=4).reset_index(drop=True)
    stream["x"] = rng.normal(size=3000)
    stream.loc[1250:, "x"] += 1.0
    node = Node("ml.drift", {"window_rows": 200, "columns": ["x", "y", "c"]},
                ["data", "reference"])
    node.feed("reference", reference)
    for part in chunks(stream, 170):
        node.feed("data", part)
    node.finish()
    flags = [r["drift"].item() for r in node.out]
    assert len(flags) == 15 and flags == [False] * 6 + [True] * 9
    assert {r["drifted"].item() for r in node.out[6:]} == {"x"}
    assert all(r["drifted"].item() == "" for r in node.out[:6])


def test_categorical_drift_with_an_unseen_category(reference: pd.DataFrame) -> None:
    rng = np.random.default_rng(5)
    same = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=400)
    moved = rng.choice(["a", "b", "c", "new"], p=[0.2, 0.2, 0.2, 0.4], size=400)
    stream = pd.DataFrame({"c": np.concatenate([same, moved])})
    node = Node("ml.drift", {"window_rows": 400}, ["data", "reference"])
    node.feed("reference", reference)
    node.feed("data", stream)
    node.finish()
    first, second = node.out
    assert list(first.columns) == ["window", "rows", "first_row", "last_row", "psi:c",
                                   "drifted", "drift", "warned"]  # no KS for categories
    assert first["psi:c"].item() == pytest.approx(
        categorical_formula(reference["c"], stream["c"][:400]), rel=1e-12)
    assert second["psi:c"].item() == pytest.approx(
        categorical_formula(reference["c"], stream["c"][400:]), rel=1e-12)
    assert not first["drift"].item() and first["psi:c"].item() < 0.1
    assert second["drift"].item() and second["drifted"].item() == "c"


def test_psi_between_the_bands_is_a_warning_not_drift(reference: pd.DataFrame) -> None:
    node = Node("ml.drift", {"window_rows": 1000, "columns": ["x"], "psi_warn": 0.01,
                             "psi_threshold": 5.0, "ks_threshold": 1.0},
                ["data", "reference"])
    node.feed("reference", reference)
    node.feed("data", reference[["x"]].iloc[:1000] + 0.3)
    [report] = node.out
    assert 0.01 <= report["psi:x"].item() < 5.0
    assert report["warned"].item() == "x" and report["drifted"].item() == ""
    assert not report["drift"].item()


def test_a_missing_column_is_an_error_record_and_the_node_goes_on(
        reference: pd.DataFrame) -> None:
    node = Node("ml.drift", {"window_rows": 10, "columns": ["x", "z"]}, ["data", "reference"])
    node.feed("reference", reference)
    node.feed("data", reference.iloc[:10].assign(z=1.0))
    [error] = node.errors
    assert error.error == "KeyError"
    assert "ml.drift's 'reference' input lacks column(s) ['z']" in error.message
    assert "fix 'columns'" in error.message
    node.feed("reference", reference.assign(z=1.0))
    node.feed("data", reference.iloc[:10].assign(z=1.0))
    assert len(node.out) == 1 and node.out[0]["window"].item() == 1


# -- ml.monitor ---------------------------------------------------------------------------

def predictions(n: int, model: str, message: int, seed: int, *, start: int = 0,
                accuracy: float = 0.8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions of ``model`` for rows start..start+n, and their labels."""
    rng = np.random.default_rng(seed)
    index = pd.RangeIndex(start, start + n)
    truth = rng.integers(0, 3, size=n)
    right = rng.random(n) < accuracy
    guess = np.where(right, truth, (truth + 1) % 3)
    frame = pd.DataFrame({"f": rng.normal(size=n), "prediction": guess, "model": model,
                          "model_message": message}, index=index)
    return frame, pd.DataFrame({"label": truth}, index=index)


def expected(frame: pd.DataFrame, labels: pd.DataFrame, rows: pd.Index) -> dict[str, float]:
    y, p = labels.loc[rows, "label"], frame.loc[rows, "prediction"]
    return {"accuracy": accuracy_score(y, p), "f1_macro": f1_score(y, p, average="macro")}


def test_monitor_scores_each_window_as_sklearn_with_labels_150_rows_late() -> None:
    frame, labels = predictions(1000, "iris:1", 7, seed=1)
    node = Node("ml.monitor", {"target": "label", "window_rows": 200},
                ["predictions", "labels"])
    for i in range(0, 1000, 50):
        node.feed("predictions", frame.iloc[i:i + 50])
        if i >= 150:  # the labels of rows i-150 .. i-100
            node.feed("labels", labels.iloc[i - 150:i - 100])
    node.feed("labels", labels.iloc[850:])
    node.finish()
    assert node.errors == []
    assert [r["window"].item() for r in node.out] == [0, 1, 2, 3, 4]
    for report, start in zip(node.out, range(0, 1000, 200), strict=True):
        rows = frame.index[start:start + 200]
        assert list(report.columns) == ["window", "model", "model_message", "rows",
                                        "unlabelled", "first_row", "last_row", "accuracy",
                                        "f1_macro"]
        row = report.iloc[0].to_dict()
        assert row["model"] == "iris:1" and row["model_message"] == 7
        assert row["rows"] == 200 and row["unlabelled"] == 0
        assert (row["first_row"], row["last_row"]) == (rows[0], rows[-1])
        want = expected(frame, labels, rows)
        assert row["accuracy"] == want["accuracy"] and row["f1_macro"] == want["f1_macro"]


def test_labels_that_come_first_wait_for_their_predictions() -> None:
    frame, labels = predictions(300, "m:1", 3, seed=2)
    node = Node("ml.monitor", {"target": "label", "window_rows": 100, "metrics": ["accuracy"]},
                ["predictions", "labels"])
    node.feed("labels", labels)
    for part in chunks(frame, 70):
        node.feed("predictions", part)
    node.finish()
    assert [r["rows"].item() for r in node.out] == [100, 100, 100]
    for report, start in zip(node.out, (0, 100, 200), strict=True):
        rows = frame.index[start:start + 100]
        assert report["accuracy"].item() == expected(frame, labels, rows)["accuracy"]


def test_missing_labels_are_counted_and_the_wait_is_bounded() -> None:
    frame, labels = predictions(1000, "m:1", 3, seed=3)
    missing = frame.index[::7]  # every 7th row never gets a label
    given = labels.drop(missing)
    node = Node("ml.monitor", {"target": "label", "window_rows": 250, "max_wait_rows": 40},
                ["predictions", "labels"])
    for i in range(0, 1000, 20):
        node.feed("predictions", frame.iloc[i:i + 20])
        node.feed("labels", given.loc[i:i + 19])
        assert node.component.join.kept()[0] <= 40
    node.finish()
    joined = frame.index.difference(missing)
    assert sum(r["rows"].item() for r in node.out) == len(joined)
    assert node.out[-1]["unlabelled"].item() == len(missing)
    assert [r["unlabelled"].item() for r in node.out] == sorted(
        r["unlabelled"].item() for r in node.out)  # a running count
    start = 0
    for report in node.out:
        rows = joined[start:start + report["rows"].item()]
        start += len(rows)
        assert report["accuracy"].item() == expected(frame, labels, rows)["accuracy"]


def test_a_long_stream_without_labels_keeps_at_most_max_wait_rows() -> None:
    node = Node("ml.monitor", {"target": "label", "window_rows": 5, "max_wait_rows": 100},
                ["predictions", "labels"])
    frame, labels = predictions(20_000, "m:1", 3, seed=4)
    for part in chunks(frame, 500):
        node.feed("predictions", part)
        assert node.component.join.kept() == (100, 0)
    assert node.out == []
    node.feed("labels", labels.iloc[-12:])  # the last twelve rows are still waiting
    node.finish()
    assert [(r["rows"].item(), r["unlabelled"].item()) for r in node.out] == [
        (5, 19_900), (5, 19_900),
        (2, 19_988)]  # at the end the 88 predictions still waiting are given up too
    assert node.component.join.kept() == (0, 12)


def test_shadow_models_interleaved_get_windows_of_their_own() -> None:
    champion, labels = predictions(600, "m:1", 3, seed=5, accuracy=0.9)
    challenger, _ = predictions(600, "m:2", 4, seed=5, accuracy=0.6)
    challenger["prediction"] = np.where(np.random.default_rng(6).random(600) < 0.5,
                                        labels["label"], challenger["prediction"])
    node = Node("ml.monitor", {"target": "label", "window_rows": 200},
                ["predictions", "predictions", "labels"])
    for i in range(0, 600, 100):
        node.feed("predictions", champion.iloc[i:i + 100])
        node.feed("predictions", challenger.iloc[i:i + 100])
        if i:
            node.feed("labels", labels.iloc[i - 100:i])
    node.feed("labels", labels.iloc[500:])
    node.finish()
    by_model: dict[str, list[pd.DataFrame]] = {}
    for report in node.out:
        by_model.setdefault(report["model"].item(), []).append(report)
    assert sorted(by_model) == ["m:1", "m:2"]
    for model, frame in (("m:1", champion), ("m:2", challenger)):
        reports = by_model[model]
        assert [r["window"].item() for r in reports] == [0, 1, 2]
        assert {r["model_message"].item() for r in reports} == {3 if model == "m:1" else 4}
        for report, start in zip(reports, (0, 200, 400), strict=True):
            rows = frame.index[start:start + 200]
            want = expected(frame, labels, rows)
            assert report["accuracy"].item() == want["accuracy"]
            assert report["f1_macro"].item() == want["f1_macro"]
    assert by_model["m:1"][0]["accuracy"].item() != by_model["m:2"][0]["accuracy"].item()


def test_a_key_column_joins_rows_whose_ids_differ() -> None:
    frame, labels = predictions(300, "m:1", 3, seed=7)
    frame["order"] = [f"o{i}" for i in range(300)]
    labels = labels.assign(order=frame["order"]).sample(frac=1.0, random_state=8)
    labels.index = pd.RangeIndex(9000, 9300)  # the label rows have ids of their own
    node = Node("ml.monitor", {"target": "label", "key": "order", "window_rows": 300},
                ["predictions", "labels"])
    node.feed("predictions", frame)
    node.feed("labels", labels)
    [report] = node.out
    by_order = labels.set_index("order")["label"]
    assert report["rows"].item() == 300
    # rows join in the order their labels arrive; the row ids are the predictions' own
    row_of = pd.Series(frame.index, index=frame["order"])
    assert report["first_row"].item() == row_of[labels["order"].iloc[0]]
    assert report["last_row"].item() == row_of[labels["order"].iloc[-1]]
    truth = by_order.loc[frame["order"]].to_numpy()
    assert report["accuracy"].item() == accuracy_score(truth, frame["prediction"])


def test_a_key_column_missing_from_an_input_is_an_error_record_naming_it() -> None:
    frame, labels = predictions(100, "m:1", 3, seed=7)
    node = Node("ml.monitor", {"target": "label", "key": "order", "window_rows": 50},
                ["predictions", "labels"])
    node.feed("predictions", frame)
    [error] = node.errors
    assert error.error == "KeyError" and node.out == []
    assert "ml.monitor's 'predictions' input lacks column(s) ['order']" in error.message
    assert "set 'key'" in error.message


def test_a_value_that_is_no_dataframe_is_an_error_record_naming_the_input() -> None:
    node = Node("ml.drift", {"window_rows": 10}, ["data", "reference"])
    node.feed("reference", {"x": [1.0, 2.0]})
    node.feed("data", pd.DataFrame({"x": [1.0]}))
    [error] = node.errors
    assert error.error == "TypeError"
    assert "ml.drift's 'reference' input needs a DataFrame (the training rows), not dict" \
        in error.message


def test_a_regression_is_scored_with_r2_and_mae() -> None:
    rng = np.random.default_rng(9)
    truth = rng.normal(size=400)
    frame = pd.DataFrame({"prediction": truth + rng.normal(0, 0.3, size=400), "model": "r:1",
                          "model_message": 2})
    node = Node("ml.monitor", {"target": "y", "window_rows": 400}, ["predictions", "labels"])
    node.feed("predictions", frame)
    node.feed("labels", pd.DataFrame({"y": truth}))
    [report] = node.out
    assert report["r2"].item() == r2_score(truth, frame["prediction"])
    assert report["mae"].item() == mean_absolute_error(truth, frame["prediction"])


def test_predictions_without_a_model_column_are_an_error_record_and_the_node_goes_on() -> None:
    frame, labels = predictions(100, "m:1", 3, seed=10)
    node = Node("ml.monitor", {"target": "label", "window_rows": 50}, ["predictions", "labels"])
    node.feed("predictions", frame.drop(columns="model"))
    node.feed("labels", labels.drop(columns="label"))
    assert [e.error for e in node.errors] == ["KeyError", "KeyError"]
    assert "'model' and 'model_message' columns" in node.errors[0].message
    assert "'labels' input lacks column(s) ['label']" in node.errors[1].message
    node.feed("predictions", frame)
    node.feed("labels", labels)
    assert [r["rows"].item() for r in node.out] == [50, 50]


def test_a_window_that_cannot_be_scored_is_an_error_record_and_the_next_ones_are_not() -> None:
    rng = np.random.default_rng(12)
    truth = rng.normal(size=300)
    frame = pd.DataFrame({"prediction": truth + 0.5, "model": "r:1", "model_message": 2})
    node = Node("ml.monitor", {"target": "y", "window_rows": 100, "metrics": ["accuracy"]},
                ["predictions", "labels"])
    node.feed("predictions", frame)
    node.feed("labels", pd.DataFrame({"y": truth}))  # accuracy of real numbers: refused
    [error] = node.errors
    assert error.error == "ValueError" and node.out == []
    assert "scoring window 0 of model 'r:1' (100 rows, rows 0 to 99)" in error.message
    assert "check 'metrics'" in error.message


def test_labels_that_are_missing_are_not_labels() -> None:
    frame, labels = predictions(100, "m:1", 3, seed=13)
    node = Node("ml.monitor", {"target": "label", "window_rows": 1000},
                ["predictions", "labels"])
    node.feed("predictions", frame)
    gaps = labels.astype(float)
    gaps.loc[:29, "label"] = np.nan
    node.feed("labels", gaps)
    node.finish()
    [report] = node.out
    assert (report["rows"].item(), report["unlabelled"].item()) == (70, 30)
    assert report["accuracy"].item() == expected(frame, labels, frame.index[30:])["accuracy"]


def test_a_flow_run_joins_a_shadow_pair_and_late_labels_end_to_end() -> None:
    champion, labels = predictions(400, "m:1", 3, seed=11, accuracy=0.9)
    challenger, _ = predictions(400, "m:2", 4, seed=11, accuracy=0.5)
    specs = [memory_source("e2e.champion", chunks(champion, 64)),
             memory_source("e2e.challenger", chunks(challenger, 64)),
             memory_source("e2e.labels", chunks(labels, 100))]
    sink = MemorySink("e2e.sink")
    run = make_run({"c": "e2e.champion", "s": "e2e.challenger", "l": "e2e.labels",
                    "m": ("ml.monitor", {"target": "label", "window_rows": 1000}),
                    "k": sink.spec.id},
                   ["c.data->m.predictions", "s.data->m.predictions", "l.data->m.labels",
                    "m.metrics->k.data"], [*specs, sink.spec])
    sink.watch(run, ["m.metrics->k.data"])
    result = run_guarded(run)
    assert result.status == "ok" and result.nodes["m"].errors == 0
    got = {r["model"].item(): r for r in sink.values}
    for model, frame in (("m:1", champion), ("m:2", challenger)):
        assert got[model]["rows"].item() == 400 and got[model]["unlabelled"].item() == 0
        assert got[model]["accuracy"].item() == accuracy_score(labels["label"],
                                                               frame["prediction"])


def test_a_kept_drift_report_traces_back_to_every_data_message_of_its_window(
        tmp_path: Path, reference: pd.DataFrame) -> None:
    sizes = [30, 30, 0, 30, 30, 30, 30, 30]  # windows of 100: rows 0-99, 100-199, 200-209
    data = reference[["x", "c"]].iloc[:sum(sizes)].assign(x=lambda f: f["x"] + 0.5)
    starts = np.cumsum([0, *sizes])
    specs = [memory_source("lin.data", [data.iloc[a:a + n] for a, n in zip(
                 starts, sizes, strict=False)]),
             memory_source("lin.reference", [reference[["x", "c"]]])]
    run = make_run({"r": "lin.reference", "s": "lin.data",
                    "d": ("ml.drift", {"window_rows": 100})},
                   ["r.data->d.reference", "s.data->d.data"], specs)
    recorder = runtime.record_run(run, tmp_path)
    assert run_guarded(run).status == "ok"

    [store] = [r for r in list_runs(tmp_path) if r.id == recorder.run_id]
    sent = [m.id for m in store.messages("s.data")]
    [kept_reference] = [m.id for m in store.messages("r.data")]
    # the empty message (sent[2]) has no rows in any window; sent[4] and sent[7] are split
    holding = [[sent[0], sent[1], sent[3], sent[4]], [sent[4], sent[5], sent[6], sent[7]],
               [sent[7]]]
    lineage = Lineage(store)
    reports = list(store.messages("d.report"))
    assert [lineage.value(m.id)["rows"].item() for m in reports] == [100, 100, 10]
    for report, window in zip(reports, holding, strict=True):
        traced = {step.message.id for step in lineage.trace(report.id)}
        assert traced == {report.id, kept_reference, *window}


# -- settings ------------------------------------------------------------------------------

@pytest.mark.parametrize(("component_id", "params", "param", "words"), [
    ("ml.drift", {"psi_warn": 0.3}, "psi_warn", "must be below psi_threshold"),
    ("ml.drift", {"columns": ["a"], "exclude": ["a"]}, "exclude", "both compared"),
    ("ml.drift", {"window_rows": 0}, "window_rows", "greater than or equal to 1"),
    ("ml.drift", {"bins": 1}, "bins", "greater than or equal to 2"),
    ("ml.drift", {"ks_threshold": 1.5}, "ks_threshold", "less than or equal to 1"),
    ("ml.monitor", {"target": "y", "metrics": ["acuracy"]}, "metrics",
     "unknown metric 'acuracy'"),
    ("ml.monitor", {"target": "y", "prediction": "y"}, "prediction", "different columns"),
    ("ml.monitor", {"target": "y", "max_wait_rows": 0}, "max_wait_rows",
     "greater than or equal to 1"),
    ("ml.monitor", {}, "target", "required"),
])
def test_bad_settings_are_validation_problems(component_id: str, params: dict[str, Any],
                                              param: str, words: str) -> None:
    problems = param_problems(component_id, params)
    assert [p.param for p in problems] == [param], problems
    assert words in problems[0].message
