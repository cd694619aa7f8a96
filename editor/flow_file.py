"""The flow file an editor page has open: its workspace, name, document and registry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import runtime
from editor.document import FlowDocument
from editor.workspace import Workspace, WorkspaceError


@dataclass
class OpenFlow:
    """One flow file as the page holds it.

    Attributes:
        workspace: the workspace the file is in.
        name: the file's name in the workspace.
        registry: the components the page knows (with the workspace's plugins if trusted).
        doc: the document being edited.
        plugins: whether the workspace's plugins/ may be imported for this flow.
        load_error: why the file could not be read (the page then shows an empty flow).
    """

    workspace: Workspace
    name: str
    registry: runtime.Registry
    doc: FlowDocument
    plugins: bool
    load_error: str | None

    def data(self) -> dict[str, Any]:
        """A copy of the flow as it is now, that later edits do not change."""
        copied: dict[str, Any] = json.loads(json.dumps(self.doc.data))
        return copied


def open_flow(workspace: Workspace, name: str) -> OpenFlow:
    """Read a flow file; a file that cannot be read opens as an empty flow, with the reason."""
    registry = runtime.default_registry()
    load_error: str | None = None
    data: dict[str, Any] = {"edgewise": 1, "name": Path(name).stem, "nodes": [], "edges": []}
    try:
        loaded = json.loads(workspace.read(name))
        if not isinstance(loaded, dict):
            msg = "a flow file must hold a JSON object"
            raise ValueError(msg)
        data = loaded
    except (WorkspaceError, ValueError) as exc:
        load_error = str(exc)
    # plugins/ beside the flows is code: imported only for a flow the user trusted
    plugins = load_error is None and runtime.flow_trusted(data)
    if plugins:
        registry = runtime.workspace_registry(workspace.root, registry)
    return OpenFlow(workspace, name, registry, FlowDocument(data, registry), plugins,
                    load_error)
