"""The contract checks that every component family's tests share: ids, ports and params.

A family's test module declares ``FAMILY_MODULE`` and ``CONTRACT`` (the issue's table) and
gets the three standard tests from ``contract_tests``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

import runtime
from tests.flowkit import make_flow


def described(component_id: str) -> dict[str, Any]:
    return {c["id"]: c for c in runtime.components()}[component_id]


def family_ids(module: str) -> list[str]:
    return [s.id for s in runtime.default_registry() if s.target.__module__ == module]


def one_node_flow(component_id: str, params: dict[str, Any]) -> runtime.Flow:
    return make_flow({"n": (component_id, params)})


def param_problems(component_id: str, params: dict[str, Any]) -> list[runtime.Problem]:
    """Validate a one-node flow; return the problems about params (not unconnected inputs)."""
    return [p for p in runtime.validate(one_node_flow(component_id, params)) if p.param]


def contract_tests(module: str, contract: dict[str, dict[str, Any]],
                   ) -> tuple[Callable[..., None], ...]:
    """The three standard tests of a family, parametrised over its components."""

    def test_family_has_exactly_the_contracted_components() -> None:
        assert sorted(family_ids(module)) == sorted(contract)

    @pytest.mark.parametrize("component_id", sorted(contract))
    def test_ports_and_params_match_the_contract(component_id: str) -> None:
        info, want = described(component_id), contract[component_id]
        assert {p["name"]: (p["type"], p["mode"]) for p in info["inputs"]} == want["inputs"]
        assert {p["name"]: p["type"] for p in info["outputs"]} == {
            **want["outputs"], "error": "ErrorRecord"}
        assert set(info["params_schema"].get("required", [])) == want["required"]
        # ports set by params: the contract lists those of the default params
        assert info["dynamic_sides"] == want.get("dynamic_sides", [])
        fields = runtime.default_registry().get(component_id).params_model.model_fields
        for name, default in want["defaults"].items():
            assert fields[name].get_default(call_default_factory=True) == default

    @pytest.mark.parametrize("component_id", family_ids(module))
    def test_params_model_forbids_unknown_keys_and_describes_every_field(
            component_id: str) -> None:
        spec = runtime.default_registry().get(component_id)
        model: type[BaseModel] = spec.params_model
        assert model.model_config.get("extra") == "forbid"
        schema = model.model_json_schema()
        assert schema.get("additionalProperties") is False
        for name, field in model.model_fields.items():
            assert field.description, f"{component_id} param '{name}' has no description"
            assert schema["properties"][name].get("description")
        problems = runtime.validate(one_node_flow(component_id, {"bogus_key": 1}))
        assert any(p.param == "bogus_key" and "unknown param" in p.message for p in problems)

    return (test_family_has_exactly_the_contracted_components,
            test_ports_and_params_match_the_contract,
            test_params_model_forbids_unknown_keys_and_describes_every_field)
