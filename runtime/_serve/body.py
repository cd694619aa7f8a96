"""Request bodies: JSON to rows, checked against an endpoint's schema, and its OpenAPI form.

A body is one JSON object (one row) or a list of objects (one row each). With a schema
(column name to ``int``, ``float``, ``str`` or ``bool``), every object must have exactly
those fields, each of its type (an ``int`` is a ``float`` too; a ``bool`` is neither).
Malformed JSON is a 400; a body of the wrong shape or a field that breaks the schema is a
422 that names the field and the object.
"""

from __future__ import annotations

import json
from typing import Any

from runtime._serve.hub import ColumnTypes, Refused

COLUMN_TYPES = ("int", "float", "str", "bool")
_JSON_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


def _fits(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, int | float)
    return isinstance(value, str)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list",
            dict: "object"}.get(type(value), type(value).__name__)


def parse_rows(body: bytes, schema: ColumnTypes | None) -> list[dict[str, Any]]:
    """The rows of a request body.

    Raises:
        Refused: 400 for a body that is not JSON, 422 for one of the wrong shape or one
            that breaks the schema.
    """
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        msg = f"the body is not valid JSON: {exc}; send a JSON object or a list of objects"
        raise Refused(400, msg) from None
    rows = decoded if isinstance(decoded, list) else [decoded]
    if not rows:
        raise Refused(422, "the body is an empty list; send at least one object")
    for n, row in enumerate(rows):
        where = f"object {n}" if isinstance(decoded, list) else "the body"
        if not isinstance(row, dict):
            msg = f"{where} is {_type_name(row)}; send a JSON object or a list of objects"
            raise Refused(422, msg)
        if schema is None:
            continue
        missing = [c for c in schema if c not in row]
        if missing:
            msg = f"field '{missing[0]}' is missing in {where} (expected {_expected(schema)})"
            raise Refused(422, msg)
        extra = [c for c in row if c not in schema]
        if extra:
            msg = f"field '{extra[0]}' in {where} is not in the schema ({_expected(schema)})"
            raise Refused(422, msg)
        for column, kind in schema.items():
            if not _fits(row[column], kind):
                msg = (f"field '{column}' in {where} must be {kind}, not "
                       f"{_type_name(row[column])}")
                raise Refused(422, msg)
    return rows


def _expected(schema: ColumnTypes) -> str:
    return ", ".join(f"{c}: {k}" for c, k in schema.items())


def openapi_body(schema: ColumnTypes | None) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an endpoint: an object, or a list of objects."""
    row: dict[str, Any] = {"type": "object"}
    if schema is not None:
        row["properties"] = {c: {"type": _JSON_TYPES[k]} for c, k in schema.items()}
        row["required"] = list(schema)
        row["additionalProperties"] = False
    body = {"oneOf": [row, {"type": "array", "items": row, "minItems": 1}]}
    return {"required": True, "content": {"application/json": {"schema": body}}}


def error_body(message: str) -> bytes:
    """The JSON body of a refusal: ``{"detail": message}``."""
    return json.dumps({"detail": message}).encode()
