"""The editor server never loads a kept value: a helper process reads it and sends JSON back.

The server runs with an import guard: any attempt of the server process itself to import
skops (the model loader) is written to a log and fails. Its helper processes are not
guarded, so the inspector still shows a kept model, and refuses a tampered one in words.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from tampering import tamper

import runtime
from runtime._record import record_run

GUARD = '''
import os, sys
if sys.argv[1:2] == ["edit"]:  # the editor server itself, not the processes it starts
    import importlib.abc

    class _NoSkops(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "skops" or name.startswith("skops."):
                with open(os.environ["EW_GUARD_LOG"], "a") as log:
                    log.write(name + "\\n")
                raise ImportError(name + " may not be imported by the editor server")
            return None

    sys.meta_path.insert(0, _NoSkops())
'''


def test_a_kept_model_is_shown_and_a_tampered_one_refused_without_the_server_loading_it(
        server_factory: Any, example_workspace: Path, page: Any, tmp_path: Path,
        monkeypatch: Any) -> None:
    run = runtime.Run(runtime.plan(example_workspace / "iris.json"))
    store = record_run(run, example_workspace, links={"flow_file": "iris.json"}).store
    assert run.run().status == "ok"
    [model] = store.messages("fit.model")
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log, marker = tmp_path / "skops-imports.log", tmp_path / "marker.txt"
    monkeypatch.setenv("EW_GUARD_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(guard), *filter(None, [os.environ.get("PYTHONPATH")])]))
    server = server_factory(example_workspace)

    page.goto(server.url + "/flow/iris.json")
    page.get_by_test_id("tab-runs").click()
    page.get_by_test_id("run-row").first.get_by_test_id("run-show").click()
    model_edge = page.locator('[data-testid=edge][data-edge="fit.model->predict.model"] '
                              '[data-testid=edge-label]')
    expect(model_edge).to_have_attribute("data-full", re.compile(r"^1 · "))
    model_edge.click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector).to_contain_text("sklearn.linear_model._logistic.LogisticRegression",
                                      timeout=60_000)  # the helper process starts
    expect(inspector).to_contain_text("max_iter")
    expect(inspector).to_contain_text(f"#{model.id}")

    tamper(store.values_dir / f"{model.id}.skops", marker)
    page.locator('[data-testid=edge][data-edge="split.train->fit.data"] '
                 '[data-testid=edge-label]').click()
    expect(inspector).to_contain_text("split.train->fit.data")
    model_edge.click()
    expect(inspector).to_contain_text(re.compile(r"names builtins\.eval.*not loaded"))

    assert not marker.exists()
    assert not log.exists(), log.read_text()
    assert "Traceback" not in server.output()


def test_a_damaged_run_is_marked_in_the_runs_panel_and_the_others_still_show(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    import subprocess
    import sys

    flow = example_workspace / "iris.json"
    for _ in range(2):
        subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(flow), "--record"],
                       check=True, capture_output=True, timeout=120)
    runs = sorted((example_workspace / ".edgewise" / "runs").iterdir())
    (runs[0] / "index.sqlite").write_bytes(b"garbage" * 100)
    server = server_factory(example_workspace)

    page.goto(server.url + "/flow/iris.json")
    page.get_by_test_id("tab-runs").click()
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(2)
    damaged = page.locator(f'[data-testid=run-row][data-run="{runs[0].name}"]')
    expect(damaged.get_by_test_id("run-damaged")).to_have_text("damaged")
    healthy = page.locator(f'[data-testid=run-row][data-run="{runs[1].name}"]')
    expect(healthy.get_by_test_id("run-status")).to_have_text("ok")

    damaged.get_by_test_id("run-show").click()
    expect(page.locator(".q-notification").filter(has_text="index.sqlite")).to_be_visible()
    healthy.get_by_test_id("run-show").click()
    label = page.locator('[data-testid=edge][data-edge="predict.data->score.data"] '
                         '[data-testid=edge-label]')
    expect(label).to_have_attribute("data-full", re.compile("38 rows"))
