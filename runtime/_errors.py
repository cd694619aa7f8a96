"""Exceptions and problem reports that the runtime gives back to its users.

Hierarchy::

    EdgewiseError
    ├── FlowFileError        the flow file cannot be read or parsed (exit code 2)
    ├── FlowInvalidError     the flow parsed, but has problems; carries every Problem
    ├── UntrustedFlowError   the flow holds code and is not trusted; nothing ran (exit 2)
    ├── ComponentDefinitionError  a component was declared wrongly (a bug in its package)
    └── UsageError           a command was asked for something it cannot do as asked (exit 2)
        ├── RunLookupError   a kept run does not hold what was asked for: a run, message,
        │                    row, port or model (also a LookupError)
        └── RunValueError    a kept value is not of the kind a question needs: not a
                             model, not a table (also a ValueError)

A mistake in the user's own input is always one of these, with a message that says what
is wrong and where. Anything else that escapes is a bug in Edgewise.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow, located as precisely as possible.

    Attributes:
        message: What is wrong and, where we can tell, what to do about it.
        code: A stable, short identifier such as ``unknown-component``.
        node: The id of the node at fault, if any.
        edge: The id (``source->target``) of the edge at fault, if any.
        param: The name of the param at fault, if any.
        where: A JSON-path-like location in the flow file, for example ``nodes[2].params``.
    """

    message: str
    code: str
    node: str | None = None
    edge: str | None = None
    param: str | None = None
    where: str | None = None

    def __str__(self) -> str:
        """The message, which names its own location, for one line of terminal output."""
        return self.message

    def location(self) -> str:
        """Say where the problem is, in the words a user would use."""
        if self.node and self.param:
            return f"node '{self.node}', param '{self.param}'"
        if self.node:
            return f"node '{self.node}'"
        if self.edge:
            return f"edge '{self.edge}'"
        return self.where or "flow"

    def to_json(self) -> dict[str, str | None]:
        """Return a JSON-able dict for ``--json`` output and the editor."""
        return {
            "code": self.code,
            "message": self.message,
            "node": self.node,
            "edge": self.edge,
            "param": self.param,
            "where": self.where,
        }


class EdgewiseError(Exception):
    """Base class of every error the runtime raises on purpose."""


class FlowFileError(EdgewiseError):
    """The flow file cannot be read: it is missing, unreadable, or not JSON."""


@dataclass
class FlowInvalidError(EdgewiseError):
    """The flow has one or more problems; all of them are listed."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        """List every problem, one per line."""
        lines = [f"the flow has {len(self.problems)} problem(s):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class UntrustedFlowError(EdgewiseError):
    """A flow that holds code (nodes of ``runs_code`` components) is not trusted here.

    Attributes:
        flow: The flow file, as the user named it.
        code_nodes: ``(node id, component id)`` of every node that would run code.
    """

    def __init__(self, flow: str, code_nodes: list[tuple[str, str]], *,
                 is_file: bool = True) -> None:
        self.flow = flow
        self.code_nodes = code_nodes
        nodes = ", ".join(f"'{n}' ({c})" for n, c in code_nodes)
        how = (f"run `edgewise trust {flow}`, or add --trust to run it this once" if is_file
               else "add --trust to run it")
        super().__init__(
            f"{flow} holds code that would run on this machine, in node(s) {nodes}, and it "
            f"is not trusted here: it was not saved in your editor nor trusted with "
            f"`edgewise trust`. Read that code first; then {how}.")


class ComponentDefinitionError(EdgewiseError):
    """A component's declaration is inconsistent; this is a bug in the component package."""


class UsageError(EdgewiseError):
    """A command was asked for something it cannot do as asked; the message says what to change.

    For example an option that does not fit the others, or an output file that cannot be
    written. The command line shows the message and exits with code 2, never a traceback.
    """


class RunLookupError(UsageError, LookupError):
    """A kept run does not hold what was asked for: a run, message, row, port or model.

    It is also a ``LookupError``, so code that asks a run store and treats a missing answer
    as a ``LookupError`` keeps working.
    """


class RunValueError(UsageError, ValueError):
    """A kept value is not of the kind a question needs: not a model, not a table.

    It is also a ``ValueError``, for code that already treats it as one.
    """
