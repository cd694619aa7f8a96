"""The deploy form's parts without a browser: the port chosen, and the example body."""

from __future__ import annotations

import json

from editor.deploy_actions import parse_port
from editor.deploy_panel import example_body


def test_the_port_is_any_free_one_when_empty_and_a_whole_number_otherwise() -> None:
    assert parse_port("") == 0
    assert parse_port(None) == 0
    assert parse_port(" 8091 ") == 8091
    for wrong in ("abc", "0", "70000", "80.5", "-1"):
        problem = parse_port(wrong)
        assert isinstance(problem, str)
        assert "whole number from 1 to 65535" in problem


def test_the_example_body_is_one_row_of_the_endpoints_schema() -> None:
    nodes = [{"id": "a", "component": "http.in",
              "params": {"path": "/a", "schema": {"x": "float", "n": "int", "s": "str"}}},
             {"id": "b", "component": "http.in", "params": {"path": "/b"}},
             {"id": "c", "component": "frame.query", "params": {"path": "/a"}}]
    assert json.loads(example_body(nodes, "/a")) == {"x": 1.0, "n": 1, "s": "text"}
    assert example_body(nodes, "/b") == "{}"
    assert example_body([{"component": "http.in", "params": {"schema": {"x": "float"}}}],
                        "/predict") == '{"x": 1.0}'  # the default path
