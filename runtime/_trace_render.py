"""One text rendering of a lineage path, shared by the ``edgewise trace`` command and the editor.

A path is the list of ``Step`` that ``Lineage.trace`` gives: each message, its depth below
the message traced, the side inputs it was made with (a model that scored it, for example),
the source line it came from and any note. Hosts differ only in how they indent (spaces in a
terminal, non-breaking spaces in a web page) and in whether they show when each message was
made; the words are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from runtime._record.lineage import Step

MAX_INDENT = 12
"""Deeper steps are indented no further, so a long path stays readable."""

LineKind = Literal["message", "input", "source", "note"]


@dataclass(frozen=True)
class TraceLine:
    """One line of a rendered lineage path.

    Attributes:
        text: The line, indented.
        kind: ``message`` (a step of the path), ``input`` (a side input it was made with),
            ``source`` (where a source read it) or ``note`` (something the path cannot say,
            for example that a message was built from more messages than are listed).
    """

    text: str
    kind: LineKind


def render_trace(steps: Iterable[Step], *, pad: str = "  ",
                 times: bool = False) -> list[TraceLine]:
    """A lineage path as lines of text, one per message, side input, source and note.

    Args:
        steps: The path, as ``Lineage.trace`` returns it (the traced message first).
        pad: One level of indentation.
        times: Also say when each message was made, in seconds into the run.

    Returns:
        The lines, in path order. The text is not escaped: a host that prints it to a
        terminal passes it through ``runtime._terminal.plain``.
    """
    lines: list[TraceLine] = []
    for step in steps:
        m = step.message
        indent = pad * min(step.depth, MAX_INDENT)
        inner = indent + pad
        rows = f", {m.rows} rows" if m.rows is not None else ""
        when = f", t={m.t:.3f} s" if times else ""
        lines.append(TraceLine(f"{indent}← #{m.id} {m.origin} ({step.component}{rows}{when})",
                               "message"))
        for side in step.side_inputs:
            info = side.preview or {}
            what = "scored by model" if info.get("kind") == "model" else "with"
            lines.append(TraceLine(f"{inner}{what} #{side.id} {side.origin} "
                                   f"{info.get('summary', '')}".rstrip(), "input"))
        source = step.source or {}
        if source.get("text"):
            lines.append(TraceLine(f"{inner}source: {source['text']}", "source"))
        if step.note:
            lines.append(TraceLine(step.note, "note"))
    return lines
