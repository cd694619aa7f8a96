"""``model.supervisor``: its policy on its own, then the component in real flows."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

import runtime
from components._model_label import tag_model
from components._policy import (
    Decision,
    DriftWindow,
    MetricsWindow,
    Policy,
    Rules,
    higher_is_better,
)
from components.supervisor import DECISION_COLUMNS, Supervisor
from runtime import Batch, record_run
from runtime.engines import PATH_KEY
from runtime.testing import MemorySink, memory_source
from tests.flowkit import flow_doc, make_run, run_guarded

FAMILY_MODULE = "components.supervisor"
CONTRACT: dict[str, dict[str, Any]] = {
    "model.supervisor": {
        "inputs": {"metrics": ("DataFrame", "stream"), "drift": ("DataFrame", "stream"),
                   "champion": ("Model", "latest"), "challenger": ("Model", "latest"),
                   "fallback": ("Model", "latest")},
        "outputs": {"champion": "Model", "decisions": "DataFrame"},
        "required": set(),
        "defaults": {"metric": "accuracy", "higher_is_better": None, "min_gain": 0.01,
                     "min_rows": 50, "windows": 3, "floor": None, "drift_windows": None,
                     "cooldown_windows": 3, "fallback": "previous", "registry_name": None,
                     "alias": "champion", "registry": ".edgewise/models"},
    },
}
REGISTRY = runtime.default_registry().with_components(Supervisor)


# --- the policy, without a flow -------------------------------------------------------------

def rules(**changes: Any) -> Rules:
    base = Rules(metric="accuracy", higher_is_better=True, min_gain=0.01, min_rows=10,
                 windows=3, floor=None, drift_windows=2, cooldown_windows=0)
    return dataclasses.replace(base, **changes)


class Feed:
    """Feeds a policy, numbering the messages as a run would."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.next_id = 100

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def metrics(self, window: int, model: str, value: float, rows: int = 50,
                ) -> Decision | None:
        return self.policy.on_metrics(MetricsWindow(window, model, rows, value, self._id()))

    def pair(self, window: int, champion: float, challenger: float, rows: int = 50,
             models: tuple[str, str] = ("m:1", "m:2")) -> list[Decision]:
        made = [self.metrics(window, models[0], champion, rows),
                self.metrics(window, models[1], challenger, rows)]
        return [d for d in made if d is not None]

    def drift(self, window: int, drifted: bool, columns: str = "x") -> Decision | None:
        return self.policy.on_drift(DriftWindow(window, 40, drifted,
                                                columns if drifted else "", self._id()))


def policy(models: tuple[str, str | None] = ("m:1", "m:2"), **changes: Any) -> Feed:
    made = Policy(rules(**changes))
    made.see_models(*models)
    return Feed(made)


def test_the_challenger_is_promoted_after_exactly_windows_winning_windows() -> None:
    feed = policy()
    assert feed.pair(0, 0.70, 0.80) == []
    assert feed.pair(1, 0.70, 0.80) == []
    assert feed.metrics(2, "m:1", 0.70) is None
    decision = feed.metrics(2, "m:2", 0.80)
    assert decision is not None
    assert (decision.action, decision.from_label, decision.to_label) == ("promote", "m:1",
                                                                           "m:2")
    assert decision.window == 2
    assert (decision.champion_value, decision.challenger_value, decision.rows) == (
        0.70, 0.80, 50)
    assert decision.evidence == tuple(range(101, 107))  # the six metrics messages
    assert "3 consecutive windows (windows 0 to 2)" in decision.reason
    assert feed.policy.champion == "m:2" and feed.policy.fallbacks == ["m:1"]


def test_windows_are_paired_by_number_whatever_the_order_they_arrive_in() -> None:
    feed = policy(windows=2)
    assert feed.metrics(0, "m:2", 0.9) is None
    assert feed.metrics(1, "m:2", 0.9) is None
    assert feed.metrics(0, "m:1", 0.5) is None
    decision = feed.metrics(1, "m:1", 0.5)
    assert decision is not None and decision.action == "promote"
    assert decision.evidence == (101, 102, 103, 104)


def test_a_window_with_too_few_rows_breaks_the_run_of_wins() -> None:
    feed = policy(min_rows=10)
    assert feed.pair(0, 0.5, 0.9) == []
    assert feed.pair(1, 0.5, 0.9, rows=9) == []  # not evidence: starts over
    assert feed.pair(2, 0.5, 0.9) == []
    assert feed.pair(3, 0.5, 0.9) == []
    made = feed.pair(4, 0.5, 0.9)
    assert [d.action for d in made] == ["promote"]
    assert "windows 2 to 4" in made[0].reason


def test_min_gain_is_respected_to_the_last_digit() -> None:
    short = policy(windows=1, min_gain=0.01)
    assert short.pair(0, 0.80, 0.809) == []
    enough = policy(windows=1, min_gain=0.01)
    assert [d.action for d in enough.pair(0, 0.20, 0.21)] == ["promote"]  # 0.21-0.2 < 0.01


def test_a_tie_is_never_a_win_even_with_no_min_gain() -> None:
    feed = policy(windows=1, min_gain=0.0)
    assert feed.pair(0, 0.8, 0.8) == []
    assert [d.action for d in feed.pair(1, 0.8, 0.8001)] == ["promote"]


def test_a_losing_window_starts_the_count_again() -> None:
    feed = policy(windows=2)
    assert feed.pair(0, 0.5, 0.9) == []
    assert feed.pair(1, 0.9, 0.5) == []
    assert feed.pair(2, 0.5, 0.9) == []
    assert [d.action for d in feed.pair(3, 0.5, 0.9)] == ["promote"]


def test_a_champion_below_the_floor_is_rolled_back_to_the_one_it_replaced() -> None:
    feed = policy(windows=1, floor=0.6)
    assert [d.action for d in feed.pair(0, 0.7, 0.9)] == ["promote"]
    assert feed.metrics(1, "m:2", 0.61) is None
    decision = feed.metrics(2, "m:2", 0.55)
    assert decision is not None
    assert (decision.action, decision.from_label, decision.to_label) == ("rollback", "m:2",
                                                                           "m:1")
    assert decision.evidence == (feed.next_id,)
    assert decision.champion_value == 0.55
    assert "below the floor 0.6" in decision.reason and "m:1 takes over" in decision.reason
    assert feed.policy.champion == "m:1" and feed.policy.fallbacks == []
    # the rolled-back model is never promoted again
    assert feed.pair(3, 0.7, 0.99) == []
    assert feed.policy.champion == "m:1"


def test_with_fallback_input_the_named_model_takes_over_not_the_previous_one() -> None:
    feed = policy(windows=1, floor=0.6, fallback="input")
    feed.policy.see_fallback("m:7")  # model.get of the 'stable' alias
    assert [d.action for d in feed.pair(0, 0.7, 0.9)] == ["promote"]
    decision = feed.metrics(1, "m:2", 0.5)
    assert decision is not None
    assert (decision.action, decision.from_label, decision.to_label) == ("rollback", "m:2",
                                                                           "m:7")
    assert "m:7 (the fallback input's model) takes over" in decision.reason
    assert feed.policy.champion == "m:7"


def test_with_fallback_input_and_nothing_on_it_the_champion_is_quarantined() -> None:
    feed = policy(windows=1, floor=0.6, fallback="input")
    feed.pair(0, 0.7, 0.9)  # m:1 was champion before, but 'previous' is not the rule
    decision = feed.metrics(1, "m:2", 0.5)
    assert decision is not None and decision.action == "quarantine"
    assert "no model on the fallback input" in decision.reason


def test_the_floor_needs_min_rows_in_the_window() -> None:
    feed = policy(windows=1, floor=0.6, min_rows=10)
    feed.pair(0, 0.7, 0.9)
    assert feed.metrics(1, "m:2", 0.1, rows=9) is None
    assert feed.metrics(2, "m:2", 0.1, rows=10) is not None


def test_a_champion_whose_input_drifts_for_drift_windows_is_rolled_back() -> None:
    feed = policy(windows=1, drift_windows=2)
    feed.pair(0, 0.7, 0.9)
    assert feed.drift(0, True) is None
    assert feed.drift(1, False) is None
    assert feed.drift(2, True, "x,y") is None
    assert feed.drift(4, True, "y") is None  # not consecutive: starts over
    decision = feed.drift(5, True, "z")
    assert decision is not None and decision.action == "rollback"
    assert decision.evidence == (feed.next_id - 1, feed.next_id)
    assert decision.rows == 40
    assert decision.champion_value is None  # no window of m:2 as champion yet
    assert "2 consecutive windows (windows 4 to 5; columns: y, z)" in decision.reason
    assert (decision.from_label, decision.to_label) == ("m:2", "m:1")


def test_with_no_earlier_champion_the_champion_is_quarantined() -> None:
    feed = policy(floor=0.6)
    decision = feed.metrics(0, "m:1", 0.4)
    assert decision is not None
    assert (decision.action, decision.from_label, decision.to_label) == ("quarantine", "m:1",
                                                                           None)
    assert "edgewise models alias NAME champion VERSION" in decision.reason
    assert feed.metrics(1, "m:1", 0.1) is None  # quarantined: nothing more to decide
    assert feed.drift(0, True) is None and feed.drift(1, True) is None
    feed.policy.see_models("m:3", "m:2")  # the operator sends a sound model
    assert feed.policy.champion == "m:3" and not feed.policy.quarantined
    assert feed.policy.fallbacks == []  # the quarantined one is no fallback


def test_after_a_decision_cooldown_windows_are_not_counted() -> None:
    feed = policy(windows=1, floor=0.6, cooldown_windows=2)
    assert [d.action for d in feed.pair(0, 0.7, 0.9)] == ["promote"]
    assert feed.metrics(1, "m:2", 0.1) is None
    assert feed.metrics(2, "m:2", 0.1) is None
    decision = feed.metrics(3, "m:2", 0.1)
    assert decision is not None and decision.action == "rollback"


def test_drift_reports_cool_down_too() -> None:
    feed = policy(windows=1, drift_windows=1, cooldown_windows=1)
    feed.pair(0, 0.7, 0.9)
    assert feed.drift(0, True) is None
    assert feed.metrics(1, "m:2", 0.85) is None  # cooling down, but its value is noted
    decision = feed.drift(1, True)
    assert decision is not None and decision.champion_value == 0.85


def test_a_lower_is_better_metric_promotes_the_lower_error() -> None:
    feed = policy(metric="mae", higher_is_better=False, windows=2, floor=5.0)
    assert feed.pair(0, 3.0, 2.0) == []
    made = feed.pair(1, 3.0, 2.0)
    assert [d.action for d in made] == ["promote"]
    assert "(lower is better)" in made[0].reason
    assert feed.metrics(2, "m:2", 4.9) is None
    breach = feed.metrics(3, "m:2", 5.5)
    assert breach is not None and breach.action == "rollback"
    assert "above the floor 5" in breach.reason


def test_lower_is_better_is_derived_from_the_metric_name() -> None:
    assert [higher_is_better(n) for n in ("accuracy", "f1_macro", "r2", "roc_auc")] == [
        True, True, True, True]
    assert [higher_is_better(n) for n in ("mae", "mse", "rmse", "log_loss")] == [
        False, False, False, False]
    assert higher_is_better("neg_mean_absolute_error")
    assert not higher_is_better("mean_absolute_error")


def test_the_champion_input_still_holding_the_old_model_does_not_undo_a_promotion() -> None:
    feed = policy(windows=1)
    feed.pair(0, 0.5, 0.9)
    feed.policy.see_models("m:1", "m:2")  # unchanged inputs
    assert feed.policy.champion == "m:2"
    feed.policy.see_models("m:2", "m:2")  # the registry alias moved: model.get echoes it
    assert feed.policy.champion == "m:2" and feed.policy.fallbacks == ["m:1"]


def test_an_unregistered_champion_is_recognised_under_the_label_the_scorer_gives() -> None:
    feed = policy(("#3", "#4"), windows=1, floor=0.6)
    assert [d.action for d in feed.pair(0, 0.7, 0.9, models=("#3", "#4"))] == ["promote"]
    # the scorer got the new champion in the supervisor's own message, say #40
    decision = feed.metrics(1, "#40", 0.2)
    assert decision is not None and decision.action == "rollback"
    assert (decision.from_label, decision.to_label) == ("#4", "#3")


def events(seed: int) -> list[tuple[str, Any]]:
    """A long stream of windows with wins, losses, breaches and drift."""
    import random

    draw = random.Random(seed)
    listed: list[tuple[str, Any]] = []
    for window in range(60):
        for model, low in (("m:1", 0.15), ("m:2", 0.5)):
            listed.append(("metrics", MetricsWindow(window, model, draw.choice([5] + [50] * 9),
                                                    low + draw.random() / 2, len(listed))))
        listed.append(("drift", DriftWindow(window, 50, draw.random() < 0.3, "x",
                                            len(listed))))
    return listed


def decide(listed: list[tuple[str, Any]]) -> list[Decision]:
    made = Policy(rules(floor=0.1, drift_windows=3, cooldown_windows=1))
    made.see_models("m:1", "m:2")
    out = []
    for kind, item in listed:
        decision = made.on_metrics(item) if kind == "metrics" else made.on_drift(item)
        if decision is not None:
            out.append(decision)
    return out


def test_the_same_inputs_in_the_same_order_give_the_same_decisions() -> None:
    first = decide(events(1))
    assert [d.action for d in first] == ["promote", "rollback", "quarantine"]
    assert decide(events(1)) == first
    assert decide(events(17)) != first


# --- the component in flows -------------------------------------------------------------------

def model(version: int) -> Any:
    fitted = DummyClassifier(strategy="constant", constant=version).fit([[0], [1]],
                                                                         [version, version])
    return tag_model(fitted, "m", version)


def metrics_frame(window: int, label: str, value: float, rows: int = 50,
                  metric: str = "accuracy") -> pd.DataFrame:
    return pd.DataFrame([{"window": window, "model": label, "model_message": 1, "rows": rows,
                          "unlabelled": 0, "first_row": window * rows,
                          "last_row": window * rows + rows - 1, metric: value}])


def drift_frame(window: int, drifted: bool) -> pd.DataFrame:
    return pd.DataFrame([{"window": window, "rows": 40, "first_row": 0, "last_row": 39,
                          "psi:x": 0.3 if drifted else 0.01, "ks:x": 0.1,
                          "drifted": "x" if drifted else "", "drift": drifted}])


class Supervised:
    """A flow: memory sources into a supervisor, sinks on its outputs, ids noted."""

    def __init__(self, metrics: list[pd.DataFrame], params: dict[str, Any],
                 drift: list[pd.DataFrame] | None = None, challenger: bool = True,
                 fallback: bool = False) -> None:
        sources = [memory_source("sv.metrics", metrics), memory_source("sv.champion",
                                                                        [model(1)])]
        nodes: dict[str, Any] = {"metrics": "sv.metrics", "champion": "sv.champion",
                                 "sup": ("model.supervisor", params)}
        edges = ["metrics.data->sup.metrics", "champion.data->sup.champion"]
        if challenger:
            sources.append(memory_source("sv.challenger", [model(2)]))
            nodes["challenger"] = "sv.challenger"
            edges.append("challenger.data->sup.challenger")
        if fallback:  # as model.get of a named alias ('stable') would send it
            sources.append(memory_source("sv.fallback", [model(7)]))
            nodes["fallback"] = "sv.fallback"
            edges.append("fallback.data->sup.fallback")
        if drift is not None:
            sources.append(memory_source("sv.drift", drift))
            nodes["drift"] = "sv.drift"
            edges.append("drift.data->sup.drift")
        self.sinks = {p: MemorySink(f"sv.sink.{p}") for p in ("champion", "decisions", "error")}
        for port, sink in self.sinks.items():
            nodes[f"out_{port}"] = sink.spec.id
            edges.append(f"sup.{port}->out_{port}.data")
        self.run = make_run(nodes, edges, [Supervisor, *sources,
                                           *(s.spec for s in self.sinks.values())])
        for port, sink in self.sinks.items():
            sink.watch(self.run, [f"sup.{port}->out_{port}.data"])
        self.ids: dict[str, list[int]] = {}

        def emitted(edge: str, batch: Batch) -> None:
            self.ids.setdefault(batch.origin, []).extend(batch.ids)

        self.run.hooks.add("emitted", emitted)

    def go(self) -> runtime.RunResult:
        return run_guarded(self.run)

    def values(self, port: str) -> list[Any]:
        return self.sinks[port].values


WINNING = [frame for w in range(6) for frame in (metrics_frame(w, "m:1", 0.7),
                                                  metrics_frame(w, "m:2", 0.9))]


def test_in_a_flow_the_champion_is_emitted_only_when_it_changes() -> None:
    flow = Supervised(WINNING, {"windows": 2, "cooldown_windows": 0})
    assert flow.go().status == "ok"
    served = flow.values("champion")
    assert len(served) == 1 and int(served[0].constant) == 2  # m:2, once
    decisions = flow.values("decisions")
    assert len(decisions) == 1
    frame = decisions[0]
    assert list(frame.columns) == DECISION_COLUMNS
    row = frame.iloc[0]
    assert (row["action"], row["from"], row["to"], row["window"]) == ("promote", "m:1",
                                                                       "m:2", 1)
    assert (row["champion_value"], row["challenger_value"], row["rows"]) == (0.7, 0.9, 50)
    assert row["evidence"] == flow.ids["metrics.data"][:4]
    when = datetime.datetime.fromisoformat(row["time"])
    assert when.utcoffset() == datetime.timedelta(0)
    assert flow.values("error") == []


def test_in_a_flow_drift_and_metrics_arrive_at_their_own_rates() -> None:
    metrics = [metrics_frame(w, "m:1", 0.8) for w in range(3)]
    drift = [drift_frame(w, w >= 2) for w in range(5)]
    flow = Supervised(metrics, {"drift_windows": 3, "floor": 0.5}, drift=drift,
                      challenger=False)
    result = flow.go()
    assert result.status == "ok" and flow.values("error") == []
    assert result.nodes["sup"].fired == 8  # one call per message, none left unpaired
    [frame] = flow.values("decisions")
    row = frame.iloc[0]
    assert (row["action"], row["from"], row["to"]) == ("quarantine", "m:1", None)
    assert row["evidence"] == flow.ids["drift.data"][2:5]
    assert flow.values("champion") == []  # quarantine: nothing to serve instead


def test_a_floor_breach_after_a_promotion_sends_the_old_champion_back() -> None:
    metrics = [*WINNING[:4], metrics_frame(2, "m:2", 0.3)]
    flow = Supervised(metrics, {"windows": 2, "cooldown_windows": 0, "floor": 0.5})
    assert flow.go().status == "ok"
    assert [int(m.constant) for m in flow.values("champion")] == [2, 1]
    actions = [f.iloc[0]["action"] for f in flow.values("decisions")]
    assert actions == ["promote", "rollback"]
    assert [f.index[0] for f in flow.values("decisions")] == [0, 1]
    assert flow.values("decisions")[1].iloc[0]["evidence"] == [flow.ids["metrics.data"][4]]


def test_a_floor_breach_with_a_fallback_input_serves_that_model() -> None:
    metrics = [*WINNING[:4], metrics_frame(2, "m:2", 0.3)]
    flow = Supervised(metrics, {"windows": 2, "cooldown_windows": 0, "floor": 0.5,
                                "fallback": "input"}, fallback=True)
    assert flow.go().status == "ok"
    assert [int(m.constant) for m in flow.values("champion")] == [2, 7]
    rollback = flow.values("decisions")[1].iloc[0]
    assert (rollback["action"], rollback["from"], rollback["to"]) == ("rollback", "m:2", "m:7")


def test_metrics_without_the_metric_column_give_an_error_record() -> None:
    flow = Supervised([metrics_frame(0, "m:1", 0.8, metric="r2")], {"metric": "accuracy"})
    assert flow.go().status != "ok"
    [record] = flow.values("error")
    assert "'metrics' input lacks column(s) ['accuracy']" in record.message
    assert "set the supervisor's metric" in record.message


def test_a_drift_input_that_is_not_a_drift_report_gives_an_error_record() -> None:
    flow = Supervised([metrics_frame(0, "m:1", 0.8)], {},
                      drift=[metrics_frame(0, "m:1", 0.8)], challenger=False)
    flow.go()
    [record] = flow.values("error")
    assert "lacks column(s) ['drift', 'drifted']" in record.message
    assert "connect ml.drift's report" in record.message


def test_a_registry_alias_that_cannot_move_is_an_error_after_the_decision() -> None:
    flow = Supervised(WINNING[:4], {"windows": 2, "registry_name": "other"})
    flow.go()
    assert len(flow.values("decisions")) == 1 and len(flow.values("champion")) == 1
    [record] = flow.values("error")
    assert "not a registered version of 'other'" in record.message


def test_no_alias_moves_where_the_registry_folder_does_not_exist(tmp_path: Path) -> None:
    nowhere = tmp_path / "no-registry"
    flow = Supervised(WINNING[:4], {"windows": 2, "registry_name": "m",
                                    "registry": str(nowhere)})
    assert flow.go().status == "ok"
    assert len(flow.values("decisions")) == 1 and flow.values("error") == []
    assert not nowhere.exists()


def test_the_registry_folder_is_an_output_path_resolved_against_the_flow() -> None:
    spec = REGISTRY.get("model.supervisor")
    assert spec is not None
    base = Path("/flows/here")
    made = spec.params_model.model_validate({}, context={"base_dir": base})
    assert made.registry == str((base / ".edgewise/models").resolve())
    field = spec.params_model.model_fields["registry"]
    assert field.json_schema_extra == {PATH_KEY: "output"}  # a replay redirects it


def test_a_replayed_run_of_the_same_inputs_makes_the_same_decisions() -> None:
    def decisions() -> pd.DataFrame:
        flow = Supervised(WINNING + [metrics_frame(6, "m:2", 0.1)],
                          {"windows": 2, "cooldown_windows": 1, "floor": 0.5})
        flow.go()
        made = pd.concat(flow.values("decisions")).drop(columns="time")
        where = flow.ids["metrics.data"]  # evidence as positions on the metrics stream
        made["evidence"] = [[where.index(i) for i in ids] for ids in made["evidence"]]
        return made

    first = decisions()
    assert list(first["action"]) == ["promote", "rollback"]
    assert list(first["evidence"]) == [[0, 1, 2, 3], [12]]
    pd.testing.assert_frame_equal(decisions(), first)


def test_bad_settings_are_reported_by_validate() -> None:
    def problems(params: dict[str, Any]) -> list[str]:
        doc = flow_doc({"sup": ("model.supervisor", params)})
        return [p.message for p in runtime.validate(doc, registry=REGISTRY) if p.param]

    assert any("unknown metric 'acuracy'" in m for m in problems({"metric": "acuracy"}))
    assert problems({"windows": 0})
    assert problems({"fallback": "m:1"})
    assert problems({"fallback": "input"}) == []
    assert problems({"alias": " "})
    assert problems({"metric": "mae"}) == []


def test_the_direction_of_the_metric_is_derived_unless_set() -> None:
    spec = REGISTRY.get("model.supervisor")
    assert spec is not None
    params = spec.params_model
    assert params.model_validate({"metric": "mae"}).rules().higher_is_better is False
    assert params.model_validate({"metric": "r2"}).rules().higher_is_better is True
    chosen = params.model_validate({"metric": "mae", "higher_is_better": True})
    assert chosen.rules().higher_is_better is True


@pytest.mark.parametrize("port", ["champion", "decisions"])
def test_a_recorded_run_keeps_the_decisions(tmp_path: Path, port: str) -> None:
    flow = Supervised(WINNING, {"windows": 2, "cooldown_windows": 0})
    recorder = record_run(flow.run, tmp_path)
    assert flow.go().status == "ok"
    from runtime.runs import list_runs

    [store] = [r for r in list_runs(tmp_path) if r.id == recorder.run_id]
    assert store.count(f"sup.{port}") == 1


def test_ports_and_params_match_the_contract() -> None:
    # contract.contract_tests reads the installed components; this one is added here
    [info] = [c for c in runtime.components(REGISTRY) if c["id"] == "model.supervisor"]
    want = CONTRACT["model.supervisor"]
    assert {p["name"]: (p["type"], p["mode"]) for p in info["inputs"]} == want["inputs"]
    assert {p["name"]: p["type"] for p in info["outputs"]} == {**want["outputs"],
                                                                "error": "ErrorRecord"}
    assert {p["name"]: p["required"] for p in info["inputs"]} == {
        "metrics": True, "drift": False, "champion": True, "challenger": False,
        "fallback": False}
    assert set(info["params_schema"].get("required", [])) == want["required"]
    fields = Supervisor.params_model.model_fields
    for name, default in want["defaults"].items():
        assert fields[name].get_default(call_default_factory=True) == default
        assert fields[name].description
    assert {runtime.CONTEXT_TAG, runtime.DECISIONS_TAG, runtime.UNPAIRED_TAG} <= set(
        Supervisor.tags)
