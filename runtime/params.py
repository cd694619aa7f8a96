"""Helpers for declaring component params that name files, resolved against the flow's folder."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runtime.graph import PATH_KEY


def input_path(description: str, **kwargs: Any) -> Any:
    """A param naming a file that must exist; relative paths resolve against the flow file."""
    return Field(description=description, json_schema_extra={PATH_KEY: "input"}, **kwargs)


def output_path(description: str, **kwargs: Any) -> Any:
    """A param naming a file to write; relative paths resolve against the flow file."""
    return Field(description=description, json_schema_extra={PATH_KEY: "output"}, **kwargs)
