"""The errors of failing nodes in a live run: plain messages, the node's entry and the toast."""

from __future__ import annotations

import ast
import difflib
import re
import time
from typing import Any

from nicegui import ui

TOAST_ERROR = 160
TOAST_NODES = 3
SHOWN_INPUTS = 10

# "ValueError: ", "pydantic_core._pydantic_core.ValidationError: " at the start of a line
_CLASS_NAME = re.compile(r"(^|(?<=: )|(?<=\n))(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception)"
                         r": ", re.MULTILINE)
# pydantic: "1 validation error for Params", "  Value error, ...", "[type=value_error, ...]"
_VALIDATION_HEAD = re.compile(r"^\d+ validation errors? for \S+\s*$", re.MULTILINE)
_PYDANTIC_TAIL = re.compile(r"\s*\[type=[^\]]*\]")
_FIELD_LINE = re.compile(r"^(\S[^\n]*)\n[ \t]+(\S[^\n]*)$", re.MULTILINE)
# "column 'targt' is not in the data; columns: a, b, target" (ml.fit and others)
_UNKNOWN_COLUMN = re.compile(r"column '([^']+)' is not in the data; columns: (.+)$")
# the list of a frame's columns that a message ends with: too long for a toast
_COLUMN_LIST = re.compile(r"\s*\(columns: .*\)$|; columns: .*?(?=; did you mean|$)")
_HINT = re.compile(r"did you mean [^?]*\?")
_PYDANTIC_URL = re.compile(r"^\s*For further information visit \S+\s*$", re.MULTILINE)


def plain_message(message: str) -> str:
    """A component's error message in plain words: no exception class names, no pydantic noise.

    Args:
        message: the message of an error record.

    Returns:
        The same message without class-name prefixes (``ValueError: ``), pydantic's
        ``Value error, `` prefix, its headline, its ``[type=...]`` tails and its help links.
    """
    text = _PYDANTIC_URL.sub("", message)
    text = _PYDANTIC_TAIL.sub("", text)
    if _VALIDATION_HEAD.search(text):  # "field\n  message" becomes "field: message"
        text = _FIELD_LINE.sub(r"\1: \2", _VALIDATION_HEAD.sub("", text))
    text = text.replace("Value error, ", "").replace("Assertion failed, ", "")
    text = _CLASS_NAME.sub("", text)
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":  # str() of a KeyError
        try:
            unquoted = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            unquoted = None
        if isinstance(unquoted, str):
            text = unquoted
    return text


def readable(message: str) -> str:
    """A message in plain words, with a "did you mean" for an unknown column if it lacks one."""
    text = plain_message(message)
    found = _UNKNOWN_COLUMN.search(text)
    if found and "did you mean" not in text:
        close = difflib.get_close_matches(found.group(1), found.group(2).split(", "), n=1)
        if close:
            text += f"; did you mean '{close[0]}'?"
    return text


def _short(text: str, limit: int) -> str:
    """At most ``limit`` characters on one line, keeping a "did you mean" at the end."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    hint = _HINT.search(text)
    if hint is None or hint.end() <= limit - 1:
        return text[:limit - 1] + "…"
    return text[:max(0, limit - len(hint.group(0)) - 2)] + "… " + hint.group(0)


class NodeErrors:
    """What the nodes of the live run failed with: the first and the last error of each."""

    def __init__(self) -> None:
        self.first: dict[str, dict[str, Any]] = {}
        self.last: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}

    def clear(self) -> None:
        """Forget every error (a new run starts)."""
        self.first.clear()
        self.last.clear()
        self.counts.clear()

    def take(self, node: str, record: dict[str, Any], count: int) -> dict[str, Any]:
        """Keep an error the worker reported; return the Debug panel's entry for it."""
        self.first.setdefault(node, record)
        self.last[node] = record
        self.counts[node] = count
        text = f"{record.get('component', '')}: {readable(str(record.get('message', '')))}"
        if count > 1:
            text += f" ({count} errors so far)"
        inputs = record.get("inputs") or []
        return {"node": node, "id": inputs[0] if inputs else None, "kind": "error",
                "text": text, "t": time.time()}

    def toast(self, failed: list[str]) -> str:
        """The toast after a run: the failing nodes, each with its first error."""
        named = []
        for node in failed[:TOAST_NODES]:
            record = self.first.get(node)
            if record is None:
                named.append(f"'{node}'")
                continue
            message = _short(_COLUMN_LIST.sub("", readable(str(record.get("message", "")))),
                             TOAST_ERROR)
            named.append(f"'{node}' ({record.get('component', '')}: {message})")
        more = f" and {len(failed) - TOAST_NODES} more" if len(failed) > TOAST_NODES else ""
        noun = "node" if len(failed) == 1 else "nodes"
        return f"{len(failed)} {noun} failed: {', '.join(named)}{more}"

    def render(self, box: ui.column, node: str) -> None:
        """Show a node's last error, Problems-style, in ``box`` (nothing if it did not fail)."""
        box.clear()
        record = self.last.get(node)
        if record is None:
            return
        count = self.counts.get(node, 1)
        with box, ui.column().classes("w-full gap-0 q-pa-xs ew-node-error").props(
                f'data-testid="node-error" data-node-id="{node}"'):
            ui.label(f"last error of '{node}' ({record.get('component', '')})"
                     + (f", {count} errors in this run" if count > 1 else "")).classes(
                "text-caption text-weight-medium")
            ui.label(readable(str(record.get("message", "")))).classes(
                "text-caption text-negative").style(
                "white-space: pre-wrap; word-break: break-word").props(
                'data-testid="node-error-message"')
            inputs = [str(i) for i in record.get("inputs") or []]
            if inputs:
                shown = ", ".join(f"#{i}" for i in inputs[:SHOWN_INPUTS])
                if len(inputs) > SHOWN_INPUTS:
                    shown += f" and {len(inputs) - SHOWN_INPUTS} more"
                ui.label(f"failing input message(s): {shown}").classes(
                    "text-caption text-grey-8").props('data-testid="node-error-inputs"')
