"""Which models a scorer node shows, from the previews of the rows it sent; and its face."""

from __future__ import annotations

from typing import Any

import pandas as pd

from components.ml_serve import canary_mask
from editor.node_face import face_text
from editor.node_status import RunFacts
from editor.scorer_models import row_labels, serve_models
from editor.supervision_view import decision_lines
from runtime import preview


def scored(labels: dict[Any, str]) -> dict[str, Any]:
    """An output port's info whose last message holds rows answered by these models."""
    frame = pd.DataFrame({"x": range(len(labels)), "prediction": 0,
                          "model": list(labels.values()), "model_message": 7},
                         index=list(labels))
    return {"count": 1, "rows": len(frame), "preview": preview(frame)}


def test_row_labels_read_the_model_column_of_a_preview() -> None:
    assert row_labels(scored({10: "m:1", 11: "m:2"})["preview"]) == [(10, "m:1"), (11, "m:2")]
    assert row_labels({"kind": "dataframe", "summary": "250×8 DataFrame",
                       "shape": [250, 8]}) == []  # a kept run's trimmed preview
    assert row_labels(preview(pd.DataFrame({"a": [1]}))) == []
    assert row_labels(None) == []


def test_champion_and_shadow_modes() -> None:
    outputs = {"data": scored({1: "m:1", 2: "m:1"}), "shadow": scored({1: "m:2", 2: "m:2"})}
    assert serve_models("ml.serve", {"mode": "shadow"}, outputs) == {
        "mode": "shadow", "champion": "m:1", "challenger": "m:2"}
    assert serve_models("ml.serve", {}, {"data": outputs["data"]}) == {
        "mode": "champion", "champion": "m:1"}
    assert serve_models("ml.predict", {}, outputs) is None
    assert serve_models("ml.serve", {"mode": "shadow"}, {}) is None
    # after a promotion the rows name the new champion
    promoted = {"data": scored({3: "m:2"}), "shadow": scored({3: "m:2"})}
    assert serve_models("ml.serve", {"mode": "shadow"}, promoted)["champion"] == "m:2"


def test_a_canary_tells_its_models_apart_by_the_row_id_hash() -> None:
    ids = list(range(40))
    to_challenger = canary_mask(pd.Index(ids), 30.0)
    assert to_challenger.any() and not to_challenger.all()
    rows = {i: "m:9" if c else "m:4" for i, c in zip(ids, to_challenger, strict=True)}
    first_five = dict(list(rows.items())[:5])  # a preview holds the first five rows
    found = serve_models("ml.serve", {"mode": "canary", "canary_percent": 30.0},
                         {"data": scored(first_five)})
    assert found is not None and found["champion"] == "m:4"
    champion_only = {i: "m:4" for i, c in zip(ids, to_challenger, strict=True) if not c}
    known = {"mode": "canary", "champion": "m:4", "challenger": "m:9"}
    # a message with none of the challenger's rows keeps the challenger known before
    assert serve_models("ml.serve", {"mode": "canary", "canary_percent": 30.0},
                        {"data": scored(dict(list(champion_only.items())[:5]))},
                        known) == known
    challenged = {i: "m:9" for i, c in zip(ids, to_challenger, strict=True) if c}
    mixed = {**dict(list(champion_only.items())[:2]), **dict(list(challenged.items())[:2])}
    assert serve_models("ml.serve", {"mode": "canary", "canary_percent": 30.0},
                        {"data": scored(mixed)}) == known


def test_run_facts_give_a_scorer_its_models_and_keep_them() -> None:
    facts = RunFacts({"serve": "ml.serve", "out": "debug"}, {"serve": ["data", "shadow"]},
                     {"serve": {"mode": "shadow"}})
    state = facts.take({"edges": {"serve.data->out.data": scored({1: "m:1"}),
                                  "serve.shadow->out.data": scored({1: "m:2"})},
                        "nodes": {"serve": {"state": "running", "errors": 0}}})["serve"]
    assert state["models"] == {"mode": "shadow", "champion": "m:1", "challenger": "m:2"}
    assert "models" not in facts.state("out")
    ended = facts.take_states({"serve": {"state": "done", "errors": 0}})["serve"]
    assert ended["models"]["champion"] == "m:1"


def test_the_scorer_face_says_its_mode() -> None:
    assert face_text("ml.serve", {"mode": "shadow"}) == "mode: shadow"
    assert face_text("ml.serve", {}) == "mode: champion"
    assert face_text("ml.serve", {"mode": "canary", "canary_percent": 12.5}) == \
        "mode: canary 12.5%"


def test_decision_lines() -> None:
    made = {"action": "quarantine", "from": "m:1", "to": None, "metric": "accuracy",
            "champion_value": 0.41234, "challenger_value": None, "rows": 200,
            "reason": "m:1 fell below the floor", "evidence": [{"message": 5}, {"message": 9}]}
    assert decision_lines(made) == ["m:1 → nothing (quarantined)",
                                    "accuracy: champion 0.4123, challenger -, 200 rows",
                                    "m:1 fell below the floor",
                                    "evidence: 2 message(s), #5, #9"]
    assert decision_lines({"note": "its value was not kept"}) == ["its value was not kept"]
