"""The component SDK: the ``@component`` decorator, port declarations, and plugin discovery.

A component is a plain function whose parameters are its input ports (plus an optional
``params`` keyword holding its validated settings), or a small class when it keeps state::

    @component("frame.query", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
               params=QueryParams)
    def query(data, *, params):
        return data.query(params.expr)

A function with one output returns the value for it (``None`` emits nothing); with several,
it returns a dict of port name to value. A generator function yields such values, one
message each. A class is built with the params, is called like the function for every
firing, and may define ``end()`` (return or yield final values) and ``close()``.

Ports that depend on params: ``inputs`` or ``outputs`` (or both) may be a function of the
validated params model instead of a dict. It returns the port declarations for those
params, in order; it must be quick and import nothing heavy, as hosts call it whenever the
params change::

    def route_outputs(params: RouteParams) -> dict[str, PortDecl]:
        return {**dict.fromkeys(params.routes, "DataFrame"), "otherwise": "DataFrame"}

    @component("frame.route", inputs={"data": "DataFrame"}, outputs=route_outputs,
               params=RouteParams)
    def route(data, *, params):
        ...

A component with dynamic inputs receives them as keyword arguments, so its function (or
its class's ``__call__``) takes ``**inputs``; it may also name ports that the function
always returns. A component with dynamic outputs always returns (or yields) a dict of port
name to value, even when its params give it a single output.

``ComponentSpec.inputs``/``outputs`` hold the ports for the default params (none when the
defaults are not valid params); ``ComponentSpec.resolve(params)`` gives the component with
the ports of given params, which validation, the engine and hosts use.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from runtime.errors import ComponentDefinitionError

ENTRY_POINT_GROUP = "edgewise.components"
NEW_ROWS_TAG = "new_rows"
"""Tag of components whose DataFrame outputs are new rows (a group-by, a table of scores):
their row ids name groups or folds, not input rows, so row lineage stops there."""
ERROR_PORT = "error"
ERROR_TYPE = "ErrorRecord"
ANY = "Any"

PortMode = Literal["stream", "latest"]
PORT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Params(BaseModel):
    """Base class of every component's settings: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    """Settings of a component that has none."""


@dataclass(frozen=True)
class Port:
    """A named, typed port. Input ports also have a mode, ``stream`` or ``latest``."""

    type: str = ANY
    mode: PortMode = "stream"
    required: bool = True
    doc: str = ""
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """Describe the port for the editor and ``edgewise components --json``."""
        return {"name": self.name, "type": self.type, "mode": self.mode,
                "required": self.required, "doc": self.doc}


def latest(type_: str = ANY, doc: str = "", *, required: bool = True) -> Port:
    """Declare a ``latest`` input: it keeps its most recent value and does not consume it."""
    return Port(type=type_, mode="latest", required=required, doc=doc)


PortDecl = str | Port
PortsFunction = Callable[[Any], Mapping[str, PortDecl]]
"""Ports as a function of a component's validated params: port name to declaration."""
COLUMN_SELECTORS = ("", "keys", "values", "expressions", "assignments")
"""How a ``column_params`` entry ``param.kind`` reads the param (see ``runtime.schema``)."""
ColumnsFunction = Callable[[Any, dict[str, list[str] | None]], Mapping[str, list[str] | None]]
"""Output columns from the params and each input's columns (None: unknown); see runtime.schema."""


def _ports(decl: Mapping[str, PortDecl] | None, *, output: bool) -> dict[str, Port]:
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
                           doc=port.doc, name=name)
    return ports


Emission = tuple[str, Any]


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
        outputs = self.spec.data_outputs
        if value is None or not outputs:
            return
        if len(outputs) == 1 and "outputs" not in self.spec.dynamic_sides:
            yield outputs[0], value
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
            inputs = _call_ports(self.id, self.inputs_function, params, output=False)
            missing = [n for n in self.named_inputs if n not in inputs]
            if missing:
                msg = (f"component '{self.id}': its function takes {missing}, which are not "
                       f"among its input ports for these params ({', '.join(inputs) or 'none'})")
                raise ComponentDefinitionError(msg)
            if self.takes_params and "params" in inputs:
                msg = f"component '{self.id}': an input port cannot be named 'params'"
                raise ComponentDefinitionError(msg)
        if self.outputs_function is not None:
            outputs = _call_ports(self.id, self.outputs_function, params, output=True)
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


def _call_ports(component_id: str, function: PortsFunction, params: Params, *,
                output: bool) -> dict[str, Port]:
    """Call a ports function and check what it gives; outputs get the ``error`` port."""
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
        ports = _ports(decl, output=output)
    except ComponentDefinitionError as exc:
        msg = f"component '{component_id}': {exc}"
        raise ComponentDefinitionError(msg) from exc
    if output:
        if ERROR_PORT in ports:
            msg = f"component '{component_id}': the 'error' output is built in; do not declare it"
            raise ComponentDefinitionError(msg)
        ports[ERROR_PORT] = _error_port()
    return ports


def _error_port() -> Port:
    return Port(type=ERROR_TYPE, name=ERROR_PORT, doc="Error records of failed firings.")


def _signature_ports(target: Callable[..., Any],
                     is_class: bool) -> tuple[list[str], bool, bool]:
    """The port parameters of a component's callable, and whether it takes params and **."""
    func = target.__call__ if is_class else target  # type: ignore[operator]
    sig = inspect.signature(func)
    positional = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY)
    names = [n for n, p in sig.parameters.items()
             if n not in ("self", "params") and p.kind in positional]
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    if is_class:
        init_sig = inspect.signature(target)
        takes_params = "params" in init_sig.parameters
    else:
        takes_params = "params" in sig.parameters
    return names, takes_params, var_keyword


def _default_ports(component_id: str, function: PortsFunction, params: type[Params], *,
                   output: bool) -> dict[str, Port]:
    """The ports for the default params; none when the defaults are not valid params."""
    try:
        defaults = params.model_validate({})
    except ValueError:
        return {ERROR_PORT: _error_port()} if output else {}
    return _call_ports(component_id, function, defaults, output=output)


def component(
    id: str,
    *,
    inputs: Mapping[str, PortDecl] | PortsFunction | None = None,
    outputs: Mapping[str, PortDecl] | PortsFunction | None = None,
    params: type[Params] = NoParams,
    title: str | None = None,
    category: str | None = None,
    threaded: bool = False,
    tags: Iterable[str] = (),
    runs_code: bool = False,
    columns: ColumnsFunction | None = None,
    column_params: Mapping[str, Iterable[str]] | None = None,
) -> Callable[[Callable[..., Any]], ComponentSpec]:
    """Declare a component.

    Args:
        id: Dotted, lowercase id such as ``ml.fit``; the part before the dot is the family.
        inputs: Input port name to type name (or a ``Port``/``latest(...)`` declaration);
            or a function of the validated params returning such a dict, when the inputs
            depend on the params. The component's function then takes ``**inputs``.
        outputs: Output port name to type name, or a function of the params returning
            that. Every component also gets an ``error`` port.
        params: The pydantic model of its settings (``extra="forbid"``, a description on
            every field).
        title: Display name; defaults to the first line of the docstring.
        category: Palette group; defaults to the family.
        threaded: Run its work off the event loop (for heavy CPU or I/O work).
        tags: Free-form markers, e.g. ``display`` for nodes whose input the host shows.
        runs_code: Its params carry code that it runs (a ``python.function`` node, say). A
            flow with such a node runs only when it is trusted (see ``runtime.trust``).
        columns: How its output columns follow from its params and its input columns,
            for checks at validation (see ``runtime.schema``).
        column_params: Input port to the params that name columns of that input, e.g.
            ``{"data": ["target", "features"]}`` (selectors: see ``runtime.schema``).
    """

    def decorate(target: Callable[..., Any]) -> ComponentSpec:
        is_class = inspect.isclass(target)
        arg_names, takes_params, var_keyword = _signature_ports(target, is_class)
        if params.model_config.get("extra") != "forbid":
            msg = (f"component '{id}': its params model must refuse unknown keys "
                   "(derive it from runtime.Params, or set extra='forbid')")
            raise ComponentDefinitionError(msg)
        for name, info in params.model_fields.items():
            if not info.description:
                msg = f"component '{id}': param '{name}' needs a description"
                raise ComponentDefinitionError(msg)
        inputs_function = inputs if callable(inputs) else None
        outputs_function = outputs if callable(outputs) else None
        if inputs_function is not None:
            if not var_keyword:
                msg = (f"component '{id}': its inputs depend on its params, so its function "
                       "must take them as keyword arguments (**inputs)")
                raise ComponentDefinitionError(msg)
            in_ports = _default_ports(id, inputs_function, params, output=False)
        else:
            in_ports = _ports(inputs, output=False)  # type: ignore[arg-type]
            if sorted(arg_names) != sorted(in_ports):
                msg = (f"component '{id}': function parameters {arg_names} must match its "
                       f"input ports {list(in_ports)}")
                raise ComponentDefinitionError(msg)
        if outputs_function is not None:
            out_ports = _default_ports(id, outputs_function, params, output=True)
        else:
            out_ports = _ports(outputs, output=True)  # type: ignore[arg-type]
            if ERROR_PORT in out_ports:
                msg = f"component '{id}': the 'error' output is built in; do not declare it"
                raise ComponentDefinitionError(msg)
            out_ports[ERROR_PORT] = _error_port()
        named = {port: tuple(names) for port, names in (column_params or {}).items()}
        for port, names in named.items():
            unknown = [n for n in names if n.partition(".")[0] not in params.model_fields
                       or n.partition(".")[2] not in COLUMN_SELECTORS]
            if unknown or (inputs_function is None and port not in in_ports):
                msg = (f"component '{id}': column_params names {unknown or [port]}, not among "
                       "its params (with a known selector) or its input ports")
                raise ComponentDefinitionError(msg)
        doc = inspect.cleandoc(target.__doc__ or "")
        func = target.__call__ if is_class else target  # type: ignore[operator]
        return ComponentSpec(
            id=id,
            target=target,
            inputs=in_ports,
            outputs=out_ports,
            params_model=params,
            title=title or (doc.splitlines()[0].rstrip(".") if doc else id),
            category=category or id.split(".", 1)[0],
            doc=doc,
            threaded=threaded,
            is_class=is_class,
            is_generator=inspect.isgeneratorfunction(func),
            takes_params=takes_params,
            tags=frozenset(tags),
            runs_code=runs_code,
            inputs_function=inputs_function,
            outputs_function=outputs_function,
            named_inputs=tuple(arg_names) if inputs_function is not None else (),
            columns_function=columns,
            column_params=named,
        )

    return decorate


class Registry:
    """The components that a flow may use, by id."""

    def __init__(self, specs: Iterable[ComponentSpec] = ()) -> None:
        self._specs: dict[str, ComponentSpec] = {}
        self.load_errors: list[str] = []
        for spec in specs:
            self.add(spec)

    def add(self, spec: ComponentSpec) -> None:
        """Register a component; a second one with the same id is refused."""
        if spec.id in self._specs and self._specs[spec.id] is not spec:
            msg = f"two components share the id '{spec.id}'"
            raise ComponentDefinitionError(msg)
        self._specs[spec.id] = spec

    def add_module(self, module: ModuleType) -> None:
        """Register every component declared at the top level of a module, or none of them.

        Raises:
            ComponentDefinitionError: an id is taken already; nothing was added.
        """
        specs = [v for v in vars(module).values() if isinstance(v, ComponentSpec)]
        for spec in specs:
            if spec.id in self._specs and self._specs[spec.id] is not spec:
                msg = f"component id '{spec.id}' is taken already; none of {module.__name__} loaded"
                raise ComponentDefinitionError(msg)
        for spec in specs:
            self.add(spec)

    def get(self, component_id: str) -> ComponentSpec | None:
        """Return the component with this id, or None."""
        return self._specs.get(component_id)

    def code_nodes(self, nodes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Which of ``(node id, component id)`` pairs run code carried by the flow.

        These are the nodes that make a flow code rather than data: a flow holding any of
        them runs only once trusted (``runtime.trust``). A component that is not installed
        cannot run, so it is not counted here; validation reports it instead.
        """
        found = []
        for node_id, component_id in nodes:
            spec = self._specs.get(component_id)
            if spec is not None and spec.runs_code:
                found.append((node_id, component_id))
        return found

    def ids(self) -> list[str]:
        """Every component id, sorted."""
        return sorted(self._specs)

    def __iter__(self) -> Iterator[ComponentSpec]:
        """Iterate over the components in id order."""
        return iter(self._specs[i] for i in self.ids())

    def __len__(self) -> int:
        """Count the components."""
        return len(self._specs)

    def with_components(self, *specs: ComponentSpec) -> Registry:
        """Return a copy of this registry with these components in it, replacing namesakes."""
        copy = Registry(self)
        for spec in specs:
            copy._specs[spec.id] = spec
        return copy

    @classmethod
    def discover(cls) -> Registry:
        """Load every component package registered under the ``edgewise.components`` group.

        A plugin that fails to load is reported in ``load_errors``; the others still load.
        """
        registry = cls()
        points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        # Edgewise's own components first, so that a plugin cannot take their ids.
        ordered = sorted(points, key=lambda ep: (ep.dist is None or ep.dist.name != "edgewise"))
        for ep in ordered:
            try:
                loaded = ep.load()
                if isinstance(loaded, ModuleType):
                    registry.add_module(loaded)
                elif isinstance(loaded, ComponentSpec):
                    registry.add(loaded)
                else:
                    msg = f"entry point must name a module or a component, not {loaded!r}"
                    raise ComponentDefinitionError(msg)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the rest
                registry.load_errors.append(
                    f"component plugin '{ep.name}' ({ep.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                )
        return registry


@functools.cache
def default_registry() -> Registry:
    """Return the registry of every installed component, discovered once per process."""
    return Registry.discover()
