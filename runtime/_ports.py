"""Port declarations of components: the ``Port`` type, ``latest(...)``, and their checks.

A component declares each port by a type name (``"DataFrame"``) or a :class:`Port`
(``latest("Model")`` for an input that keeps its most recent value). Ports may also be
given by a function of the component's validated params (:data:`PortsFunction`); the
checks here turn either form into named :class:`Port` objects and add the built-in
``error`` output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runtime._errors import ComponentDefinitionError

ERROR_PORT = "error"
"""The output every component has for the error records of its failed firings."""
ERROR_TYPE = "ErrorRecord"
ANY = "Any"
"""The type name that fits every other type, on either end of an edge."""

PortMode = Literal["stream", "latest"]
PORT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Port:
    """A named, typed port. Input ports also have a mode, ``stream`` or ``latest``."""

    type: str = ANY
    mode: PortMode = "stream"
    required: bool = True
    doc: str = ""
    name: str = ""
    # A latest input stream messages wait for, once connected, until it has a value; one
    # that does not hold them back is None in the calls made before its first value.
    waits: bool = True

    def to_json(self) -> dict[str, Any]:
        """Describe the port for the editor and ``edgewise components --json``."""
        described = {"name": self.name, "type": self.type, "mode": self.mode,
                     "required": self.required, "doc": self.doc}
        if not self.waits:
            described["waits"] = False
        return described


def latest(type_: str = ANY, doc: str = "", *, required: bool = True,
           waits: bool = True) -> Port:
    """Declare a ``latest`` input: it keeps its most recent value and does not consume it.

    Args:
        type_: The type name of its values.
        doc: What the input is for.
        required: Whether it must be connected.
        waits: Whether stream messages wait for its first value once it is connected (a
            test set to score on). False: they go on without it, and the component gets
            None until the first value comes (a challenger model not registered yet).
    """
    return Port(type=type_, mode="latest", required=required, doc=doc, waits=waits)


PortDecl = str | Port
"""How one port is declared: a type name such as ``"DataFrame"``, or a ``Port``."""
PortsFunction = Callable[[Any], Mapping[str, PortDecl]]
"""Ports as a function of a component's validated params: port name to declaration."""


def declared_ports(decl: Mapping[str, PortDecl] | None, *, output: bool) -> dict[str, Port]:
    """Turn port declarations into named ports, in order.

    Raises:
        ComponentDefinitionError: a declaration is neither a type name nor a ``Port``, or
            an output is declared ``latest``.
    """
    ports: dict[str, Port] = {}
    for name, spec in (decl or {}).items():
        if not isinstance(spec, str | Port):
            msg = f"port '{name}' must be declared by a type name or a Port, not {spec!r}"
            raise ComponentDefinitionError(msg)
        port = Port(type=spec) if isinstance(spec, str) else spec
        if output and port.mode != "stream":
            msg = f"output port '{name}' cannot have mode '{port.mode}'"
            raise ComponentDefinitionError(msg)
        ports[name] = Port(type=port.type, mode=port.mode, required=port.required,
                           doc=port.doc, name=name, waits=port.waits)
    return ports


def error_port() -> Port:
    """The built-in ``error`` output port."""
    return Port(type=ERROR_TYPE, name=ERROR_PORT, doc="Error records of failed firings.")


def call_ports(component_id: str, function: PortsFunction, params: Any, *,
               output: bool) -> dict[str, Port]:
    """Call a ports function and check what it gives; outputs get the ``error`` port.

    Raises:
        ComponentDefinitionError: the function failed, or gave ports that cannot be (not a
            dict, a bad name, a bad declaration, an ``error`` output).
    """
    side = "output" if output else "input"
    try:
        decl = function(params)
    except Exception as exc:
        msg = (f"component '{component_id}' could not work out its {side} ports from its "
               f"params: {type(exc).__name__}: {exc}")
        raise ComponentDefinitionError(msg) from exc
    if not isinstance(decl, Mapping):
        msg = (f"component '{component_id}': its {side} ports function must return a dict of "
               f"port name to type, not {type(decl).__name__}")
        raise ComponentDefinitionError(msg)
    for name in decl:
        if not isinstance(name, str) or not PORT_NAME.fullmatch(name):
            msg = (f"component '{component_id}': {side} port name {name!r} is not a valid "
                   "name (letters, digits and _, not starting with a digit)")
            raise ComponentDefinitionError(msg)
    try:
        ports = declared_ports(decl, output=output)
    except ComponentDefinitionError as exc:
        msg = f"component '{component_id}': {exc}"
        raise ComponentDefinitionError(msg) from exc
    if output:
        if ERROR_PORT in ports:
            msg = f"component '{component_id}': the 'error' output is built in; do not declare it"
            raise ComponentDefinitionError(msg)
        ports[ERROR_PORT] = error_port()
    return ports
