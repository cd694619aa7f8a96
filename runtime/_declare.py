"""The ``@component`` decorator: how a function or class declares itself a component.

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

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runtime._errors import ComponentDefinitionError
from runtime._ports import (
    ERROR_PORT,
    Port,
    PortDecl,
    PortsFunction,
    call_ports,
    declared_ports,
    error_port,
)
from runtime._spec import COLUMN_SELECTORS, ColumnsFunction, ComponentSpec, NoParams, Params


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
        return {ERROR_PORT: error_port()} if output else {}
    return call_ports(component_id, function, defaults, output=output)


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
            flow with such a node runs only when it is trusted (see ``runtime._trust``).
        columns: How its output columns follow from its params and its input columns,
            for checks at validation (see ``runtime._schema``).
        column_params: Input port to the params that name columns of that input, e.g.
            ``{"data": ["target", "features"]}`` (selectors: see ``runtime._schema``).
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
            in_ports = declared_ports(inputs, output=False)  # type: ignore[arg-type]
            if sorted(arg_names) != sorted(in_ports):
                msg = (f"component '{id}': function parameters {arg_names} must match its "
                       f"input ports {list(in_ports)}")
                raise ComponentDefinitionError(msg)
        if outputs_function is not None:
            out_ports = _default_ports(id, outputs_function, params, output=True)
        else:
            out_ports = declared_ports(outputs, output=True)  # type: ignore[arg-type]
            if ERROR_PORT in out_ports:
                msg = f"component '{id}': the 'error' output is built in; do not declare it"
                raise ComponentDefinitionError(msg)
            out_ports[ERROR_PORT] = error_port()
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
