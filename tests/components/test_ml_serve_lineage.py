"""``ml.serve`` in a kept run: a champion replaced mid-stream, and ``scored-by`` on each side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import components.ml_serve as ml_serve
import runtime
from components._model_label import tag_model
from runtime import component, record_run
from runtime.cli import main as edgewise
from runtime.runs import Lineage, RunStore
from runtime.testing import MemorySink
from tests.flowkit import make_run, run_guarded

BATCH = 25


def iris_models() -> tuple[pd.DataFrame, list[Any]]:
    frame = load_iris(as_frame=True).frame.sample(frac=1, random_state=3)
    x, y = frame.drop(columns="target"), frame["target"]
    old = LogisticRegression(max_iter=500).fit(x, y)  # unregistered: named by its message
    new = tag_model(LogisticRegression(max_iter=500, C=0.02).fit(x, y), "iris", 2)
    canary = tag_model(LogisticRegression(max_iter=500, C=5.0).fit(x, y), "iris", 3)
    return frame, [old, new, canary]


FRAME, (OLD, NEW, CANARY) = iris_models()
BATCHES = [FRAME.iloc[i:i + BATCH] for i in range(0, len(FRAME), BATCH)]
SWAP_AT = 3  # the new champion arrives after the first three batches


@component("swap.feed", outputs={"data": "DataFrame", "champion": "Model",
                                 "challenger": "Model"}, threaded=True)
def feed() -> Iterator[dict[str, Any]]:
    """The challenger, the old champion, three batches, the new champion, the rest, in order.

    A threaded source hands over one message at a time, so the scorer sees them in this
    order: the swap falls between two batches, exactly.
    """
    yield {"challenger": CANARY}
    yield {"champion": OLD}
    for index, batch in enumerate(BATCHES):
        if index == SWAP_AT:
            yield {"champion": NEW}
        yield {"data": batch}


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, MemorySink, Path]:
    workspace = tmp_path_factory.mktemp("swap")
    sink = MemorySink("swap.sink")
    run = make_run({"feed": "swap.feed", "serve": ("ml.serve", {"mode": "canary",
                                                                "canary_percent": 20}),
                    "out": "swap.sink"},
                   ["feed.data->serve.data", "feed.champion->serve.champion",
                    "feed.challenger->serve.challenger", "serve.data->out.data"],
                   [feed, sink.spec, *(v for v in vars(ml_serve).values()
                                       if isinstance(v, runtime.ComponentSpec))])
    sink.watch(run, ["serve.data->out.data"])
    recorder = record_run(run, workspace)
    assert run_guarded(run).status == "ok"
    return recorder.store, sink, workspace


def test_rows_before_the_swap_use_the_old_champion_and_rows_after_the_new(
        kept: tuple[RunStore, MemorySink, Path]) -> None:
    _store, sink, _workspace = kept
    served = sink.values
    # none lost, none scored twice, in the order they came
    assert [list(s.index) for s in served] == [list(b.index) for b in BATCHES]
    for index, (batch, scored) in enumerate(zip(BATCHES, served, strict=True)):
        champion = OLD if index < SWAP_AT else NEW
        mask = ml_serve.canary_mask(batch.index, 20)
        x = batch.drop(columns="target")
        assert scored["prediction"][~mask].tolist() == champion.predict(x[~mask]).tolist()
        assert scored["prediction"][mask].tolist() == CANARY.predict(x[mask]).tolist()
        unregistered = f"#{scored['model_message'][~mask].iloc[0]}"
        assert set(scored["model"][~mask]) == ({"iris:2"} if index >= SWAP_AT
                                               else {unregistered})
        assert set(scored["model"][mask]) <= {"iris:3"}


def scored_by(store: RunStore, row: Any) -> dict[str, Any]:
    [message] = [m for m in store.messages("serve.data")
                 if row in store.value(m.id).index]
    return Lineage(store).scored_by(message.id, row)


def test_scored_by_names_the_model_that_answered_on_each_side_of_the_swap(
        kept: tuple[RunStore, MemorySink, Path]) -> None:
    store, _sink, _workspace = kept
    [old, new] = store.messages("feed.champion")
    [canary] = store.messages("feed.challenger")
    before, after = BATCHES[SWAP_AT - 1], BATCHES[SWAP_AT]
    row_before = before.index[~ml_serve.canary_mask(before.index, 20)][0]
    row_after = after.index[~ml_serve.canary_mask(after.index, 20)][0]
    to_canary = FRAME.index[ml_serve.canary_mask(FRAME.index, 20)][0]

    answer = scored_by(store, row_before)
    assert (answer["model"]["message"], answer["model"]["label"]) == (old.id, f"#{old.id}")
    answer = scored_by(store, row_after)
    assert (answer["model"]["message"], answer["model"]["label"]) == (new.id, "iris:2")
    answer = scored_by(store, to_canary)
    assert (answer["model"]["message"], answer["model"]["label"]) == (canary.id, "iris:3")
    assert answer["scored_at"]["node"] == "serve"
    assert answer["model"]["estimator"].endswith("LogisticRegression")
    assert answer["model"]["params"]["C"] == 5.0


def test_the_scored_by_command_says_the_model_label(
        kept: tuple[RunStore, MemorySink, Path], capsys: pytest.CaptureFixture[str]) -> None:
    store, _sink, workspace = kept
    [canary] = store.messages("feed.challenger")
    row = FRAME.index[ml_serve.canary_mask(FRAME.index, 20)][0]
    [message] = [m for m in store.messages("serve.data") if row in store.value(m.id).index]
    where = ["scored-by", store.id, "serve.data", "--id", str(message.id), "--row", str(row),
             "-w", str(workspace)]

    assert edgewise(where) == 0
    said = capsys.readouterr().out
    assert f"by model iris:3 (message {canary.id})" in said
    assert edgewise([*where, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["model"]["label"], answer["model"]["message"]) == ("iris:3", canary.id)
