"""Components without packaging: ``<workspace>/plugins/*.py``, loaded for trusted flows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import runtime
from runtime._plugins_dir import registry_for_flow, workspace_registry

REPO = Path(__file__).resolve().parents[2]

SHOUT = '''"""A workspace plugin."""
from pydantic import Field

from runtime import Params, component


class ShoutParams(Params):
    """Settings."""

    mark: str = Field("!", description="What to add.")


@component("demo.shout", inputs={"data": "Any"}, outputs={"data": "Any"}, params=ShoutParams)
def shout(data, *, params):
    """Add a mark to a text."""
    return f"{data}{params.mark}"
'''


def write_plugin(folder: Path, name: str, text: str) -> Path:
    plugins = folder / "plugins"
    plugins.mkdir(exist_ok=True)
    path = plugins / name
    path.write_text(text, encoding="utf-8")
    return path


def shout_flow(folder: Path) -> Path:
    flow = folder / "shout.json"
    flow.write_text(json.dumps({
        "edgewise": 1, "name": "shout",
        "nodes": [{"id": "numbers", "component": "stream.range", "params": {"count": 2}},
                  {"id": "loud", "component": "demo.shout"},
                  {"id": "show", "component": "debug"}],
        "edges": [{"source": "numbers.data", "target": "loud.data"},
                  {"source": "loud.data", "target": "show.data"}]}), encoding="utf-8")
    return flow


def test_a_plugin_file_becomes_a_component_that_runs(tmp_path: Path) -> None:
    write_plugin(tmp_path, "shout.py", SHOUT)

    registry = workspace_registry(tmp_path)
    result = runtime.run_flow(shout_flow(tmp_path), registry=registry, capture=["loud.data"])

    assert registry.get("demo.shout") is not None
    assert registry.get("stream.count") is not None
    assert result.values("loud.data") == ["0!", "1!"]
    assert runtime.default_registry().get("demo.shout") is None


def test_an_edited_plugin_takes_effect_at_the_next_load(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "shout.py", SHOUT)
    flow = shout_flow(tmp_path)
    first = runtime.run_flow(flow, registry=workspace_registry(tmp_path), capture=["loud.data"])

    path.write_text(SHOUT.replace('"!"', '"?"'), encoding="utf-8")
    second = runtime.run_flow(flow, registry=workspace_registry(tmp_path), capture=["loud.data"])

    assert first.values("loud.data") == ["0!", "1!"]
    assert second.values("loud.data") == ["0?", "1?"]


def test_a_broken_plugin_is_reported_with_file_and_line_and_the_others_load(
        tmp_path: Path) -> None:
    write_plugin(tmp_path, "a_syntax.py", "x = 1\ndef broken(:\n    pass\n")
    write_plugin(tmp_path, "b_raises.py", "import os\n\nraise RuntimeError('no config')\n")
    write_plugin(tmp_path, "c_shout.py", SHOUT)

    registry = workspace_registry(tmp_path)

    assert registry.get("demo.shout") is not None
    syntax, raises = registry.load_errors
    assert syntax.startswith("workspace plugin plugins/a_syntax.py, line 2 failed to load: "
                             "SyntaxError:")
    assert raises == ("workspace plugin plugins/b_raises.py, line 3 failed to load: "
                      "RuntimeError: no config")


def test_a_plugin_cannot_take_a_core_component_id(tmp_path: Path) -> None:
    write_plugin(tmp_path, "count.py", SHOUT.replace("demo.shout", "stream.count"))

    registry = workspace_registry(tmp_path)

    assert registry.get("stream.count") is runtime.default_registry().get("stream.count")
    [error] = registry.load_errors
    assert "plugins/count.py was not loaded: component id 'stream.count' is taken" in error


def test_helpers_starting_with_an_underscore_are_not_plugins(tmp_path: Path) -> None:
    write_plugin(tmp_path, "_helper.py", "raise RuntimeError('imported')\n")

    assert workspace_registry(tmp_path).load_errors == []


def test_an_untrusted_flow_never_imports_the_plugins(tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    write_plugin(tmp_path, "shout.py", f"open({str(marker)!r}, 'w').write('x')\n" + SHOUT)
    flow = shout_flow(tmp_path)

    registry, warnings = registry_for_flow(flow)

    assert registry.get("demo.shout") is None
    assert not marker.exists()
    [warning] = warnings
    assert "holds 1 plugin file(s), not loaded because this flow is not trusted" in warning
    runtime.trust_flow(json.loads(flow.read_text()), flow)
    trusted, _ = registry_for_flow(flow)
    assert trusted.get("demo.shout") is not None
    assert marker.exists()


def test_the_untrusted_warning_offers_only_what_the_command_takes(tmp_path: Path) -> None:
    write_plugin(tmp_path, "shout.py", SHOUT)
    flow = shout_flow(tmp_path)

    [plain] = registry_for_flow(flow)[1]
    [with_once] = registry_for_flow(flow, trust_once="`edgewise run --trust`")[1]

    assert plain.endswith(f"After reading them and the flow, run `edgewise trust {flow}`.")
    assert "--trust" not in plain
    assert with_once.endswith(f"run `edgewise trust {flow}` (or run it once with "
                              "`edgewise run --trust`).")


def edgewise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], cwd=REPO,
                          env=dict(os.environ), capture_output=True, text=True, timeout=60,
                          check=False)


def test_run_and_validate_load_plugins_beside_a_trusted_flow(tmp_path: Path) -> None:
    write_plugin(tmp_path, "shout.py", SHOUT)
    write_plugin(tmp_path, "broken.py", "\n\nimport no_such_module_here\n")
    flow = shout_flow(tmp_path)

    untrusted = edgewise("validate", str(flow))
    assert untrusted.returncode == 2
    assert "unknown component 'demo.shout'" in untrusted.stdout
    assert "not loaded because this flow is not trusted" in untrusted.stderr
    assert f"run `edgewise trust {flow}`." in untrusted.stderr
    assert "--trust" not in untrusted.stderr  # validate has no such option
    untrusted_run = edgewise("run", str(flow))
    assert untrusted_run.returncode == 2
    assert (f"run `edgewise trust {flow}` (or run it once with `edgewise run --trust`)."
            in untrusted_run.stderr)

    once = edgewise("run", str(flow), "--trust", "--json")
    assert once.returncode == 0, once.stderr
    assert "debug show: '1!'" in once.stdout

    assert edgewise("trust", str(flow)).returncode == 0
    valid = edgewise("validate", str(flow))
    ran = edgewise("run", str(flow), "--json")

    assert valid.returncode == 0, valid.stdout
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1])["nodes"]["loud"]["fired"] == 2
    for result in (valid, ran):
        assert ("warning: workspace plugin plugins/broken.py, line 3 failed to load: "
                "ModuleNotFoundError: No module named 'no_such_module_here'") in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.asyncio
async def test_the_editor_worker_imports_the_plugins_afresh_for_every_run(
        tmp_path: Path) -> None:
    import asyncio

    from editor.worker import RunWorker

    path = write_plugin(tmp_path, "shout.py", SHOUT)
    doc = json.loads(shout_flow(tmp_path).read_text())

    async def run_once(plugins: bool) -> tuple[str, object]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[str, object]] = loop.create_future()
        shown: list[str] = []

        def on_message(message: tuple[object, ...]) -> None:
            if message[0] == "debug":
                shown.extend(str(e["text"]) for e in message[1])  # type: ignore[attr-defined]
            if message[0] in ("ended", "invalid", "crashed"):
                outcome = (str(message[0]), shown if message[0] == "ended" else message[1])
                loop.call_soon_threadsafe(lambda: done.done() or done.set_result(outcome))

        worker = RunWorker(on_message)
        worker.run(doc, tmp_path, "shout.json", plugins=plugins)
        try:
            return await asyncio.wait_for(done, 60)
        finally:
            worker.close()

    first = await run_once(True)
    path.write_text(SHOUT.replace('"!"', '"?"'), encoding="utf-8")
    second = await run_once(True)
    refused = await run_once(False)

    assert first == ("ended", ["'0!'", "'1!'"])
    assert second == ("ended", ["'0?'", "'1?'"])
    assert refused[0] == "invalid"
    assert "unknown component 'demo.shout'" in json.dumps(refused[1])
