"""The supervisor's policy: when to promote a challenger and when to roll back a champion.

:class:`Policy` is pure: it sees model labels, metrics windows and drift windows in
arrival order and answers with decisions. It reads no clock and no file, so the same
inputs in the same order always give the same decisions (a replay reproduces them), and
it can be tested without a flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "log_loss", "brier_score_loss",
                             "hamming_loss", "zero_one_loss", "hinge_loss", "max_error"})
"""Metric names whose smaller values are better (errors and losses)."""
TOLERANCE = 1e-12
"""How much a gain may fall short of ``min_gain`` through float rounding and still count."""


def higher_is_better(metric: str) -> bool:
    """Whether a larger ``metric`` is better: False for errors and losses (``mae``, ...).

    scikit-learn's ``neg_*`` scorers negate an error, so larger is better for them.
    """
    name = metric.lower()
    if name.startswith("neg_"):
        return True
    return name not in LOWER_IS_BETTER and not name.endswith(("_error", "_loss"))


@dataclass(frozen=True)
class Rules:
    """The thresholds of a policy (the supervisor's params, checked)."""

    metric: str
    higher_is_better: bool
    min_gain: float
    min_rows: int
    windows: int
    floor: float | None
    drift_windows: int
    cooldown_windows: int
    fallback: str = "previous"  # or "input": the model on the supervisor's fallback input


@dataclass(frozen=True)
class MetricsWindow:
    """One row of ``ml.monitor``'s metrics: one window of one model."""

    window: int
    model: str
    rows: int
    value: float
    message: int


@dataclass(frozen=True)
class DriftWindow:
    """One row of ``ml.drift``'s report."""

    window: int
    rows: int
    drift: bool
    drifted: str
    message: int


@dataclass(frozen=True)
class Decision:
    """What the policy decided, on which window, and the messages that made it decide."""

    window: int
    action: str
    from_label: str | None
    to_label: str | None
    metric: str
    champion_value: float | None
    challenger_value: float | None
    rows: int
    reason: str
    evidence: tuple[int, ...]


@dataclass
class _Evidence:
    """What counts towards the next decision; emptied by every decision."""

    champion: dict[int, MetricsWindow] = field(default_factory=dict)
    challenger: dict[int, MetricsWindow] = field(default_factory=dict)
    wins: list[tuple[MetricsWindow, MetricsWindow]] = field(default_factory=list)
    drifted: list[DriftWindow] = field(default_factory=list)


def _value(number: float | None) -> str:
    return "unknown" if number is None or math.isnan(number) else f"{number:.6g}"


class Policy:
    """The supervisor's state: who is champion, who may take over, and the evidence so far.

    A promoted challenger becomes the champion and the old champion its fallback; a
    champion that breaches the floor or whose input drifts is rolled back to its fallback
    (and never promoted again), or quarantined when it has none. After a decision the next
    ``cooldown_windows`` windows of the champion's metrics, and of the drift reports, are
    not counted.
    """

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.champion: str | None = None
        self.challenger: str | None = None
        self.fallbacks: list[str] = []
        self.named: str | None = None  # the model on the fallback input, if any
        self.retired: set[str] = set()
        self.quarantined = False
        self._inputs: dict[str, str | None] = {}
        self._served: dict[str, str] = {}
        self._relabel = False
        self._evidence = _Evidence()
        self._cool_metrics = 0
        self._cool_drift = 0
        self._last: float | None = None  # the champion's metric in its latest window

    def see_models(self, champion: str, challenger: str | None) -> None:
        """Take note of the labels on the champion and challenger inputs of this call.

        Only a change of an input counts: the champion input still holds the old model
        after a promotion, until the registry alias moves and sends the new one back.
        """
        if self._inputs.get("champion", "") != champion:
            self._inputs["champion"] = champion
            if champion != self.champion:
                if self.champion is not None and not self.quarantined:
                    self.fallbacks.append(self.champion)
                self.champion, self.quarantined = champion, False
                self.retired.discard(champion)
                self._reset(cooldown=False)
        if self._inputs.get("challenger", "") != challenger:
            self._inputs["challenger"] = challenger
            self.challenger = challenger
            self._evidence.challenger.clear()
            self._evidence.wins.clear()

    def see_fallback(self, fallback: str | None) -> None:
        """Take note of the label on the fallback input (a named alias, via model.get)."""
        self.named = fallback

    def _fallback(self, bad: str) -> str | None:
        """Who takes over from ``bad``: the fallback input's model, or the previous one."""
        if self.rules.fallback == "input":
            return self.named if self.named is not None and self.named != bad else None
        return self.fallbacks.pop() if self.fallbacks else None

    def on_metrics(self, seen: MetricsWindow) -> Decision | None:
        """One window of one model's metrics; a decision, or None."""
        label = self._served.get(seen.model, seen.model)
        known = {self.champion, self.challenger, *self.fallbacks, *self.retired}
        if self._relabel and label not in known and self.champion is not None:
            self._served[seen.model] = label = self.champion
            self._relabel = False
        evidence = self._evidence
        if label == self.champion:
            if self.quarantined:
                return None
            self._last = seen.value
            if self._cool_metrics > 0:
                self._cool_metrics -= 1
                return None
            breach = self._floor(seen)
            if breach is not None:
                return breach
            evidence.champion[seen.window] = seen
        elif label == self.challenger and label not in self.retired:
            evidence.challenger[seen.window] = seen
        else:
            return None
        return self._compare(seen.window)

    def on_drift(self, seen: DriftWindow) -> Decision | None:
        """One drift report of the champion's input; a decision, or None."""
        if self.champion is None or self.quarantined:
            return None
        if self._cool_drift > 0:
            self._cool_drift -= 1
            return None
        drifted = self._evidence.drifted
        if not seen.drift:
            drifted.clear()
            return None
        if drifted and drifted[-1].window != seen.window - 1:
            drifted.clear()
        drifted.append(seen)
        if len(drifted) < self.rules.drift_windows:
            return None
        columns = sorted({c for d in drifted for c in d.drifted.split(",") if c})
        span = _span(drifted[0].window, seen.window)
        reason = (f"the input of {self.champion} drifted in {len(drifted)} consecutive "
                  f"windows ({span}; columns: {', '.join(columns) or 'not named'})")
        return self._roll_back(seen.window, seen.rows, self._last, reason,
                               tuple(d.message for d in drifted))

    def _floor(self, seen: MetricsWindow) -> Decision | None:
        floor, rules = self.rules.floor, self.rules
        if floor is None or seen.rows < rules.min_rows or math.isnan(seen.value):
            return None
        worse = seen.value < floor if rules.higher_is_better else seen.value > floor
        if not worse:
            return None
        side = "below" if rules.higher_is_better else "above"
        reason = (f"the {rules.metric} of {self.champion} was {_value(seen.value)} in window "
                  f"{seen.window} ({seen.rows} labelled rows), {side} the floor {floor:g}")
        return self._roll_back(seen.window, seen.rows, seen.value, reason, (seen.message,))

    def _compare(self, window: int) -> Decision | None:
        evidence, rules = self._evidence, self.rules
        if window not in evidence.champion or window not in evidence.challenger:
            return None
        champ, chal = evidence.champion.pop(window), evidence.challenger.pop(window)
        for side in (evidence.champion, evidence.challenger):
            for old in [w for w in side if w < window]:
                del side[old]
        gain = chal.value - champ.value if rules.higher_is_better else champ.value - chal.value
        won = (min(champ.rows, chal.rows) >= rules.min_rows and not math.isnan(gain)
               and gain > 0 and gain >= rules.min_gain - TOLERANCE)
        if not won:
            evidence.wins.clear()
            return None
        if evidence.wins and evidence.wins[-1][0].window != window - 1:
            evidence.wins.clear()
        evidence.wins.append((champ, chal))
        if len(evidence.wins) < rules.windows:
            return None
        return self._promote()

    def _promote(self) -> Decision:
        rules, wins = self.rules, self._evidence.wins
        champ, chal = wins[-1]
        assert self.champion is not None and self.challenger is not None  # noqa: S101
        better = "higher" if rules.higher_is_better else "lower"
        reason = (f"{self.challenger} beat {self.champion} on {rules.metric} ({better} is "
                  f"better) by at least {rules.min_gain:g} in {len(wins)} consecutive "
                  f"windows ({_span(wins[0][0].window, champ.window)}), each with at least "
                  f"{rules.min_rows} labelled rows; last window: {_value(chal.value)} "
                  f"against {_value(champ.value)}")
        decision = Decision(champ.window, "promote", self.champion, self.challenger,
                            rules.metric, champ.value, chal.value,
                            min(champ.rows, chal.rows), reason,
                            tuple(sorted(m.message for pair in wins for m in pair)))
        self.fallbacks.append(self.champion)
        self.champion = self.challenger
        self._reset(cooldown=True)
        return decision

    def _roll_back(self, window: int, rows: int, value: float | None, reason: str,
                   evidence: tuple[int, ...]) -> Decision:
        bad = self.champion
        assert bad is not None  # noqa: S101 - only a champion is rolled back
        self.retired.add(bad)
        takes_over = self._fallback(bad)
        if takes_over is not None:
            self.champion = takes_over
            self.retired.discard(takes_over)
            named = " (the fallback input's model)" if self.rules.fallback == "input" else ""
            reason += f"; it is no longer served, and {self.champion}{named} takes over"
            decision = Decision(window, "rollback", bad, self.champion, self.rules.metric,
                                value, None, rows, reason, evidence)
        else:
            self.quarantined = True
            none = ("no model on the fallback input" if self.rules.fallback == "input"
                    else "no earlier champion")
            reason += (f"; there is {none} to fall back to, so it is "
                       "quarantined and still served: send a sound model to the "
                       "supervisor's champion input (with a registry, point the champion "
                       "alias at a sound version: edgewise models alias NAME champion "
                       "VERSION)")
            decision = Decision(window, "quarantine", bad, None, self.rules.metric, value,
                                None, rows, reason, evidence)
        self._reset(cooldown=True)
        return decision

    def _reset(self, *, cooldown: bool) -> None:
        self._evidence = _Evidence()
        self._last = None
        if cooldown:  # the supervisor itself now sends out the champion
            self._cool_metrics = self._cool_drift = self.rules.cooldown_windows
            # A scorer names an unregistered model ("#<id>") by the message it arrived in,
            # which the supervisor cannot know: the next metrics of a model label never
            # seen before are taken for the champion's.
            self._relabel = self.champion is not None and self.champion.startswith("#")


def _span(first: int, last: int) -> str:
    return f"window {last}" if first == last else f"windows {first} to {last}"
