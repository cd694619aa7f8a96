"""Validation errors that name one param, for checks that look at several params at once."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


def param_problem(message: str, *, field: str, value: Any, model: str) -> ValidationError:
    """A validation error about ``field`` of ``model``, so that validation names that param.

    Raise it from a ``model_validator(mode="wrap")``; a plain ValueError raised there would
    be reported against no param at all.
    """
    error = PydanticCustomError("value_error", "{reason}", {"reason": message})
    return ValidationError.from_exception_data(
        model, [InitErrorDetails(type=error, loc=(field,), input=value)])
