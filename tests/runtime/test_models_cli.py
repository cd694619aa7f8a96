"""``edgewise models``: list, show, alias, log, with --json, and mistakes as one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from runtime.cli import EXIT_INVALID, EXIT_OK, main
from runtime.models import ModelRegistry, registry_root

SOURCE = {"run": "20261130-101010-abcd", "message": 12, "node": "fit", "port": "model",
          "registered_by": "reg", "flow": "train.json"}


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return LogisticRegression(max_iter=500).fit(x, y)


@pytest.fixture
def workspace(tmp_path: Path, model: Any) -> Path:
    registry = ModelRegistry(registry_root(tmp_path))
    registry.register(model, "iris", metrics={"accuracy": 0.9736842105, "rows": 38},
                      source=SOURCE)
    registry.register(model, "iris")
    registry.register(model, "wine")
    registry.set_alias("iris", "champion", 1, by="node:reg run r1", why="first model")
    return tmp_path


def edgewise(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["models", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_each_model_with_its_versions_and_aliases(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = edgewise(capsys, "-w", str(workspace))
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["name", "versions", "latest", "aliases", "latest", "created"]
    assert lines[1].split()[:4] == ["iris", "2", "2", "champion=1"]
    assert lines[2].split()[:3] == ["wine", "1", "1"]
    code, out, _ = edgewise(capsys, "list", "--json", "--workspace", str(workspace))
    listed = json.loads(out)
    assert [(m["name"], m["versions"], m["latest"], m["aliases"]) for m in listed] == [
        ("iris", [1, 2], 2, {"champion": 1}), ("wine", [1], 1, {})]


def test_list_of_an_empty_workspace_says_so(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = edgewise(capsys, "list", "-w", str(tmp_path))
    assert code == EXIT_OK and out.startswith("no registered models in")
    assert json.loads(edgewise(capsys, "list", "--json", "-w", str(tmp_path))[1]) == []


def test_the_workspace_defaults_to_the_working_folder(
        workspace: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    assert [m["name"] for m in json.loads(edgewise(capsys, "--json")[1])] == ["iris", "wine"]


def test_show_lists_versions_metrics_aliases_and_how_to_find_the_training_rows(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = edgewise(capsys, "show", "iris", "-w", str(workspace))
    assert code == EXIT_OK
    assert "iris in" in out and "2 version(s); aliases: champion=1" in out
    row = next(line for line in out.splitlines() if line.split()[:2] == ["1", "champion"])
    assert "LogisticRegression" in row and "accuracy=0.9737, rows=38" in row
    assert SOURCE["run"] in row
    assert (f"see `edgewise trained-on {SOURCE['run']} fit.model --id 12`") in out
    code, out, _ = edgewise(capsys, "show", "iris", "--json", "-w", str(workspace))
    shown = json.loads(out)
    assert shown["aliases"] == {"champion": 1}
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["versions"][0]["source"] == SOURCE
    assert shown["versions"][0]["metrics"] == {"accuracy": 0.9736842105, "rows": 38}
    assert shown["versions"][0]["estimator"].endswith("LogisticRegression")


def test_alias_moves_and_records_the_login_and_why(
        workspace: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "ann")
    code, out, _ = edgewise(capsys, "alias", "iris", "champion", "2", "--why", "better",
                            "-w", str(workspace))
    assert code == EXIT_OK
    assert out.strip() == "champion of 'iris' moved from version 1 to version 2 (by cli:ann)"
    code, out, _ = edgewise(capsys, "alias", "iris", "challenger", "1", "--json",
                            "-w", str(workspace))
    moved = json.loads(out)
    assert {k: moved[k] for k in ("alias", "from", "to", "by", "why")} == {
        "alias": "challenger", "from": None, "to": 1, "by": "cli:ann", "why": ""}
    registry = ModelRegistry(registry_root(workspace))
    assert registry.aliases("iris") == {"champion": 2, "challenger": 1}
    assert registry.log("iris")[1].why == "better"


def test_log_prints_every_move_in_order(workspace: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    ModelRegistry(registry_root(workspace)).set_alias("iris", "champion", 2, by="cli:bob",
                                                      why="promoted after review")
    code, out, _ = edgewise(capsys, "log", "iris", "-w", str(workspace))
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["time", "alias", "from", "to", "by", "why"]
    assert lines[1].split()[1:] == ["champion", "1", "node:reg", "run", "r1", "first",
                                    "model"]
    assert lines[2].split()[1:] == ["champion", "1", "2", "cli:bob", "promoted", "after",
                                    "review"]
    logged = json.loads(edgewise(capsys, "log", "iris", "--json", "-w", str(workspace))[1])
    assert [(m["from"], m["to"], m["by"]) for m in logged["moves"]] == [
        (None, 1, "node:reg run r1"), (1, 2, "cli:bob")]
    assert logged["damage"] == []


def test_log_of_a_model_whose_aliases_were_never_set(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = edgewise(capsys, "log", "wine", "-w", str(workspace))
    assert code == EXIT_OK and out.strip() == "no alias of 'wine' has been set yet"


def test_a_damaged_last_log_line_is_reported_and_the_rest_is_shown(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = ModelRegistry(registry_root(workspace)).log_path("iris")
    with open(path, "ab") as handle:
        handle.write(b'{"time": "2026')
    code, out, err = edgewise(capsys, "log", "iris", "-w", str(workspace))
    assert code == EXIT_OK
    assert "first model" in out
    assert err.startswith("edgewise models: the last line of") and "damaged" in err
    code, out, err = edgewise(capsys, "show", "iris", "-w", str(workspace))
    assert code == EXIT_OK and "aliases: champion=1" in out and "damaged" in err


@pytest.mark.parametrize(("args", "wanted"), [
    (["show", "nope"], "no model 'nope' in"),
    (["show", "../x"], "'../x' cannot name a model"),
    (["log", "a/b"], "'a/b' cannot name a model"),
    (["show"], "'models show' takes 1 argument(s) (edgewise models show NAME); got none"),
    (["list", "iris"], "'models list' takes no argument(s)"),
    (["alias", "iris", "champion"], "'models alias' takes 3 argument(s)"),
    (["alias", "iris", "champion", "x"], "VERSION must be a version number such as 3"),
    (["alias", "iris", "champion", "9"], "model 'iris' has no version 9; its versions are 1, 2"),
    (["alias", "iris", "9lives", "1"], "'9lives' cannot be an alias"),
    (["log", "iris", "--why", "x"], "--why is for 'models alias' only"),
])
def test_mistakes_are_one_line_and_exit_2(workspace: Path, capsys: pytest.CaptureFixture[str],
                                          args: list[str], wanted: str) -> None:
    code, out, err = edgewise(capsys, *args, "-w", str(workspace))
    assert code == EXIT_INVALID
    assert out == ""
    assert err.startswith("edgewise models: ") and wanted in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert ModelRegistry(registry_root(workspace)).aliases("iris") == {"champion": 1}


def test_an_unknown_action_is_refused_by_the_parser(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["models", "promote", "iris"])
    assert stopped.value.code == EXIT_INVALID
    assert "invalid choice: 'promote'" in capsys.readouterr().err
