"""What the runtime knows of one component: its spec, its settings base, and its instances.

:class:`ComponentSpec` is what ``@component`` makes of a function or class (see
``runtime._declare``); :class:`Instance` is that component made ready to run for one node.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from runtime._errors import ComponentDefinitionError
from runtime._ports import ERROR_PORT, Port, PortsFunction, call_ports

NEW_ROWS_TAG = "new_rows"
"""Tag of components whose DataFrame outputs are new rows (a group-by, a table of scores):
their row ids name groups or folds, not input rows, so row lineage stops there."""
UNPAIRED_TAG = "unpaired"
"""Tag of components called once per message of any stream input, the other stream inputs
being None: they join their streams themselves (a monitor joining labels that arrive later)."""
STATEFUL_TAG = "stateful"
"""Tag of components that keep state from one call to the next without an ``end()`` (a
window, a running model): such a node runs as one copy, never as replicas."""
COLUMN_SELECTORS = ("", "keys", "values", "expressions", "assignments")
"""How a ``column_params`` entry ``param.kind`` reads the param (see ``runtime._schema``)."""
ColumnsFunction = Callable[[Any, dict[str, list[str] | None]], Mapping[str, list[str] | None]]
"""Output columns from the params and each input's columns (None: unknown); see runtime._schema."""


class Params(BaseModel):
    """Base class of every component's settings: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    """Settings of a component that has none."""


Emission = tuple[str, Any]
"""One message a component emits: the output port and the value."""


class Instance:
    """A component made ready for one node: call it per firing, end it, close it."""

    def __init__(self, spec: ComponentSpec, params: Params) -> None:
        self.spec = spec
        self.params = params
        target: Any = spec.target
        if spec.is_class:
            obj = target(params) if spec.takes_params else target()
            self.call: Callable[..., Any] = obj
            self._end: Callable[[], Any] | None = getattr(obj, "end", None)
            self._close: Callable[[], Any] | None = getattr(obj, "close", None)
        else:
            self.call = functools.partial(target, params=params) if spec.takes_params else target
            self._end = None
            self._close = None
        self._outputs = spec.data_outputs
        # the one port every value goes to, when the ports cannot change: looked up once here,
        # not per emission (this is on the path of every message)
        self._single = (self._outputs[0] if len(self._outputs) == 1
                        and "outputs" not in spec.dynamic_sides else None)

    def emissions(self, result: Any) -> Iterator[Emission]:
        """Turn what the component returned into (port, value) pairs."""
        spec = self.spec
        if result is None:
            return
        if spec.is_generator or inspect.isgenerator(result):
            for item in result:
                yield from self._split(item)
        else:
            yield from self._split(result)

    def _split(self, value: Any) -> Iterator[Emission]:
        if value is None:
            return
        if self._single is not None:
            yield self._single, value
            return
        outputs = self._outputs
        if not outputs:
            return
        if not isinstance(value, dict):
            msg = (f"component '{self.spec.id}' has outputs {outputs} and must return a dict "
                   f"of port name to value, not {type(value).__name__}")
            raise TypeError(msg)
        for port, item in value.items():
            if port not in self.spec.outputs:
                msg = f"component '{self.spec.id}' has no output '{port}'"
                raise KeyError(msg)
            if item is not None:
                yield port, item

    def end(self) -> Iterator[Emission]:
        """Let a class component emit its final messages (returned, or yielded by ``end``)."""
        if self._end is None:
            return
        result = self._end()
        if inspect.isgenerator(result):
            for item in result:
                yield from self._split(item)
        else:
            yield from self._split(result)

    def close(self) -> None:
        """Release what the component holds (files, handles)."""
        if self._close is not None:
            self._close()


@dataclass
class ComponentSpec:
    """Everything the runtime, the CLI and the editor know about one component."""

    id: str
    target: Callable[..., Any]
    inputs: dict[str, Port]
    outputs: dict[str, Port]
    params_model: type[Params]
    title: str
    category: str
    doc: str
    threaded: bool = False
    is_class: bool = False
    is_generator: bool = False
    takes_params: bool = False
    tags: frozenset[str] = field(default_factory=frozenset)
    runs_code: bool = False
    inputs_function: PortsFunction | None = None
    outputs_function: PortsFunction | None = None
    named_inputs: tuple[str, ...] = ()
    columns_function: ColumnsFunction | None = None
    column_params: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def data_outputs(self) -> list[str]:
        """The declared output ports, without the built-in ``error`` port."""
        return [p for p in self.outputs if p != ERROR_PORT]

    @property
    def dynamic_sides(self) -> list[str]:
        """Which of ``inputs`` and ``outputs`` depend on the params (none for most)."""
        return [side for side, fn in (("inputs", self.inputs_function),
                                      ("outputs", self.outputs_function)) if fn is not None]

    def resolve(self, params: Params) -> ComponentSpec:
        """This component with the ports of the given (validated) params.

        A component whose ports do not depend on its params is returned as it is.

        Raises:
            ComponentDefinitionError: the ports function failed, or gave ports that cannot
                be (a bad name, an ``error`` output, an input its function cannot take).
        """
        if self.inputs_function is None and self.outputs_function is None:
            return self
        inputs, outputs = self.inputs, self.outputs
        if self.inputs_function is not None:
            inputs = call_ports(self.id, self.inputs_function, params, output=False)
            missing = [n for n in self.named_inputs if n not in inputs]
            if missing:
                msg = (f"component '{self.id}': its function takes {missing}, which are not "
                       f"among its input ports for these params ({', '.join(inputs) or 'none'})")
                raise ComponentDefinitionError(msg)
            if self.takes_params and "params" in inputs:
                msg = f"component '{self.id}': an input port cannot be named 'params'"
                raise ComponentDefinitionError(msg)
        if self.outputs_function is not None:
            outputs = call_ports(self.id, self.outputs_function, params, output=True)
        return replace(self, inputs=inputs, outputs=outputs)

    def instantiate(self, params: Params) -> Instance:
        """Make the component ready to run for one node (with the ports of its params)."""
        return Instance(self.resolve(params), params)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly, as plain Python."""
        return self.target(*args, **kwargs)

    def to_json(self) -> dict[str, Any]:
        """Describe the component for the editor and ``edgewise components --json``."""
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "doc": self.doc,
            "inputs": [p.to_json() for p in self.inputs.values()],
            "outputs": [p.to_json() for p in self.outputs.values()],
            "params_schema": self.params_model.model_json_schema(),
            "tags": sorted(self.tags),
            "runs_code": self.runs_code,
            "dynamic_ports": bool(self.dynamic_sides),
            "dynamic_sides": self.dynamic_sides,
        }
