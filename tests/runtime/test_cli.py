"""The ``edgewise`` command, run for real as a subprocess: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import runtime
from tests.flowkit import node, write_flow

CORE_IDS = {"dataset.load", "csv.read", "csv.write", "jsonl.write", "stream.range",
            "stream.identity", "stream.chunks", "stream.collect", "stream.count",
            "frame.query", "frame.select", "ml.split", "ml.fit", "ml.predict", "ml.score",
            "debug"}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    imported: set[str]
    """Top-level modules the process imported (from ``-X importtime``)."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def summary(self) -> dict[str, Any]:
        """The JSON object on the last line of stdout (``--json``)."""
        lines = self.stdout.strip().splitlines()
        assert lines, f"no stdout; stderr: {self.stderr}"
        value = json.loads(lines[-1])
        assert isinstance(value, dict)
        return value


def edgewise_command() -> list[str]:
    script = Path(sys.executable).with_name("edgewise")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "runtime.cli"]


def edgewise(*args: str | Path, cwd: Path | None = None) -> Result:
    """Run the console script. Its import profile is taken too, and kept out of stderr."""
    # A wide console, so that rich does not wrap long messages in the middle of a name.
    env = {**os.environ, "COLUMNS": "400", "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run([*edgewise_command(), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    stderr, imported = [], set()
    for line in proc.stderr.splitlines(keepends=True):
        if line.startswith("import time:"):
            if "|" in line:
                imported.add(line.rsplit("|", 1)[1].strip().split(".")[0])
        else:
            stderr.append(line)
    assert "runtime" in imported, "the import profile was not taken"
    return Result(proc.returncode, proc.stdout, "".join(stderr), imported)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result.output


COUNT_NODES = [node("r", "stream.range", count=5), node("i", "stream.identity"),
               node("c", "stream.count"), node("d", "debug")]
COUNT_EDGES = [("r.data", "i.data"), ("i.data", "c.data"), ("c.count", "d.data")]


def query_flow(folder: Path, expr: str = "a > 'nosuch'") -> Path:
    """CSV chunks through a query that fails on each chunk, beside a healthy branch.

    It compares numbers with text, a failure no check before the run can see.
    """
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "in.csv").write_text("a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n",
                                            encoding="utf-8")
    return write_flow(folder, [
        node("read", "csv.read", path="data/in.csv", chunk_rows=2),
        node("q", "frame.query", expr=expr),
        node("save", "csv.write", path="out/kept.csv"),
        *COUNT_NODES,
    ], [("read.data", "q.data"), ("q.data", "save.data"), *COUNT_EDGES])


# --- run ---------------------------------------------------------------------------------


def test_run_json_succeeds_with_one_summary_line(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, COUNT_NODES, COUNT_EDGES)

    result = edgewise("run", flow, "--json")

    assert result.code == 0, result.output
    summary = result.summary()
    assert {"status", "nodes", "edges"} <= set(summary)
    assert summary["status"] == "ok"
    assert set(summary["nodes"]) == {"r", "i", "c", "d"}
    for counts in summary["nodes"].values():
        assert {"fired", "errors"} <= set(counts)
        assert isinstance(counts["fired"], int)
        assert counts["errors"] == 0
    assert summary["nodes"]["i"]["fired"] == 5
    assert summary["edges"] == {"r.data->i.data": {"count": 5}, "i.data->c.data": {"count": 5},
                                "c.count->d.data": {"count": 1}}
    json_objects = []
    for line in result.stdout.splitlines():
        try:
            json_objects.append(json.loads(line))
        except ValueError:
            continue
    assert [type(o) for o in json_objects].count(dict) == 1
    no_traceback(result)
    # issue 2: a family's heavy libraries load only when a flow uses that family
    assert not result.imported & {"sklearn", "pandas"}
    # STYLE.md: the runtime never imports nicegui; a headless run must not pay for the editor
    assert "nicegui" not in result.imported


def test_run_shows_debug_values_and_a_summary(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, COUNT_NODES, COUNT_EDGES)

    result = edgewise("run", flow)

    assert result.code == 0, result.output
    assert "debug d: 5" in result.stdout
    for name in ("r", "i", "c", "d", "stream.range", "stream.count",
                 "r.data->i.data", "c.count->d.data"):
        assert name in result.stdout
    no_traceback(result)


def test_run_with_failing_messages_finishes_with_errors(tmp_path: Path) -> None:
    flow = query_flow(tmp_path)

    result = edgewise("run", flow, "--json")

    assert result.code == 1, result.output
    summary = result.summary()
    assert summary["status"] == "errors"
    assert (summary["nodes"]["q"]["fired"], summary["nodes"]["q"]["errors"]) == (3, 3)
    assert summary["edges"]["read.data->q.data"] == {"count": 3}
    assert summary["edges"]["q.data->save.data"] == {"count": 0}
    # the other branch kept running
    assert summary["edges"]["i.data->c.data"] == {"count": 5}
    assert summary["nodes"]["c"]["errors"] == 0
    assert "node 'q' failed on 3 firing(s)" in result.stderr
    assert "nosuch" in result.stderr
    no_traceback(result)


@pytest.fixture(scope="module")
def fail_fast(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """``run --json --fail-fast`` of 100 ints fed to frame.query, which fails on each one."""
    flow = write_flow(tmp_path_factory.mktemp("fail-fast"), [
        node("r", "stream.range", count=100), node("i", "stream.identity"),
        node("q", "frame.query", expr="x > 1"), node("d", "debug"),
    ], [("r.data", "i.data"), ("i.data", "q.data"), ("q.data", "d.data")])
    return edgewise("run", flow, "--json", "--fail-fast")


def test_fail_fast_stops_the_run_at_the_first_error(fail_fast: Result) -> None:
    assert fail_fast.code == 1, fail_fast.output
    summary = fail_fast.summary()
    assert summary["status"] == "aborted"
    assert summary["nodes"]["q"]["errors"] == 1
    assert summary["edges"]["q.data->d.data"] == {"count": 0}
    assert "stopped by --fail-fast" in fail_fast.stderr
    assert "node 'q'" in fail_fast.stderr
    no_traceback(fail_fast)


def test_fail_fast_counts_only_the_firings_that_happened(fail_fast: Result) -> None:
    # q fails on every message, so each firing that happened is an error; the run stopped at
    # the first, so q fired once (without --fail-fast it reports fired 100, errors 100).
    q = fail_fast.summary()["nodes"]["q"]

    assert q["fired"] == q["errors"]


def test_run_of_an_invalid_flow_runs_nothing_and_exits_2(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [node("r", "stream.range", count=3),
                                 node("w", "jsonl.write", path="out/written.jsonl"),
                                 node("x", "no.such")],
                      [("r.data", "w.data"), ("r.data", "x.data")])

    result = edgewise("run", flow, "--json")

    assert result.code == 2, result.output
    summary = result.summary()
    assert summary["status"] == "invalid"
    assert summary["nodes"] == {}
    assert summary["edges"] == {}
    assert "unknown component 'no.such'" in result.stderr
    assert not (tmp_path / "out").exists()
    no_traceback(result)


# --- validate ----------------------------------------------------------------------------


def test_validate_a_good_flow_exits_0(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, COUNT_NODES, COUNT_EDGES)

    result = edgewise("validate", flow)

    assert result.code == 0, result.output
    assert result.stdout.strip() == f"{flow}: ok"


def test_validate_lists_every_problem_one_per_line(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [
        node("r", "stream.range", count="many"),                 # ill-typed param
        node("u", "stream.idenity"),                             # unknown component
        node("q", "frame.query", expr="a > 1", exp="typo"),      # unknown param
        node("c", "stream.count"),
        node("d", "debug"),
    ], [
        ("r.data", "c.data"),
        ("r.data", "c.data"),                                    # duplicate edge
        ("c.count", "q.data"),                                   # type mismatch
        ("c.count", "d.dta"),                                    # unknown port
    ])
    expected = runtime.validate(flow)

    result = edgewise("validate", flow)

    assert result.code == 2, result.output
    lines = result.stdout.strip().splitlines()
    assert len(expected) >= 6
    assert lines == [f"{flow}: {p.message}" for p in expected]
    for culprit in ("node 'r', param 'count'", "node 'u'", "param 'exp'",
                    "edge 'r.data->c.data'", "edge 'c.count->q.data'", "edge 'c.count->d.dta'"):
        assert sum(culprit in line for line in lines) >= 1, culprit
    no_traceback(result)


# --- components and schema ---------------------------------------------------------------


def test_components_lists_every_core_component() -> None:
    result = edgewise("components")

    assert result.code == 0, result.output
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert CORE_IDS <= listed
    assert "model:Model (latest)" in result.stdout
    route = next(line for line in result.stdout.splitlines() if "frame.route" in line)
    assert "set by params" in route  # its outputs depend on its routes
    # issue 2: listing components must not pay for importing scikit-learn (or pandas)
    assert not result.imported & {"sklearn", "pandas"}
    assert "nicegui" not in result.imported


def test_components_json_describes_ports_and_params() -> None:
    result = edgewise("components", "--json")

    assert result.code == 0, result.output
    described = {c["id"]: c for c in json.loads(result.stdout)}
    assert CORE_IDS <= set(described)
    for spec in described.values():
        assert {"id", "title", "category", "doc", "inputs", "outputs", "params_schema"} <= set(
            spec)
        assert "error" in [p["name"] for p in spec["outputs"]]
    predict = described["ml.predict"]
    assert [(p["name"], p["type"], p["mode"]) for p in predict["inputs"]] == [
        ("data", "DataFrame", "stream"), ("model", "Model", "latest")]
    split = described["ml.split"]
    assert [p["name"] for p in split["outputs"]] == ["train", "test", "error"]
    props = split["params_schema"]["properties"]
    assert props["test_size"]["default"] == 0.25
    assert split["params_schema"]["required"] == ["target"]
    assert all(p.get("description") for p in props.values())


def test_schema_prints_the_json_schema_of_flow_files() -> None:
    result = edgewise("schema")

    assert result.code == 0, result.output
    assert json.loads(result.stdout) == runtime.flow_json_schema()


# --- no traceback for any mistake in the user's input ------------------------------------


def _case_flow(case: str, folder: Path) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "in.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    (folder / "data" / "empty.csv").write_text("", encoding="utf-8")
    rng = node("r", "stream.range", count=3)
    read = node("read", "csv.read", path="data/in.csv")
    show = node("d", "debug")
    if case == "bad-json":
        path = folder / "flow.json"
        path.write_text('{"edgewise": 1,\n  "name": ,\n  "nodes": []}', encoding="utf-8")
        return path
    if case == "nonexistent-flow":
        return folder / "no-such-flow.json"
    if case == "folder-as-flow":
        return folder / "data"
    cases: dict[str, tuple[list[dict[str, Any]], list[tuple[str, str]]]] = {
        "unknown-component": ([read, node("q", "frame.qeury", expr="a > 1"), show],
                              [("read.data", "q.data"), ("q.data", "d.data")]),
        "missing-param": ([read, node("q", "frame.query"), show],
                          [("read.data", "q.data"), ("q.data", "d.data")]),
        "ill-typed-param": ([node("r", "stream.range", count="five"), show],
                            [("r.data", "d.data")]),
        "type-mismatch": ([rng, node("cnt", "stream.count"), node("q", "frame.query",
                                                                  expr="a > 1")],
                          [("r.data", "cnt.data"), ("cnt.count", "q.data")]),
        "missing-csv": ([node("read", "csv.read", path="data/missing.csv"), show],
                        [("read.data", "d.data")]),
        "folder-as-csv": ([node("read", "csv.read", path="data"), show],
                          [("read.data", "d.data")]),
        "query-syntax": ([read, node("q", "frame.query", expr="a >"), show],
                         [("read.data", "q.data"), ("q.data", "d.data")]),
        "empty-csv": ([node("read", "csv.read", path="data/empty.csv"), show],
                      [("read.data", "d.data")]),
    }
    nodes, edges = cases[case]
    return write_flow(folder, nodes, edges)


# Each: exit code, status of the --json line, and what stderr must name. A query on a missing
# column (exit 1, status "errors") is run by test_run_with_failing_messages_finishes_with_errors.
MISTAKES: dict[str, tuple[int, str, list[str]]] = {
    "bad-json": (2, "invalid", ["flow.json:2:11", "not valid JSON"]),
    "nonexistent-flow": (2, "invalid", ["no-such-flow.json", "no such flow file"]),
    "folder-as-flow": (2, "invalid", ["data", "folder"]),
    "unknown-component": (2, "invalid", ["node 'q'", "'frame.qeury'",
                                         "did you mean 'frame.query'"]),
    "missing-param": (2, "invalid", ["node 'q', param 'expr'", "missing"]),
    "ill-typed-param": (2, "invalid", ["node 'r', param 'count'", "'five'"]),
    "type-mismatch": (2, "invalid", ["node 'q', input 'data' expects DataFrame but "
                                     "'cnt.count' gives int"]),
    "missing-csv": (2, "invalid", ["node 'read', param 'path'", "'data/missing.csv'"]),
    "folder-as-csv": (2, "invalid", ["node 'read', param 'path'", "'data'"]),
    "query-syntax": (2, "invalid", ["node 'q', param 'expr'", "not a valid query"]),
    "empty-csv": (1, "errors", ["node 'read'"]),
}


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Run ``edgewise run --json`` on every mistaken flow, a few at a time to save time."""
    flows = {case: (_case_flow(case, folder), folder)
             for case in MISTAKES
             for folder in [tmp_path_factory.mktemp(case)]}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {case: pool.submit(edgewise, "run", flow, "--json", cwd=folder)
                   for case, (flow, folder) in flows.items()}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_user_mistakes_give_a_message_and_never_a_traceback(case: str,
                                                            mistakes: dict[str, Result]) -> None:
    code, status, culprits = MISTAKES[case]
    result = mistakes[case]

    no_traceback(result)
    assert result.code == code, result.output
    assert result.summary()["status"] == status
    for culprit in culprits:
        assert culprit in result.stderr, (culprit, result.stderr)
