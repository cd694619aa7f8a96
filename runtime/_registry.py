"""The registry of installed components: lookup by id, and plugin discovery by entry point.

The component SDK lives in three modules, all re-exported here so that
``from runtime._registry import component`` keeps working: :mod:`runtime._declare` (the
``@component`` decorator), :mod:`runtime._spec` (``ComponentSpec``, ``Params``, the running
``Instance``) and :mod:`runtime._ports` (``Port``, ``latest``, port declarations).
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Iterable, Iterator
from types import ModuleType

from runtime._declare import component
from runtime._errors import ComponentDefinitionError
from runtime._ports import (
    ANY,
    ERROR_PORT,
    ERROR_TYPE,
    PORT_NAME,
    Port,
    PortDecl,
    PortMode,
    PortsFunction,
    latest,
)
from runtime._spec import (
    COLUMN_SELECTORS,
    NEW_ROWS_TAG,
    ColumnsFunction,
    ComponentSpec,
    Emission,
    Instance,
    NoParams,
    Params,
)

__all__ = ["ANY", "COLUMN_SELECTORS", "ENTRY_POINT_GROUP", "ERROR_PORT", "ERROR_TYPE",
           "NEW_ROWS_TAG", "PORT_NAME", "ColumnsFunction", "ComponentSpec", "Emission",
           "Instance", "NoParams", "Params", "Port", "PortDecl", "PortMode", "PortsFunction",
           "Registry", "component", "default_registry", "latest"]

ENTRY_POINT_GROUP = "edgewise.components"
"""The entry-point group under which packages register their components."""


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
        them runs only once trusted (``runtime._trust``). A component that is not installed
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
