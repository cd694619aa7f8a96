"""Components without packaging: the Python files in a workspace's ``plugins/`` folder.

Each ``<workspace>/plugins/*.py`` file is imported as a module and every component declared
at its top level joins the registry, as an installed plugin's would. A file that fails to
import is reported with its file and line, and the others still load; a component may not
take the id of an installed one (core components included).

Plugin files are code. They come with the folder (a cloned repository, say), so they are
loaded only for a flow that its user trusts explicitly: saved in the editor from a trusted
page, trusted with ``edgewise trust FLOW``, or run with ``--trust`` (see ``runtime._trust``).
A flow that is merely opened, validated or run untrusted never imports them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from runtime._errors import FlowFileError
from runtime._model import read_flow_document
from runtime._registry import ComponentSpec, Registry, default_registry
from runtime._trust import TrustStore

PLUGINS_FOLDER = "plugins"
MODULE_PREFIX = "edgewise_workspace_plugins"


def plugin_files(workspace: Path) -> list[Path]:
    """The plugin files of a workspace, in name order (``_name.py`` helpers are skipped)."""
    folder = Path(workspace) / PLUGINS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.py") if p.is_file() and not p.name.startswith("_"))


def flow_trusted(doc: Any) -> bool:
    """Whether this exact flow document was trusted (saved in the editor, or ``trust``)."""
    return TrustStore().is_trusted(doc)


def _line_of(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return frames[-1].lineno if frames else None


def _import(path: Path) -> ModuleType:
    """Import one plugin file afresh, under a module name of its own."""
    tag = hashlib.sha256(str(path.parent.resolve()).encode()).hexdigest()[:12]
    name = f"{MODULE_PREFIX}.w{tag}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"cannot import {path} as a Python module"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def workspace_registry(workspace: Path, registry: Registry | None = None) -> Registry:
    """A copy of ``registry`` with the components of ``<workspace>/plugins/*.py``.

    Each file is imported anew on every call, so an edited plugin takes effect at the next
    run. What failed is added to ``load_errors``, naming the file and the line.
    """
    base = registry or default_registry()
    result = Registry(base)
    result.load_errors = list(base.load_errors)
    for path in plugin_files(workspace):
        where = f"{PLUGINS_FOLDER}/{path.name}"
        try:
            module = _import(path)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the rest
            line = _line_of(exc, path)
            at = f", line {line}" if line else ""
            result.load_errors.append(f"workspace plugin {where}{at} failed to load: "
                                      f"{type(exc).__name__}: {exc}")
            continue
        specs = [v for v in vars(module).values() if isinstance(v, ComponentSpec)]
        taken = [s.id for s in specs if result.get(s.id) is not None]
        if taken:
            ids = ", ".join(f"'{i}'" for i in taken)
            result.load_errors.append(
                f"workspace plugin {where} was not loaded: component id {ids} is taken by "
                "an installed component; give the plugin's component another id")
            continue
        if not specs:
            result.load_errors.append(f"workspace plugin {where} declares no component "
                                      "(decorate a function with @component)")
        for spec in specs:
            result.add(spec)
    return result


def registry_for_flow(flow: Path, *, trust: bool = False, registry: Registry | None = None,
                      trust_once: str | None = None) -> tuple[Registry, list[str]]:
    """The registry to check and run a flow file with, and warnings to show its user.

    The ``plugins/`` folder next to the flow is loaded if the flow is trusted (or ``trust``
    is given). Otherwise it is left unimported, and if the flow names a component that is
    not installed, a warning says why the plugins were not loaded and what to do:
    ``edgewise trust FLOW``, or ``trust_once`` (the command line's own option, such as
    ``run``'s ``--trust``) when the command has one.
    """
    base = registry or default_registry()
    try:
        folder = flow.resolve().parent
        files = plugin_files(folder)
        doc = read_flow_document(flow) if files else None
    except (FlowFileError, OSError, ValueError, RuntimeError):
        return base, []  # the caller reports the file's problem
    if not files:
        return base, []
    if trust or flow_trusted(doc):
        loaded = workspace_registry(folder, base)
        return loaded, loaded.load_errors[len(base.load_errors):]
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    unknown = [n.get("component") for n in nodes or [] if isinstance(n, dict)
               and base.get(str(n.get("component"))) is None]
    if not unknown:
        return base, []
    once = f" (or run it once with {trust_once})" if trust_once else ""
    return base, [f"{PLUGINS_FOLDER}/ next to {flow} holds {len(files)} plugin file(s), not "
                  "loaded because this flow is not trusted: plugins are code. After reading "
                  f"them and the flow, run `edgewise trust {flow}`{once}."]
