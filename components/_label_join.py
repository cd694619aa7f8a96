"""The join of ``ml.monitor``: predictions meet labels that arrive later, in bounded memory.

Predictions wait for their label per model, at most ``max_wait`` of them; the oldest is
given up (and counted) when one more arrives. Labels are kept, at most ``max_wait`` of them
(the oldest dropped first), for the predictions of every model that may still come: in
shadow mode the champion's and the challenger's predictions of a row both need its label.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Prediction:
    """One prediction waiting for its label, or joined to it."""

    row: Any
    model: str
    message: int
    columns: tuple[str, ...]
    values: tuple[Any, ...]
    label: Any = None
    # the ids of the messages that brought the prediction and the label (for lineage)
    source: int = 0
    label_source: int = 0


@dataclass
class ModelState:
    """What the monitor keeps for one model."""

    waiting: OrderedDict[Any, Prediction] = field(default_factory=OrderedDict)
    window: list[Prediction] = field(default_factory=list)
    unlabelled: int = 0
    windows: int = 0
    task: str | None = None


class LabelJoin:
    """Joins predictions to labels by key within a bound; hands out the joined rows."""

    def __init__(self, max_wait: int) -> None:
        self.max_wait = max_wait
        self.models: dict[str, ModelState] = {}
        self.labels: OrderedDict[Any, tuple[Any, int]] = OrderedDict()  # key -> label, message
        self.dropped_labels = 0

    def model(self, label: str) -> ModelState:
        """The state of a model, made on first sight."""
        if label not in self.models:
            self.models[label] = ModelState()
        return self.models[label]

    def predicted(self, key: Any, prediction: Prediction) -> list[Prediction]:
        """Take one prediction; return it joined if its label is here, else keep it waiting."""
        state = self.model(prediction.model)
        if key in self.labels:
            prediction.label, prediction.label_source = self.labels[key]
            return [prediction]
        if state.waiting.pop(key, None) is not None:
            state.unlabelled += 1  # the same row again before a label: the older one is given up
        state.waiting[key] = prediction
        while len(state.waiting) > self.max_wait:
            state.waiting.popitem(last=False)
            state.unlabelled += 1
        return []

    def labelled(self, key: Any, label: Any, source: int = 0) -> list[Prediction]:
        """Take one label (from message ``source``); return the predictions it completes."""
        joined = []
        for state in self.models.values():
            prediction = state.waiting.pop(key, None)
            if prediction is not None:
                prediction.label, prediction.label_source = label, source
                joined.append(prediction)
        self.labels.pop(key, None)
        self.labels[key] = (label, source)
        while len(self.labels) > self.max_wait:
            self.labels.popitem(last=False)
            self.dropped_labels += 1
        return joined

    def give_up(self) -> None:
        """Count every prediction still waiting as unlabelled, and forget them (at the end)."""
        for state in self.models.values():
            state.unlabelled += len(state.waiting)
            state.waiting.clear()

    def kept(self) -> tuple[int, int]:
        """How many predictions (all models) and labels are held: bounded by ``max_wait``."""
        return sum(len(s.waiting) for s in self.models.values()), len(self.labels)
