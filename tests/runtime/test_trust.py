"""The trust rule: a flow file holding code runs only once trusted; a flow of data runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from codeplugin import install, plugin_env

from runtime import Registry, UntrustedFlowError, default_registry, plan, run_flow
from runtime._registry import component
from runtime._trust import TrustStore, code_nodes, digest
from runtime.cli import main


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return install(tmp_path / "site")


def _code_flow(folder: Path, marker: Path, name: str = "code.json") -> Path:
    flow = {"edgewise": 1, "name": "has-code", "nodes": [
        {"id": "shell", "component": "codetest.exec",
         "params": {"code": f"open({str(marker)!r}, 'w').write('ran')"}},
        {"id": "count", "component": "stream.count"}],
        "edges": [{"source": "shell.data", "target": "count.data"}]}
    path = folder / name
    path.write_text(json.dumps(flow, indent=2), encoding="utf-8")
    return path


def _edgewise(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | plugin_env(site)
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def exec_component() -> Iterator[Registry]:
    ran: list[str] = []

    from pydantic import Field

    from runtime import Params

    class ExecParams(Params):
        """Settings."""

        code: str = Field(description="Python statements to run.")

    @component("codetest.inline", outputs={"data": "int"}, params=ExecParams, runs_code=True)
    def inline(*, params: ExecParams) -> Iterator[int]:
        """Run code."""
        ran.append(params.code)
        yield 1

    yield default_registry().with_components(inline)


# --- the mechanism in the registry and the API ----------------------------------------------

def test_the_registry_names_the_nodes_whose_component_runs_code(
        exec_component: Registry) -> None:
    doc = {"nodes": [{"id": "a", "component": "codetest.inline"},
                     {"id": "b", "component": "stream.count"},
                     {"id": "c", "component": "not.installed"}]}

    assert code_nodes(doc, exec_component) == [("a", "codetest.inline")]
    assert exec_component.get("codetest.inline").to_json()["runs_code"] is True  # type: ignore[union-attr]
    assert default_registry().get("frame.query").to_json()["runs_code"] is False  # type: ignore[union-attr]


def test_a_flow_file_with_code_is_refused_until_trusted(tmp_path: Path,
                                                        exec_component: Registry) -> None:
    flow = {"edgewise": 1, "name": "x", "nodes": [
        {"id": "f", "component": "codetest.inline", "params": {"code": "pass"}}], "edges": []}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(flow), encoding="utf-8")

    with pytest.raises(UntrustedFlowError) as refused:
        plan(path, registry=exec_component)
    assert refused.value.code_nodes == [("f", "codetest.inline")]
    assert "'f' (codetest.inline)" in str(refused.value)
    assert f"edgewise trust {path}" in str(refused.value)

    assert run_flow(path, registry=exec_component, trust=True).status == "ok"
    TrustStore().trust(json.loads(path.read_text("utf-8")), path)
    assert plan(path, registry=exec_component).nodes["f"]
    # the same flow given as a document is the caller's own, and needs no trust
    assert plan(flow, registry=exec_component).nodes["f"]


def test_any_change_to_a_trusted_flow_makes_it_untrusted_but_layout_does_not(
        tmp_path: Path, exec_component: Registry) -> None:
    flow = {"edgewise": 1, "name": "x", "nodes": [
        {"id": "f", "component": "codetest.inline", "params": {"code": "pass"}}], "edges": []}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(flow), encoding="utf-8")
    TrustStore().trust(flow, path)
    path.write_text(json.dumps(flow, indent=4, sort_keys=True), encoding="utf-8")
    assert plan(path, registry=exec_component)  # whitespace and key order do not matter

    flow["nodes"][0]["params"]["code"] = "import os"
    path.write_text(json.dumps(flow), encoding="utf-8")
    with pytest.raises(UntrustedFlowError):
        plan(path, registry=exec_component)


def test_a_flow_without_code_needs_no_trust(tmp_path: Path) -> None:
    flow = {"edgewise": 1, "name": "x", "nodes": [
        {"id": "r", "component": "stream.range", "params": {"count": 3}}], "edges": []}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(flow), encoding="utf-8")

    assert run_flow(path).status == "ok"


def test_a_damaged_trust_store_trusts_nothing(tmp_path: Path,
                                              exec_component: Registry) -> None:
    store = TrustStore(tmp_path / "cfg")
    (tmp_path / "cfg").mkdir()
    store.path.write_bytes(b"not a database at all" * 100)

    assert store.is_trusted({"a": 1}) is False


def test_digests_ignore_key_order_and_see_every_value() -> None:
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


# --- from the command line, with a real plugin -----------------------------------------------

def test_run_refuses_an_untrusted_flow_with_code_and_the_code_does_not_run(
        tmp_path: Path, site: Path) -> None:
    marker = tmp_path / "ran.txt"
    flow = _code_flow(tmp_path, marker)

    refused = _edgewise(site, "run", str(flow), "--json")

    assert refused.returncode == 2, refused.stderr
    assert not marker.exists()
    assert "'shell' (codetest.exec)" in refused.stderr
    assert "edgewise trust" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert json.loads(refused.stdout.splitlines()[-1]) == {
        "status": "untrusted", "nodes": {}, "edges": {}, "code_nodes": ["shell"]}


def test_trust_then_run_and_check_and_revoke(tmp_path: Path, site: Path) -> None:
    marker = tmp_path / "ran.txt"
    flow = _code_flow(tmp_path, marker)

    check = _edgewise(site, "trust", "--check", str(flow))
    assert check.returncode == 1
    assert "NOT trusted" in check.stdout and "'shell' (codetest.exec)" in check.stdout

    trusted = _edgewise(site, "trust", str(flow))
    assert trusted.returncode == 0, trusted.stderr
    assert "trusted; it holds code in 'shell'" in trusted.stdout

    ran = _edgewise(site, "run", str(flow))
    assert ran.returncode == 0, ran.stderr
    assert marker.read_text() == "ran"

    marker.unlink()
    revoked = _edgewise(site, "trust", "--revoke", str(flow))
    assert "no longer trusted" in revoked.stdout
    assert _edgewise(site, "run", str(flow)).returncode == 2
    assert not marker.exists()


def test_run_with_trust_runs_it_once_without_remembering(tmp_path: Path, site: Path) -> None:
    marker = tmp_path / "ran.txt"
    flow = _code_flow(tmp_path, marker)

    assert _edgewise(site, "run", str(flow), "--trust").returncode == 0
    assert marker.exists()
    assert _edgewise(site, "trust", "--check", str(flow)).returncode == 1


def test_trust_store_lives_in_the_config_folder(tmp_path: Path, site: Path) -> None:
    flow = _code_flow(tmp_path, tmp_path / "ran.txt")
    _edgewise(site, "trust", str(flow))

    assert (Path(os.environ["EDGEWISE_CONFIG_DIR"]) / "trust.sqlite").is_file()


def test_trust_on_a_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    assert main(["trust", str(tmp_path / "nope.json")]) == 2
    assert "no such flow file" in capsys.readouterr().out


def test_a_host_asks_untrusted_code_and_trusts_what_the_user_accepts(
        exec_component: Registry) -> None:
    import runtime

    doc = {"edgewise": 1, "name": "x", "nodes": [
        {"id": "f", "component": "codetest.inline", "params": {"code": "pass"}}], "edges": []}

    assert runtime.untrusted_code(doc, registry=exec_component) == [("f", "codetest.inline")]
    runtime.trust_flow(doc, "x.json")
    assert runtime.untrusted_code(doc, registry=exec_component) == []
    assert runtime.untrusted_code({"nodes": []}, registry=exec_component) == []


# --- replay: a kept run may come from someone else -------------------------------------------

def _code_after_source_flow(folder: Path, marker: Path) -> Path:
    """stream.range feeds a code node, so a replay from that node re-runs its code."""
    flow = {"edgewise": 1, "name": "replayable", "nodes": [
        {"id": "src", "component": "stream.range", "params": {"count": 3}},
        {"id": "shell", "component": "codetest.each",
         "params": {"code": f"open({str(marker)!r}, 'a').write('x')"}}],
        "edges": [{"source": "src.data", "target": "shell.data"}]}
    path = folder / "replayable.json"
    path.write_text(json.dumps(flow), encoding="utf-8")
    return path


def test_replay_of_a_code_node_needs_trust_and_runs_nothing_without_it(
        tmp_path: Path, site: Path) -> None:
    marker = tmp_path / "ran.txt"
    flow = _code_after_source_flow(tmp_path, marker)
    recorded = _edgewise(site, "run", str(flow), "--record", "--trust")
    assert recorded.returncode == 0, recorded.stderr
    marker.unlink()

    refused = _edgewise(site, "replay", "latest", "--from", "shell", "-w", str(tmp_path))

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "'shell' (codetest.each)" in refused.stderr
    assert "add --trust" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not marker.exists()

    edited = _edgewise(site, "replay", "latest", "--from", "shell", "-w", str(tmp_path),
                       "--flow", str(flow))
    assert edited.returncode == 2
    assert f"edgewise trust {flow}" in edited.stderr
    assert not marker.exists()

    trusted = _edgewise(site, "replay", "latest", "--from", "shell", "-w", str(tmp_path),
                        "--trust")
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert marker.read_text() == "xxx"
