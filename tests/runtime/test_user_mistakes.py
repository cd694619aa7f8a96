"""Mistakes in flow files get a clear message and exit code 2, never a traceback or raw escapes.

The command runs in-process through ``runtime.cli.main``, its output taken with capsys.
"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from runtime._messages import Batch
from runtime._model import MAX_FLOW_BYTES
from runtime.cli import EXIT_INVALID, main
from runtime.cli.run import DebugPrinter
from tests.flowkit import write_flow

RAW = ("\x1b", "\x07")  # ESC and BEL: what a terminal acts on
TITLE, CLEAR = "\x1b]0;pwned\x07", "\x1b[2J"


def edgewise(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run the command; return its exit code and all it printed (stdout, then stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out + err


def guarded(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """``edgewise``, failing instead of hanging the suite if the command blocks for good."""
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=edgewise(capsys, *args)),
                              daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), f"edgewise {' '.join(map(str, args))} blocked"
    result: tuple[int, str] = box["result"]
    return result


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so that rich does not wrap a message in the middle of a name."""
    monkeypatch.setenv("COLUMNS", "400")


# -- numbers too long to read ------------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_5000_digit_number_names_where_it_is(tmp_path: Path, command: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text('{"edgewise": 1, "name": "big",\n "nodes": [{"id": "r", '
                    '"component": "stream.range", "params": {"count": ' + "7" * 5000
                    + '}}],\n "edges": []}\n')
    code, output = edgewise(capsys, command, flow)
    assert code == EXIT_INVALID
    assert f"{flow}:2:" in output
    assert "a whole number of 5,000 digits is too long" in output


def test_a_5000_digit_number_in_validate_json(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text('{"edgewise": 1, "name": "big", "nodes": [], "edges": [], '
                    '"meta": {"n": -' + "1" * 5000 + "}}")
    code, output = edgewise(capsys, "validate", flow, "--json")
    assert code == EXIT_INVALID
    [problem] = json.loads(output)["problems"]
    assert "5,000 digits" in problem["message"]


# -- a NUL character in a path -----------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("component", ["csv.read", "csv.write", "jsonl.write"])
def test_a_nul_character_in_a_path_names_the_node_and_param(
        tmp_path: Path, command: str, component: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    nodes = [{"id": "files", "component": component, "params": {"path": "data\x00.csv"}}]
    if component == "csv.read":
        nodes.append({"id": "d", "component": "debug"})
        edges = [("files.data", "d.data")]
    else:
        nodes.append({"id": "r", "component": "dataset.load", "params": {"name": "iris"}})
        edges = [("r.data", "files.data")]
    code, output = edgewise(capsys, command, write_flow(tmp_path, nodes, edges))
    assert code == EXIT_INVALID
    assert "node 'files', param 'path': the path holds a NUL character" in output
    assert list(tmp_path.iterdir()) == [tmp_path / "flow.json"]


# -- flow files that are not files -------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_device_as_flow_file_is_refused_unread(command: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, output = guarded(capsys, command, "/dev/zero")
    assert code == EXIT_INVALID
    assert "/dev/zero: is a character device, not a flow file" in output


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_named_pipe_as_flow_file_is_refused_without_waiting(
        tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    pipe = tmp_path / "flow.json"
    os.mkfifo(pipe)
    code, output = guarded(capsys, command, pipe)
    assert code == EXIT_INVALID
    assert f"{pipe}: is a named pipe (FIFO), not a flow file" in output


def test_a_folder_as_flow_file_is_refused(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, output = edgewise(capsys, "validate", tmp_path)
    assert code == EXIT_INVALID
    assert output == f"{tmp_path}: is a folder, not a flow file\n"  # named once, not twice


def test_a_flow_file_over_16_mib_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert MAX_FLOW_BYTES == 16 * 2**20  # the size the README and the help give
    flow = tmp_path / "huge.json"
    with flow.open("wb") as handle:
        handle.truncate(MAX_FLOW_BYTES + 1)
    code, output = edgewise(capsys, "validate", flow)
    assert code == EXIT_INVALID
    assert f"{flow}: is bigger than 16 MiB, the most a flow file may hold" in output


def test_a_flow_file_of_exactly_16_mib_is_read(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps({"edgewise": 1, "name": "padded", "nodes": [], "edges": []})
    flow = tmp_path / "padded.json"
    flow.write_text(text + " " * (MAX_FLOW_BYTES - len(text)))
    code, output = edgewise(capsys, "validate", flow)
    assert code == 0
    assert output == f"{flow}: ok\n"


# -- escape sequences from flow files and data never reach the terminal raw ---------------

def assert_no_raw_controls(output: str) -> None:
    for char in RAW:
        assert char not in output, repr(output)


@pytest.mark.parametrize("as_json", [False, True])
def test_validate_shows_escape_sequences_from_the_flow_as_text(
        tmp_path: Path, as_json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    flow = write_flow(tmp_path, [
        {"id": "r", "component": "stream.range", "label": TITLE,
         "params": {"count": 2, CLEAR: 1}},
        {"id": "x", "component": f"no{TITLE}such"},
        {"id": "d", "component": "debug"}], [("r.data", "d.data")])
    code, output = edgewise(capsys, "validate", flow, *(["--json"] if as_json else []))
    assert code == EXIT_INVALID
    assert_no_raw_controls(output)
    if not as_json:
        assert "unknown param '\\x1b[2J' for stream.range" in output
        assert "unknown component 'no\\x1b]0;pwned\\x07such'" in output


def test_a_flow_file_name_with_escapes_is_shown_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = write_flow(tmp_path, [], name=f"flow{CLEAR}.json")
    code, output = edgewise(capsys, "validate", flow)
    assert code == 0
    assert_no_raw_controls(output)
    assert output == f"{tmp_path}/flow\\x1b[2J.json: ok\n"


@pytest.mark.parametrize("as_json", [False, True])
def test_run_shows_escape_sequences_in_error_messages_as_text(
        tmp_path: Path, as_json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    # The column name reaches the terminal inside the error message of a failed firing;
    # frame.dummies' columns are not known before the run, so validation cannot tell.
    flow = write_flow(tmp_path, [
        {"id": "load", "component": "dataset.load", "label": TITLE, "params": {"name": "iris"}},
        {"id": "dum", "component": "frame.dummies"},
        {"id": "fit", "component": "ml.fit",
         "params": {"estimator": "sklearn.linear_model.LogisticRegression",
                    "target": TITLE}},
        {"id": "d", "component": "debug"}],
        [("load.data", "dum.data"), ("dum.data", "fit.data"), ("fit.error", "d.data")])
    code, output = edgewise(capsys, "run", flow, *(["--json"] if as_json else []))
    assert code == 1
    assert_no_raw_controls(output)
    assert "node 'fit' failed on 1 firing(s); last error: KeyError: " in output
    assert "'\\x1b]0;pwned\\x07'" in output


class Shout:
    """A value (from a plugin, say) whose text holds escape sequences."""

    def __repr__(self) -> str:
        return f"Shout({TITLE}{CLEAR})"


def test_debug_lines_show_escape_sequences_in_values_as_text() -> None:
    screen = io.StringIO()
    printer = DebugPrinter(Console(file=screen, width=400))
    printer(f"n{CLEAR}", Batch("src.data", [0, 1], [(), ()], [Shout(), f"text {TITLE}"]))
    shown = screen.getvalue()
    assert_no_raw_controls(shown)
    assert shown.splitlines() == ["debug n\\x1b[2J: Shout(\\x1b]0;pwned\\x07\\x1b[2J)",
                                  "debug n\\x1b[2J: 'text \\x1b]0;pwned\\x07'"]


def test_components_shows_a_plugin_title_with_escapes_as_text(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import runtime.cli.flows
    from runtime import component, default_registry

    @component("shady.title", outputs={"data": "int"})
    def shady() -> Any:
        """Clears your screen\x1b[2J and retitles it\x1b]0;pwned\x07."""
        yield 1

    registry = default_registry().with_components(shady)
    monkeypatch.setattr(runtime.cli.flows, "default_registry", lambda: registry)

    code, output = edgewise(capsys, "components")

    assert code == 0
    assert "shady.title" in output
    assert not any(raw in output for raw in RAW), repr(output)
    assert "\\x1b" in output
