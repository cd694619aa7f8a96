"""``ml.serve`` against scikit-learn: champion, shadow and canary modes, routing, containment."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from contract import contract_tests, param_problems
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import components.ml_serve as ml_serve
import runtime
from components._model_label import tag_model
from runtime.testing import ComponentRun, memory_source, run_component
from tests.flowkit import make_flow

FAMILY_MODULE = "components.ml_serve"
PREDICTING = {"column": "prediction", "probabilities": False}
CONTRACT: dict[str, dict[str, Any]] = {
    "ml.serve": {
        "inputs": {"data": ("DataFrame", "stream"), "champion": ("Model", "latest"),
                   "challenger": ("Model", "latest")},
        "outputs": {"data": "DataFrame", "shadow": "DataFrame"},
        "required": set(),
        "dynamic_sides": ["inputs"],
        "defaults": {"mode": "champion", "canary_percent": 10, **PREDICTING},
    },
}
if runtime.default_registry().get("ml.serve") is None:  # until the entry point is installed
    runtime.default_registry().add_module(ml_serve)

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)

MODES = ["champion", "shadow", "canary"]
ROOT = Path(__file__).resolve().parents[2]


class Broken(ClassifierMixin, BaseEstimator):
    """A fitted-looking classifier whose predictions always raise."""

    def fit(self, x: Any, y: Any) -> Broken:
        self.classes_ = np.unique(y)
        return self

    def predict(self, x: Any) -> Any:
        msg = "this model is broken on purpose"
        raise ValueError(msg)


def blake_share(row: Any) -> float:
    """Where a row id falls in [0, 1): the documented rule, written out again here."""
    digest = hashlib.blake2b(repr(row).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, list[str], Any, Any]:
    frame = load_iris(as_frame=True).frame.sample(frac=1, random_state=0)
    features = [c for c in frame.columns if c != "target"]
    champion = tag_model(LogisticRegression(max_iter=500).fit(frame[features],
                                                              frame["target"]), "iris", 1)
    challenger = tag_model(LogisticRegression(max_iter=500, C=0.05).fit(
        frame[features], frame["target"]), "iris", 2)
    return frame, features, champion, challenger


@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, list[str], Any, Any]:
    frame = load_diabetes(as_frame=True).frame
    features = [c for c in frame.columns if c != "target"]
    champion = tag_model(LinearRegression().fit(frame[features], frame["target"]), "sugar", 3)
    challenger = tag_model(Ridge(alpha=2.0).fit(frame[features], frame["target"]), "sugar", 4)
    return frame, features, champion, challenger


def serve(batches: list[pd.DataFrame], champion: Any, challenger: Any = None,
          **params: Any) -> ComponentRun:
    inputs: dict[str, list[Any]] = {"data": batches, "champion": [champion]}
    if challenger is not None:
        inputs["challenger"] = [challenger]
    return run_component("ml.serve", inputs, params)


def by_sklearn(rows: pd.DataFrame, features: list[str], model: Any, label: str,
               message: int, *, probabilities: bool = False) -> pd.DataFrame:
    """What the equivalent scikit-learn code gives: predict (and predict_proba), then the model."""
    out = rows.assign(prediction=model.predict(rows[features]))
    if probabilities:
        proba = model.predict_proba(rows[features])
        for index, label_ in enumerate(model.classes_):
            out[f"proba_{label_}"] = proba[:, index]
        out["confidence"] = proba.max(axis=1)
    return out.assign(model=label, model_message=message)


def model_messages(frames: list[pd.DataFrame]) -> dict[str, int]:
    """The message id each model label was scored with (one per label)."""
    both = pd.concat(frames)
    pairs = set(zip(both["model"], both["model_message"], strict=True))
    found = dict(pairs)
    assert len(found) == len(pairs), f"a label with several messages: {pairs}"
    return {str(k): int(v) for k, v in found.items()}


def in_batches(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)]


def expected_served(batch: pd.DataFrame, features: list[str], mode: str, percent: float,
                    champion: tuple[Any, str], challenger: tuple[Any, str],
                    ids: dict[str, int], *, probabilities: bool = False) -> pd.DataFrame:
    """The rows of a batch as scikit-learn answers them: the canary share by the challenger."""
    to_challenger = np.array([blake_share(r) < percent / 100 for r in batch.index.tolist()]
                             if mode == "canary" else [False] * len(batch), dtype=bool)
    parts = [by_sklearn(batch[~to_challenger], features, champion[0], champion[1],
                        ids[champion[1]], probabilities=probabilities)]
    if to_challenger.any():
        parts.append(by_sklearn(batch[to_challenger], features, challenger[0], challenger[1],
                                ids[challenger[1]], probabilities=probabilities))
    return pd.concat(parts).loc[batch.index]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("probabilities", [False, True])
def test_a_classifier_gives_exactly_what_scikit_learn_gives(
        iris: Any, mode: str, probabilities: bool) -> None:
    frame, features, champion, challenger = iris
    batches = in_batches(frame, 40)
    out = serve(batches, champion, challenger, mode=mode, canary_percent=30,
                probabilities=probabilities)
    ids = model_messages(out["data"] + out["shadow"])

    assert out.errors == []
    for batch, served in zip(batches, out["data"], strict=True):
        pd.testing.assert_frame_equal(served, expected_served(
            batch, features, mode, 30, (champion, "iris:1"), (challenger, "iris:2"), ids,
            probabilities=probabilities))
        assert served.attrs.get("edgewise.task") == "classification"  # for ml.score
    if mode == "shadow":
        for batch, shadow in zip(batches, out["shadow"], strict=True):
            pd.testing.assert_frame_equal(shadow, by_sklearn(
                batch, features, challenger, "iris:2", ids["iris:2"],
                probabilities=probabilities))
    else:
        assert out["shadow"] == []


@pytest.mark.parametrize("mode", MODES)
def test_a_regressor_gives_exactly_what_scikit_learn_gives(diabetes: Any, mode: str) -> None:
    frame, features, champion, challenger = diabetes
    batches = in_batches(frame, 100)
    out = serve(batches, champion, challenger, mode=mode, canary_percent=50)
    ids = model_messages(out["data"] + out["shadow"])

    assert out.errors == []
    for batch, served in zip(batches, out["data"], strict=True):
        pd.testing.assert_frame_equal(served, expected_served(
            batch, features, mode, 50, (champion, "sugar:3"), (challenger, "sugar:4"), ids))
        assert served.attrs.get("edgewise.task") == "regression"
    if mode == "shadow":
        pd.testing.assert_frame_equal(pd.concat(out["shadow"]), by_sklearn(
            frame, features, challenger, "sugar:4", ids["sugar:4"]))


def test_shadow_mode_never_changes_the_served_predictions(iris: Any) -> None:
    frame, _features, champion, challenger = iris
    batches = in_batches(frame, 25)
    alone = serve(batches, champion, mode="champion")
    shadowed = serve(batches, champion, challenger, mode="shadow")

    assert len(shadowed["shadow"]) == len(batches)
    for plain, served in zip(alone["data"], shadowed["data"], strict=True):
        # the message ids of two runs differ; everything else is the same to the last digit
        pd.testing.assert_frame_equal(plain.drop(columns="model_message"),
                                      served.drop(columns="model_message"))
        assert set(served["model"]) == {"iris:1"}


def test_canary_routing_is_a_stable_hash_of_the_row_id(iris: Any) -> None:
    frame, _features, champion, challenger = iris
    first = pd.concat(serve(in_batches(frame, 30), champion, challenger,
                            mode="canary", canary_percent=40)["data"])
    shuffled = frame.sample(frac=1, random_state=7)
    again = pd.concat(serve(in_batches(shuffled, 11), champion, challenger,
                            mode="canary", canary_percent=40)["data"])

    assert list(again.index) == list(shuffled.index)  # input order kept, in every batch
    assert again["model"].loc[frame.index].tolist() == first["model"].tolist()
    assert (first["model"] == "iris:2").tolist() == [blake_share(r) < 0.4
                                                     for r in frame.index.tolist()]


def test_canary_routing_is_the_same_in_another_process() -> None:
    rows = pd.Index(list(range(500)) + [f"id-{i}" for i in range(500)])
    here = ml_serve.canary_mask(rows, 25).tolist()
    code = ("import pandas as pd; from components.ml_serve import canary_mask; "
            "rows = pd.Index(list(range(500)) + [f'id-{i}' for i in range(500)]); "
            "print(''.join('1' if x else '0' for x in canary_mask(rows, 25)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT,
                          env={"PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "".join("1" if x else "0" for x in here)


def test_canary_share_is_close_to_the_percent_on_many_rows() -> None:
    rows = pd.RangeIndex(100_000)
    for percent in (1, 10, 50, 99.5):
        share = int(ml_serve.canary_mask(rows, percent).sum())
        expected = len(rows) * percent / 100
        # within five binomial standard deviations of the percent
        assert abs(share - expected) < 5 * (expected * (1 - percent / 100)) ** 0.5 + 1
    assert int(ml_serve.canary_mask(rows, 10).sum()) == 10_172  # fixed by the hash, forever
    assert not ml_serve.canary_mask(rows, 0).any()
    assert ml_serve.canary_mask(rows, 100).all()


def test_a_champion_that_raises_is_answered_for_by_the_challenger(iris: Any) -> None:
    frame, features, _champion, challenger = iris
    broken = tag_model(Broken().fit(frame[features], frame["target"]), "broken", 9)
    batches = in_batches(frame, 50)
    out = serve(batches, broken, challenger, mode="shadow")
    ids = model_messages(out["data"])

    assert out.result.status == "errors"
    assert out.result.nodes["node"].errors == len(batches)
    pd.testing.assert_frame_equal(pd.concat(out["data"]), by_sklearn(
        frame, features, challenger, "iris:2", ids["iris:2"]))
    assert out["shadow"] == []  # the challenger's answers went out on data, not twice
    for record in out.errors:
        assert record.node == "node" and record.component == "ml.serve"
        assert "champion broken:9 failed on 50 row(s): ValueError: this model is broken" in \
            record.message
        assert "the challenger iris:2 answered them instead" in record.message


def test_a_canary_challenger_that_raises_leaves_its_rows_to_the_champion(iris: Any) -> None:
    frame, features, champion, _challenger = iris
    broken = tag_model(Broken().fit(frame[features], frame["target"]), "broken", 9)
    out = serve(in_batches(frame, 50), champion, broken, mode="canary", canary_percent=50)
    ids = model_messages(out["data"])

    pd.testing.assert_frame_equal(pd.concat(out["data"]), pd.concat(
        by_sklearn(b, features, champion, "iris:1", ids["iris:1"])
        for b in in_batches(frame, 50)))
    assert len(out.errors) == 3
    assert all("challenger broken:9 failed" in r.message and "champion iris:1 answered" in
               r.message for r in out.errors)


def test_a_shadow_challenger_that_raises_changes_nothing_served(iris: Any) -> None:
    frame, features, champion, _challenger = iris
    broken = tag_model(Broken().fit(frame[features], frame["target"]), "broken", 9)
    out = serve([frame], champion, broken, mode="shadow")
    ids = model_messages(out["data"])

    pd.testing.assert_frame_equal(out["data"][0], by_sklearn(frame, features, champion,
                                                             "iris:1", ids["iris:1"]))
    assert out["shadow"] == []
    [record] = out.errors
    assert "challenger broken:9 failed on 150 row(s) in shadow" in record.message


def test_when_both_models_raise_the_batch_is_one_error_naming_both(iris: Any) -> None:
    frame, features, _champion, _challenger = iris
    first = tag_model(Broken().fit(frame[features], frame["target"]), "broken", 1)
    second = tag_model(Broken().fit(frame[features], frame["target"]), "broken", 2)
    for mode in MODES:
        out = serve(in_batches(frame, 75), first, second, mode=mode)
        assert out["data"] == [] and out["shadow"] == []
        assert [r.error for r in out.errors] == ["ModelFailedError"] * 2
        for record in out.errors:
            assert "broken:1" in record.message and "broken:2" in record.message
            assert len(record.inputs) == 3  # the data message and both models' messages


def test_shadow_without_a_challenger_says_so_once(iris: Any) -> None:
    frame, features, champion, _challenger = iris
    out = serve(in_batches(frame, 30), champion, mode="shadow")
    ids = model_messages(out["data"])

    pd.testing.assert_frame_equal(pd.concat(out["data"]), by_sklearn(
        frame, features, champion, "iris:1", ids["iris:1"]))
    assert out["shadow"] == []
    [record] = out.errors
    assert "no challenger model (input 'challenger' is not connected" in record.message


def test_rows_need_not_wait_for_a_challenger_that_has_no_model_yet(iris: Any) -> None:
    # Connected, but its source never emits: the champion answers every row meanwhile
    # (by default the rows would wait, and end as an error record at the end).
    frame, features, champion, _challenger = iris
    registry = runtime.default_registry().with_components(
        memory_source("t.rows", in_batches(frame, 50), "DataFrame"),
        memory_source("t.champion", [champion], "Model"),
        memory_source("t.none", [], "Model"))
    flow = make_flow({"rows": "t.rows", "champ": "t.champion", "none": "t.none",
                      "serve": ("ml.serve", {"mode": "shadow", "wait_for_challenger": False}),
                      "n": "stream.count"},
                     ["rows.data->serve.data", "champ.data->serve.champion",
                      "none.data->serve.challenger", "serve.data->n.data"])
    run = runtime.Run(runtime.plan(flow, registry=registry))
    served: list[pd.DataFrame] = []
    run.hooks.add("emitted", lambda edge, batch: edge == "serve.data->n.data" and served.extend(
        batch.values))
    result = run.run()
    assert result.status == "errors"  # only the note that there is no challenger yet
    assert result.nodes["serve"].errors == 1
    pd.testing.assert_frame_equal(pd.concat(served).drop(columns=["model", "model_message"]),
                                  frame.assign(prediction=champion.predict(frame[features])))


def test_an_empty_batch_gives_an_empty_answer(iris: Any) -> None:
    frame, _features, champion, challenger = iris
    for mode in MODES:
        out = serve([frame.iloc[:0]], champion, challenger, mode=mode)
        assert [len(f) for f in out["data"]] == [0]
        assert list(out["data"][0].columns) == [*frame.columns, "prediction", "model",
                                                "model_message"]


def test_bad_settings_are_reported_by_validation() -> None:
    assert any("canary_percent" in p.message and "100" in p.message
               for p in param_problems("ml.serve", {"canary_percent": 150}))
    assert any("canary_percent" in p.message
               for p in param_problems("ml.serve", {"canary_percent": -1}))
    assert any("mode" in p.message for p in param_problems("ml.serve", {"mode": "blue"}))
    assert any("overwritten" in p.message for p in param_problems(
        "ml.serve", {"column": "confidence", "probabilities": True}))

    def problems(mode: str, challenger: bool) -> list[str]:
        edges = ["d.data->s.data", "m.model->s.champion"]
        if challenger:
            edges.append("m.model->s.challenger")
        flow = make_flow({"d": ("dataset.load", {"name": "iris"}),
                          "m": ("ml.fit", {"estimator": "sklearn.linear_model.LogisticRegression",
                                           "target": "target"}),
                          "s": ("ml.serve", {"mode": mode})},
                         ["d.data->m.data", *edges])
        return [p.message for p in runtime.validate(flow)]

    assert problems("canary", challenger=False) == [
        "node 's': required input 'challenger' (Model) is not connected"]
    assert problems("canary", challenger=True) == []
    assert problems("shadow", challenger=False) == []
    assert problems("champion", challenger=False) == []


def test_shadow_sends_nothing_once_the_challenger_is_the_champion(iris: Any) -> None:
    # After a promotion the same model is on both inputs: its predictions are those on
    # 'data', and sent on 'shadow' too a monitor would grade every row twice.
    frame, _features, _champion, challenger = iris
    out = serve(in_batches(frame, 50), challenger, challenger, mode="shadow")
    assert out.result.status == "ok" and out.errors == []
    assert len(out["data"]) == 3 and set(pd.concat(out["data"])["model"]) == {"iris:2"}
    assert out["shadow"] == []
