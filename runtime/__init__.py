"""Edgewise runtime: flow files, validation, the streaming engine, taps, and the component SDK.

The editor and the command line use only the names exported here.
"""

from runtime.api import (
    DISPLAY_TAG,
    FlowResult,
    Run,
    components,
    connection_problem,
    load,
    plan,
    resolve_ports,
    run_flow,
    trust_flow,
    untrusted_code,
    validate,
)
from runtime.engine import Engine, NodeResult, RunOptions, RunResult
from runtime.errors import (
    ComponentDefinitionError,
    EdgewiseError,
    FlowFileError,
    FlowInvalidError,
    Problem,
    RunAborted,
    UntrustedFlowError,
)
from runtime.graph import PATH_KEY, Plan, types_compatible
from runtime.hooks import HOOK_NAMES, Hooks
from runtime.local import LocalEngine
from runtime.messages import END, Batch, Envelope, ErrorRecord
from runtime.model import Edge, Flow, Node, Position, flow_json_schema, parse_flow
from runtime.params import input_path, output_path
from runtime.plugins_dir import flow_trusted, workspace_registry
from runtime.previews import detail, preview, summary
from runtime.record import MessageInfo, Recorder, RunStore, StoragePolicy, list_runs
from runtime.record.diff import diff_runs
from runtime.record.lineage import Lineage
from runtime.registry import (
    NEW_ROWS_TAG,
    ComponentSpec,
    NoParams,
    Params,
    Port,
    Registry,
    component,
    default_registry,
    latest,
)
from runtime.taps import LiveStats, Snapshot

__version__ = "0.1.0"

__all__ = [
    "DISPLAY_TAG",
    "END",
    "HOOK_NAMES",
    "NEW_ROWS_TAG",
    "PATH_KEY",
    "Batch",
    "ComponentDefinitionError",
    "ComponentSpec",
    "Edge",
    "EdgewiseError",
    "Engine",
    "Envelope",
    "ErrorRecord",
    "Flow",
    "FlowFileError",
    "FlowInvalidError",
    "FlowResult",
    "Hooks",
    "Lineage",
    "LiveStats",
    "LocalEngine",
    "MessageInfo",
    "Node",
    "NodeResult",
    "NoParams",
    "Params",
    "Plan",
    "Port",
    "Position",
    "Problem",
    "Recorder",
    "Registry",
    "Run",
    "RunAborted",
    "RunOptions",
    "RunResult",
    "RunStore",
    "Snapshot",
    "StoragePolicy",
    "UntrustedFlowError",
    "__version__",
    "component",
    "components",
    "connection_problem",
    "default_registry",
    "detail",
    "diff_runs",
    "flow_json_schema",
    "flow_trusted",
    "input_path",
    "latest",
    "list_runs",
    "load",
    "output_path",
    "parse_flow",
    "plan",
    "preview",
    "resolve_ports",
    "run_flow",
    "summary",
    "trust_flow",
    "types_compatible",
    "untrusted_code",
    "validate",
    "workspace_registry",
]
