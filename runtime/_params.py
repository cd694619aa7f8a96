"""Helpers for declaring component params that name files, resolved against the flow's folder."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from runtime._model import file_kind

PATH_KEY = "x-edgewise-path"
"""JSON-schema key marking a param that names a file: its value is ``input`` or ``output``."""
URL_KEY = "x-edgewise-url"
"""JSON-schema key marking a path param that also takes a URL (``scheme://...``) as it is."""
URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
"""The start of a URL (``postgresql://``): such a value of a URL path param is not a path."""


def special_file_kind(path: str | Path) -> str | None:
    """Say what ``path`` is ("a character device", ...) if it is there but not a regular file.

    Symbolic links are followed, so a link to ``/dev/null`` is a character device. Returns
    None for a regular file, and for a path where nothing is yet.

    Raises:
        OSError: the path cannot be looked at (a link loop, a name too long, no permission).
        ValueError: the path holds a NUL character.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    return None if stat.S_ISREG(mode) else file_kind(mode)


def _problem(reason: str) -> PydanticCustomError:
    return PydanticCustomError("path", "{reason}", {"reason": reason})


def _no_nul(value: str) -> str:
    if "\x00" in value:
        msg = "the path holds a NUL character (\\x00), which no file name can hold"
        raise _problem(msg)
    return value


def _kind(value: str) -> str | None:
    _no_nul(value)
    try:
        return special_file_kind(value)
    except OSError as exc:
        msg = f"the path cannot be used: {exc.strerror or exc}"
        raise _problem(msg) from exc


def _readable(value: str) -> str:
    _no_nul(value)
    try:
        os.stat(value)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # anything else missing is reported as a missing file
            msg = f"the path cannot be used: {exc.strerror}"
            raise _problem(msg) from exc
    return value


def _writable(value: str) -> str:
    kind = _kind(value)
    if kind is not None:
        msg = (f"{value} is {kind}, not a regular file; Edgewise writes only regular files "
               "and never replaces anything else, so choose a file name")
        raise _problem(msg)
    return value


def _checked(info: Any, check: Any) -> Any:
    info.metadata.append(AfterValidator(check))
    return info


def _extra(kind: str, url: bool) -> dict[str, Any]:
    return {PATH_KEY: kind, URL_KEY: True} if url else {PATH_KEY: kind}


def input_path(description: str, *, url: bool = False, **kwargs: Any) -> Any:
    """A param naming a file that must exist; relative paths resolve against the flow file.

    With ``url=True``, a value such as ``postgresql://host/db`` is taken as a URL, as it is.
    """
    return _checked(Field(description=description, json_schema_extra=_extra("input", url),
                          **kwargs), _readable)


def output_path(description: str, *, url: bool = False, **kwargs: Any) -> Any:
    """A param naming a file to write; relative paths resolve against the flow file.

    The flow is invalid if the path is already taken by anything but a regular file (a
    device such as ``/dev/null``, a folder, a pipe, or a link to one of them). With
    ``url=True``, a value such as ``postgresql://host/db`` is taken as a URL, as it is.
    """
    return _checked(Field(description=description, json_schema_extra=_extra("output", url),
                          **kwargs), _writable)
