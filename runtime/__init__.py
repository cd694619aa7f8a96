"""Edgewise runtime: flow files, validation, running flows, and the component SDK.

Four faces, one per audience; every other module of this package is private:

- ``runtime`` (this module): what flow hosts (the CLI, the editor, your own program) and
  component authors need: load, validate, plan and run a flow; declare a component, its
  params and ports; the helpers components share (paths, expressions, columns, safe text).
- ``runtime.engines``: what an engine writer needs: the engine interface, the firing rule
  every engine drives, hooks, messages and taps.
- ``runtime.runs``: what a reader of kept runs needs: the run store, lineage, diffs,
  replays and the text of a lineage path.
- ``runtime.models``: the model registry: versions of named models and their aliases.

``runtime.testing`` holds the kit for testing components, and ``runtime.cli`` is the
``edgewise`` command.
"""

from runtime._api import (
    DECISIONS_TAG,
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
from runtime._call_context import CONTEXT_TAG, CallContext, call_context
from runtime._connections import fitting_ports
from runtime._engine import NodeResult, RunOptions, RunResult
from runtime._errors import (
    ComponentDefinitionError,
    EdgewiseError,
    FlowFileError,
    FlowInvalidError,
    Problem,
    RunLookupError,
    RunValueError,
    UntrustedFlowError,
    UsageError,
)
from runtime._expressions import (
    ExpressionError,
    check_expression,
    column_identifier,
    evaluate_frame,
    expression_tree,
    frame_names,
    query_frame,
)
from runtime._graph import Plan, resolve_node, types_compatible
from runtime._messages import Batch, Envelope, ErrorRecord, MadeFrom, exception_text
from runtime._model import Edge, Flow, Node, Position, flow_json_schema, parse_flow
from runtime._params import URL_SCHEME, input_path, output_path, special_file_kind
from runtime._plugins_dir import flow_trusted, workspace_registry
from runtime._previews import detail, loaded_type, preview, summary
from runtime._record import (
    Recorder,
    StoragePolicy,
    UnsafeModelError,
    dump_model,
    load_model,
    record_run,
    refused_types,
)
from runtime._registry import (
    NEW_ROWS_TAG,
    ComponentSpec,
    NoParams,
    Params,
    Port,
    PortDecl,
    Registry,
    component,
    default_registry,
    latest,
)
from runtime._schema import Columns, same_columns, split_selector
from runtime._schema import added as added_columns
from runtime._serve import (
    ANSWER_TAG,
    ENDPOINT_TAG,
    Deployment,
    EndpointConfig,
    FlowServer,
    ServeOutcome,
    ServingHub,
    serving_hub,
)
from runtime._spec import STATEFUL_TAG, UNPAIRED_TAG
from runtime._taps import LiveStats, Snapshot
from runtime._terminal import plain

__version__ = "0.1.0"

__all__ = [
    "ANSWER_TAG",
    "CONTEXT_TAG",
    "DECISIONS_TAG",
    "DISPLAY_TAG",
    "ENDPOINT_TAG",
    "NEW_ROWS_TAG",
    "STATEFUL_TAG",
    "UNPAIRED_TAG",
    "URL_SCHEME",
    "Batch",
    "CallContext",
    "Columns",
    "Deployment",
    "ComponentDefinitionError",
    "ComponentSpec",
    "Edge",
    "EdgewiseError",
    "EndpointConfig",
    "Envelope",
    "ErrorRecord",
    "ExpressionError",
    "Flow",
    "FlowFileError",
    "FlowInvalidError",
    "FlowResult",
    "FlowServer",
    "LiveStats",
    "MadeFrom",
    "Node",
    "NodeResult",
    "NoParams",
    "Params",
    "Plan",
    "Port",
    "PortDecl",
    "Position",
    "Problem",
    "Recorder",
    "Registry",
    "Run",
    "RunLookupError",
    "RunOptions",
    "RunResult",
    "RunValueError",
    "ServeOutcome",
    "ServingHub",
    "Snapshot",
    "StoragePolicy",
    "UnsafeModelError",
    "UntrustedFlowError",
    "UsageError",
    "__version__",
    "added_columns",
    "call_context",
    "check_expression",
    "column_identifier",
    "component",
    "components",
    "connection_problem",
    "default_registry",
    "detail",
    "dump_model",
    "evaluate_frame",
    "exception_text",
    "expression_tree",
    "fitting_ports",
    "flow_json_schema",
    "flow_trusted",
    "frame_names",
    "input_path",
    "latest",
    "load",
    "load_model",
    "loaded_type",
    "output_path",
    "parse_flow",
    "plain",
    "plan",
    "preview",
    "query_frame",
    "record_run",
    "refused_types",
    "resolve_node",
    "resolve_ports",
    "run_flow",
    "same_columns",
    "serving_hub",
    "special_file_kind",
    "split_selector",
    "summary",
    "trust_flow",
    "types_compatible",
    "untrusted_code",
    "validate",
    "workspace_registry",
]
