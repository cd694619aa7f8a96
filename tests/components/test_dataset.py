"""The ``dataset`` family: dataset.load."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from contract import contract_tests

import runtime
from runtime.testing import run_component

FAMILY_MODULE = "components.dataset"
CONTRACT: dict[str, dict[str, Any]] = {
    "dataset.load": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": {"name"},
        "defaults": {},
    },
}

# (rows, feature columns) of each data set bundled with scikit-learn.
SHAPES = {
    "iris": (150, 4),
    "wine": (178, 13),
    "breast_cancer": (569, 30),
    "diabetes": (442, 10),
    "digits": (1797, 64),
}



(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        msg = "network access attempted during a test"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_load_emits_one_frame_with_a_target_column_offline(name: str) -> None:
    out = run_component("dataset.load", params={"name": name})
    assert out.errors == []
    assert out.result.status == "ok"
    [frame] = out["data"]
    rows, features = SHAPES[name]
    assert frame.shape == (rows, features + 1)
    assert "target" in frame.columns
    assert frame["target"].notna().all()
    assert list(frame.index) == list(range(rows))


def test_load_keeps_scikit_learn_feature_names() -> None:
    [frame] = run_component("dataset.load", params={"name": "iris"})["data"]
    assert list(frame.columns) == ["sepal length (cm)", "sepal width (cm)",
                                   "petal length (cm)", "petal width (cm)", "target"]
    assert sorted(frame["target"].unique()) == [0, 1, 2]


@pytest.mark.parametrize("params", [{}, {"name": "titanic"}])
def test_load_refuses_a_missing_or_unknown_name_at_validation(params: dict[str, Any]) -> None:
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "t",
        "nodes": [{"id": "load", "component": "dataset.load", "params": params}],
        "edges": []})
    problems = runtime.validate(flow)
    assert [(p.node, p.param) for p in problems] == [("load", "name")]
