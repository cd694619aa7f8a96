"""The ``http`` family's contract, the checks on its params, and http.in outside a server."""

from __future__ import annotations

from typing import Any

import pytest

import runtime
from tests.components.contract import contract_tests, param_problems

FAMILY_MODULE = "components.http_io"
CONTRACT: dict[str, dict[str, Any]] = {
    "http.in": {
        "inputs": {},
        "outputs": {"data": "DataFrame"},
        "required": set(),
        "defaults": {"path": "/predict", "method": "POST", "schema_": None,
                     "timeout_ms": 10_000, "max_queued": 64, "max_in_flight": 1024,
                     "batch_window_ms": 0.0, "max_batch_rows": 1024},
    },
    "http.out": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {},
        "required": set(),
        "defaults": {"columns": None, "status": 200},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract, _by_field_name) = contract_tests(
    FAMILY_MODULE, CONTRACT)


@pytest.mark.parametrize("component_id", sorted(CONTRACT))
def test_params_model_forbids_unknown_keys_and_describes_every_field(component_id: str) -> None:
    # as the shared contract test, but a field is named by its alias ("schema" in flow files)
    model = runtime.default_registry().get(component_id).params_model
    schema = model.model_json_schema()
    assert model.model_config.get("extra") == "forbid"
    assert schema.get("additionalProperties") is False
    for name, field in model.model_fields.items():
        assert field.description
        assert schema["properties"][field.alias or name].get("description")


@pytest.mark.parametrize(("params", "found"), [
    ({"path": "predict"}, "'predict' is not an endpoint path"),
    ({"path": "/health"}, "not one of /health"),
    ({"path": "/a b"}, "is not an endpoint path"),
    ({"method": "GET"}, "method"),
    ({"schema": {"x": "decimal"}}, "schema"),
    ({"timeout_ms": 0}, "timeout_ms"),
    ({"max_queued": 0}, "max_queued"),
])
def test_bad_http_in_params_are_found_by_validate(params: dict[str, Any], found: str) -> None:
    problems = param_problems("http.in", params)
    assert problems, params
    assert any(found in p.message or found == p.param for p in problems), problems


def test_a_schema_is_written_as_schema_in_the_flow_file() -> None:
    assert param_problems("http.in", {"schema": {"x": "float", "ok": "bool"}}) == []
    assert param_problems("http.out", {"status": 99}) != []


def test_http_in_under_a_plain_run_says_to_serve_the_flow() -> None:
    result = runtime.run_flow({"edgewise": 1, "name": "t", "nodes": [
        {"id": "in", "component": "http.in"}, {"id": "out", "component": "http.out"}],
        "edges": [{"source": "in.data", "target": "out.data"}]})
    assert result.status == "errors"
    assert "edgewise serve" in str(result.first_error)
    assert "http.in" in str(result.first_error)
