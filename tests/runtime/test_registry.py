"""The component SDK: declaring components, and finding them through entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codeplugin import write_dist
from pydantic import BaseModel, ConfigDict, Field

import runtime
from runtime import (
    ComponentDefinitionError,
    ComponentSpec,
    ErrorRecord,
    NoParams,
    Params,
    Port,
    Registry,
    component,
    default_registry,
    latest,
    parse_flow,
)
from runtime.testing import run_component

CORE_IDS = {"dataset.load", "csv.read", "csv.write", "jsonl.write", "stream.range",
            "stream.identity", "stream.chunks", "stream.collect", "stream.count",
            "frame.query", "frame.select", "ml.split", "ml.fit", "ml.predict", "ml.score",
            "debug"}


class ScaleParams(Params):
    """Settings of test.scale."""

    factor: int = Field(default=2, description="Multiply by this.")


@component("test.scale", inputs={"data": "int"}, outputs={"data": "int"}, params=ScaleParams)
def scale(data: int, *, params: ScaleParams) -> int:
    """Multiply every number.

    Longer help text for the editor.
    """
    if data < 0:
        msg = f"negative input {data}"
        raise ValueError(msg)
    return data * params.factor


def run(spec: ComponentSpec, inputs: dict[str, list[Any]],
        params: dict[str, Any] | None = None) -> Any:
    return run_component(spec, inputs, params, registry=Registry([spec]))


# --- what the registry derives from a declaration ----------------------------------------


def test_function_component_describes_itself() -> None:
    assert scale.id == "test.scale"
    assert scale.title == "Multiply every number"
    assert scale.category == "test"
    assert scale.doc.startswith("Multiply every number.")
    assert "Longer help text" in scale.doc
    assert scale.params_model is ScaleParams
    assert list(scale.inputs) == ["data"]
    assert scale.inputs["data"] == Port(type="int", mode="stream", name="data")


def test_every_component_gets_the_built_in_error_output() -> None:
    assert list(scale.outputs) == ["data", "error"]
    assert scale.outputs["error"].type == "ErrorRecord"
    assert scale.data_outputs == ["data"]


def test_to_json_gives_what_the_editor_needs() -> None:
    described = scale.to_json()

    assert json.loads(json.dumps(described)) == described
    assert described["id"] == "test.scale"
    assert described["title"] == "Multiply every number"
    assert described["category"] == "test"
    assert described["inputs"] == [{"name": "data", "type": "int", "mode": "stream",
                                    "required": True, "doc": ""}]
    assert [p["name"] for p in described["outputs"]] == ["data", "error"]
    schema = described["params_schema"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["factor"]["description"] == "Multiply by this."
    assert schema["properties"]["factor"]["default"] == 2


def test_title_and_category_can_be_given() -> None:
    @component("x.y", title="Custom", category="tools")
    def source() -> Iterator[int]:
        """Docstring title."""
        yield 1

    assert (source.title, source.category) == ("Custom", "tools")


def test_a_component_without_docstring_is_titled_by_its_id() -> None:
    @component("x.bare")
    def bare() -> None:
        pass

    assert bare.title == "x.bare"
    assert bare.params_model is NoParams


def test_a_component_is_still_callable_as_plain_python() -> None:
    assert scale(4, params=ScaleParams(factor=3)) == 12


# --- running declared components ---------------------------------------------------------


def test_function_component_runs_on_each_message_with_its_params() -> None:
    out = run(scale, {"data": [1, 2, 3]}, {"factor": 3})

    assert out["data"] == [3, 6, 9]
    assert out.result.status == "ok"


def test_a_failing_message_goes_to_the_error_port_and_the_rest_continue() -> None:
    out = run(scale, {"data": [1, -5, 3]})

    assert out["data"] == [2, 6]
    [record] = out.errors
    assert isinstance(record, ErrorRecord)
    assert record.component == "test.scale"
    assert record.error == "ValueError"
    assert "negative input -5" in record.message
    assert out.result.status == "errors"


def test_generator_component_emits_one_message_per_yield() -> None:
    @component("test.repeat", inputs={"data": "int"}, outputs={"data": "int"})
    def repeat(data: int) -> Iterator[int]:
        """Emit each number as often as it says."""
        for _ in range(data):
            yield data

    assert run(repeat, {"data": [1, 2, 0, 3]})["data"] == [1, 2, 2, 3, 3, 3]


def test_several_outputs_take_a_dict_of_port_to_value() -> None:
    @component("test.parity", inputs={"data": "int"}, outputs={"even": "int", "odd": "int"})
    def parity(data: int) -> dict[str, int]:
        """Route numbers by parity."""
        return {"even": data} if data % 2 == 0 else {"odd": data}

    out = run(parity, {"data": [1, 2, 3, 4]})

    assert out["even"] == [2, 4]
    assert out["odd"] == [1, 3]


def test_class_component_keeps_state_and_emits_at_the_end() -> None:
    closed: list[bool] = []

    class TotalParams(Params):
        start: int = Field(default=0, description="Initial total.")

    class Total:
        """Sum a stream of numbers."""

        def __init__(self, params: TotalParams) -> None:
            self.total = params.start

        def __call__(self, data: int) -> None:
            self.total += data

        def end(self) -> int:
            return self.total

        def close(self) -> None:
            closed.append(True)

    total = component("test.total", inputs={"data": "int"}, outputs={"total": "int"},
                      params=TotalParams)(Total)

    out = run(total, {"data": [1, 2, 3]}, {"start": 10})

    assert out["total"] == [16]
    assert closed == [True]
    assert total.title == "Sum a stream of numbers"


def test_latest_input_keeps_its_value_for_every_stream_message() -> None:
    @component("test.offset", inputs={"data": "int", "offset": latest("int", "How much.")},
               outputs={"data": "int"})
    def offset(data: int, offset: int) -> int:
        """Add the latest offset."""
        return data + offset

    port = offset.inputs["offset"]
    assert (port.mode, port.type, port.doc, port.required) == ("latest", "int", "How much.",
                                                               True)
    assert offset.inputs["data"].mode == "stream"
    assert offset.to_json()["inputs"][1]["mode"] == "latest"
    assert run(offset, {"data": [1, 2, 3], "offset": [100]})["data"] == [101, 102, 103]


def test_inputs_may_be_declared_in_any_order_of_the_signature() -> None:
    @component("test.pair", inputs={"b": "int", "a": "int"}, outputs={"data": "int"})
    def pair(a: int, b: int) -> int:
        """Subtract."""
        return a - b

    assert run(pair, {"a": [10], "b": [3]})["data"] == [7]


# --- declarations that are refused -------------------------------------------------------


def test_declaring_an_error_output_is_refused() -> None:
    with pytest.raises(ComponentDefinitionError, match="'error' output is built in"):
        @component("bad.error", inputs={"data": "Any"}, outputs={"error": "Any"})
        def f(data: Any) -> None:
            """Doc."""


def test_an_output_cannot_be_latest() -> None:
    with pytest.raises(ComponentDefinitionError, match="output port 'data'"):
        @component("bad.latest", outputs={"data": latest("int")})
        def f() -> None:
            """Doc."""


def test_every_param_needs_a_description() -> None:
    class Vague(Params):
        fine: int = Field(default=1, description="Has one.")
        bare: int = 1

    with pytest.raises(ComponentDefinitionError) as info:
        @component("bad.params", params=Vague)
        def f(*, params: Vague) -> None:
            """Doc."""

    assert "'bad.params'" in str(info.value)
    assert "'bare'" in str(info.value)


@pytest.mark.parametrize("declared", [{"data": "Any"}, {"data": "Any", "extra": "Any"}, {}])
def test_function_parameters_must_match_the_input_ports(
        declared: dict[str, str | Port]) -> None:
    def f(data: Any, other: Any) -> None:
        """Doc."""

    with pytest.raises(ComponentDefinitionError) as info:
        component("bad.signature", inputs=declared)(f)

    assert "'bad.signature'" in str(info.value)
    assert "['data', 'other']" in str(info.value)


def test_class_call_signature_must_match_the_input_ports() -> None:
    class C:
        """Doc."""

        def __call__(self, rows: Any) -> None:
            pass

    with pytest.raises(ComponentDefinitionError, match="input ports"):
        component("bad.class", inputs={"data": "Any"})(C)


def test_a_params_model_that_allows_unknown_keys_cannot_leak_them() -> None:
    # Issue 2: params models have extra="forbid". A plugin that forgets it must either be
    # refused, or still get "unknown param" problems, never silently accept typos.
    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")
        size: int = Field(default=1, description="A size.")

    try:
        @component("loose.thing", outputs={"data": "int"}, params=Loose)  # type: ignore[arg-type]
        def loose(*, params: Loose) -> int:
            """Doc."""
            return params.size
    except ComponentDefinitionError:
        return
    flow = parse_flow({"edgewise": 1, "name": "n", "edges": [], "nodes": [
        {"id": "l", "component": "loose.thing", "params": {"szie": 2}}]})

    problems = runtime.validate(flow, registry=Registry([loose]))

    assert [p.param for p in problems] == ["szie"], problems


def test_two_components_with_one_id_are_refused() -> None:
    @component("test.scale", inputs={"data": "int"}, outputs={"data": "int"})
    def other(data: int) -> int:
        """Doc."""
        return data

    with pytest.raises(ComponentDefinitionError, match="'test.scale'"):
        Registry([scale, other])


def test_registry_lookup_and_listing() -> None:
    @component("a.first")
    def first() -> None:
        """Doc."""

    registry = Registry([scale, first])

    assert registry.get("test.scale") is scale
    assert registry.get("nope") is None
    assert registry.ids() == ["a.first", "test.scale"]
    assert [s.id for s in registry] == ["a.first", "test.scale"]
    assert len(registry) == 2
    replaced = registry.with_components(first, scale)
    assert replaced.ids() == registry.ids()


def test_with_components_leaves_the_original_alone() -> None:
    base = Registry([scale])

    @component("test.scale")
    def namesake() -> None:
        """Doc."""

    extended = base.with_components(namesake)

    assert extended.get("test.scale") is namesake
    assert base.get("test.scale") is scale


def test_default_registry_holds_every_core_component() -> None:
    registry = default_registry()

    assert CORE_IDS <= set(registry.ids())
    assert registry.load_errors == []
    assert [c["id"] for c in runtime.components()] == registry.ids()


# --- plugins through the edgewise.components entry-point group ---------------------------

PLUGIN_MODULES = ("ew_good_plugin", "ew_single_plugin", "ew_broken_plugin", "ew_clash_plugin")


GOOD_PLUGIN = '''
    """A third-party family."""
    from pydantic import Field

    from runtime import Params, component


    class ShoutParams(Params):
        """Settings."""

        suffix: str = Field(default="!", description="Appended to every text.")


    @component("shout.upper", inputs={"text": "str"}, outputs={"text": "str"},
               params=ShoutParams)
    def upper(text, *, params):
        """Upper-case text."""
        return text.upper() + params.suffix


    @component("shout.lower", inputs={"text": "str"}, outputs={"text": "str"})
    def lower(text):
        """Lower-case text."""
        return text.lower()
'''

SINGLE_PLUGIN = '''
    from runtime import component


    @component("single.one", outputs={"data": "int"})
    def one():
        """Emit one."""
        yield 1

    NOT_A_COMPONENT = 42
'''


CLASH_PLUGIN = '''
    from runtime import component


    @component("stream.range")
    def fake():
        """Pretends to be a core component."""
'''


@pytest.fixture
def plugin_site(tmp_path: Path) -> Iterator[Path]:
    """A folder laid out like site-packages, holding good and broken plugin distributions."""
    default_registry()  # cached now, so that no other test ever sees these plugins
    site = tmp_path / "site"
    write_dist(site, "ew-good-plugin", {"shout": "ew_good_plugin"},
               {"ew_good_plugin": GOOD_PLUGIN})
    write_dist(site, "ew-single-plugin",
               {"single": "ew_single_plugin:one", "notcomp": "ew_single_plugin:NOT_A_COMPONENT"},
               {"ew_single_plugin": SINGLE_PLUGIN})
    write_dist(site, "ew-broken-plugin",
               {"broken": "ew_broken_plugin", "gone": "ew_no_such_module_anywhere"},
               {"ew_broken_plugin": "raise RuntimeError('plugin exploded on import')\n"})
    yield site
    for name in PLUGIN_MODULES:
        sys.modules.pop(name, None)


def test_discover_loads_third_party_plugins(plugin_site: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(plugin_site))

    registry = Registry.discover()

    assert CORE_IDS <= set(registry.ids())
    assert {"shout.upper", "shout.lower", "single.one"} <= set(registry.ids())
    upper = registry.get("shout.upper")
    assert upper is not None
    assert upper.title == "Upper-case text"
    assert upper.category == "shout"
    assert run_component(upper, {"text": ["hi"]}, {"suffix": "?"},
                         registry=registry)["text"] == ["HI?"]


def test_a_broken_plugin_is_reported_and_does_not_stop_the_others(
        plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(plugin_site))

    registry = Registry.discover()

    errors = "\n".join(registry.load_errors)
    assert len(registry.load_errors) == 3, errors
    assert "'broken'" in errors
    assert "plugin exploded on import" in errors
    assert "'gone'" in errors
    assert "ew_no_such_module_anywhere" in errors
    assert "'notcomp'" in errors
    assert CORE_IDS <= set(registry.ids())
    assert {"shout.upper", "shout.lower", "single.one"} <= set(registry.ids())


def test_a_plugin_reusing_a_core_id_is_reported_and_the_core_family_survives(
        plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Entry points load in sys.path / directory order, so the plugin may come first; either
    # way the plugin is the one at fault and no core component may go missing or be replaced.
    write_dist(plugin_site, "ew-clash-plugin", {"clash": "ew_clash_plugin"},
               {"ew_clash_plugin": CLASH_PLUGIN})
    monkeypatch.syspath_prepend(str(plugin_site))

    registry = Registry.discover()

    errors = "\n".join(registry.load_errors)
    assert "'clash'" in errors
    assert "'stream.range'" in errors
    assert CORE_IDS <= set(registry.ids()), errors
    core_range = registry.get("stream.range")
    assert core_range is not None
    assert core_range.target.__module__ == "components.stream"


def edgewise_command() -> list[str]:
    script = Path(sys.executable).with_name("edgewise")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "runtime.cli"]


def test_edgewise_components_lists_plugins_and_warns_about_broken_ones(
        plugin_site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(plugin_site)}

    proc = subprocess.run([*edgewise_command(), "components", "--json"], env=env,
                          capture_output=True, text=True, timeout=60)

    assert proc.returncode == 0, proc.stderr
    ids = {c["id"] for c in json.loads(proc.stdout)}
    assert {"shout.upper", "shout.lower", "single.one"} | CORE_IDS <= ids
    assert "plugin exploded on import" in proc.stderr
    assert "warning" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- heavy libraries load only when a flow uses their family -----------------------------


def test_importing_the_component_families_imports_neither_pandas_nor_sklearn() -> None:
    code = ("import json, sys\n"
            "import components.ml, components.frame, components.csvio, components.dataset\n"
            "import components.stream, components.jsonl, components.debug\n"
            "from runtime import default_registry\n"
            "assert default_registry().get('ml.fit') is not None\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)

    loaded = set(json.loads(proc.stdout))
    assert "components" in loaded
    assert not loaded & {"sklearn", "pandas", "scipy"}
    # `edgewise components`, and `edgewise run` of a flow without ml/frame/csv nodes, are
    # checked the same way in test_cli.py (from the import profile of the real command).


# --- the SDK modules: one job each, importable as before, and nothing above them ------------

SDK_NAMES = ["ANY", "COLUMN_SELECTORS", "ENTRY_POINT_GROUP", "ERROR_PORT", "ERROR_TYPE",
             "NEW_ROWS_TAG", "PORT_NAME", "ColumnsFunction", "ComponentSpec", "Emission",
             "Instance", "NoParams", "Params", "Port", "PortDecl", "PortMode", "PortsFunction",
             "Registry", "component", "default_registry", "latest"]
# The component SDK and the helpers components import: none of them may reach the engine,
# validation, recording or the hosts, even inside a function.
SDK_LAYER = {"runtime._errors", "runtime._model", "runtime._terminal", "runtime._ports",
             "runtime._spec", "runtime._declare", "runtime._registry",
             "runtime._expression_reading", "runtime._expression_tree", "runtime._expressions",
             "runtime._schema", "runtime._params"}


def test_every_name_runtime_registry_offered_is_still_importable_from_it() -> None:
    import runtime._registry as registry

    assert sorted(registry.__all__) == sorted(SDK_NAMES)
    for name in SDK_NAMES:
        assert hasattr(registry, name), name
    assert registry.Params is runtime.Params and registry.component is runtime.component


def runtime_imports(module: str) -> set[str]:
    """The runtime modules a module imports anywhere in its source (not only at the top)."""
    import ast

    path = Path(runtime.__file__).parent.parent / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("runtime.") or name == "runtime"}


@pytest.mark.parametrize("module", sorted(SDK_LAYER))
def test_the_component_sdk_imports_nothing_above_it(module: str) -> None:
    assert runtime_imports(module) <= SDK_LAYER, module
