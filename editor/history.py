"""The undo history of a JSON document: snapshots, typing kept as one step, the dirty marker."""

from __future__ import annotations

import json
import time
from typing import Any

Doc = dict[str, Any]
HISTORY_LIMIT = 200
TYPING_PAUSE = 1.5  # seconds: edits of one field closer together than this undo as one


def _canonical(value: Any, in_params: bool = False) -> Any:
    """The document with its mappings' keys sorted, except inside a node's param values.

    A param value may be an ordered mapping (``frame.route``'s routes, ``frame.assign``'s
    columns), whose order is part of what it says; the order of every other key is not.
    """
    if isinstance(value, dict):
        if in_params:
            return {k: _canonical(v, in_params=True) for k, v in value.items()}
        return {k: _params(v) if k == "params" else _canonical(v)
                for k, v in sorted(value.items(), key=_key)}
    if isinstance(value, list):
        return [_canonical(v, in_params) for v in value]
    return value


def _key(item: tuple[Any, Any]) -> str:
    return str(item[0])


def _params(params: Any) -> Any:
    """Params with their names sorted, and each value's own key order kept."""
    if not isinstance(params, dict):
        return params
    return {k: _canonical(v, in_params=True) for k, v in sorted(params.items(), key=_key)}


def params_text(params: Any) -> str:
    """Params as text, to compare two sets of params (their own order kept inside values)."""
    return json.dumps(_params(params), default=str)


class History:
    """A JSON document with undo and redo; every edit is a whole-document snapshot.

    An edit calls ``_checkpoint`` first; edits of one field (``_checkpoint(field)``) closer
    together than ``TYPING_PAUSE`` undo as one step.
    """

    def __init__(self, data: Doc) -> None:
        self.data: Doc = data
        self._undo: list[str] = []
        self._redo: list[str] = []
        self._saved = self._text()
        self._last_field: tuple[str, float] | None = None

    def _text(self) -> str:
        # the document with its own keys sorted, but the order inside params values kept
        return json.dumps(_canonical(self.data), default=str)

    def _snapshot(self) -> str:
        # key order kept: an ordered mapping in params (frame.route's routes) means it
        return json.dumps(self.data)

    @property
    def dirty(self) -> bool:
        """Whether there are changes since the last save."""
        return self._text() != self._saved

    def mark_saved(self) -> None:
        """Record that the current state is what is on disk."""
        self._saved = self._text()

    def _checkpoint(self, field: str | None = None) -> None:
        now = time.monotonic()
        last, self._last_field = self._last_field, (field, now) if field else None
        if field and last and last[0] == field and now - last[1] < TYPING_PAUSE:
            return
        self._undo.append(self._snapshot())
        del self._undo[:-HISTORY_LIMIT]
        self._redo.clear()

    def undo(self) -> bool:
        """Go back one edit; return whether there was one."""
        if not self._undo:
            return False
        self._redo.append(self._snapshot())
        self.data = json.loads(self._undo.pop())
        self._last_field = None
        return True

    def redo(self) -> bool:
        """Redo one undone edit; return whether there was one."""
        if not self._redo:
            return False
        self._undo.append(self._snapshot())
        self.data = json.loads(self._redo.pop())
        self._last_field = None
        return True
