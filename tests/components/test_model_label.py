"""A model's label names its registry version when it has one, else the message that carried it."""

from __future__ import annotations

from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from components._model_label import model_label, registry_tag, tag_model


def test_an_unregistered_model_is_named_by_its_message() -> None:
    model = LogisticRegression()
    assert registry_tag(model) is None
    assert model_label(model, 17) == "#17"


def test_a_registered_model_is_named_by_name_and_version_and_its_params_stay() -> None:
    model = tag_model(LogisticRegression(C=0.5), "churn", 3)
    assert model_label(model, 17) == "churn:3"
    assert registry_tag(model) == ("churn", 3)
    assert model.get_params() == LogisticRegression(C=0.5).get_params()
    assert registry_tag(clone(model)) is None  # a refit is a new, unregistered model
