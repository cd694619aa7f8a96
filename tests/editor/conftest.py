"""Fixtures for the editor's browser tests: a real server process and headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.netkit import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
REPO = Path(__file__).resolve().parents[2]
# What a page shows can wait on the editor server's first import of scikit-learn (validating
# an ml node), seconds on a busy 2-core machine: assertions wait up to 15 s, not 5 s.
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True, scope="session")
def _patient_expect() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


class EditorServer:
    """``edgewise edit`` on a workspace, as a child process bound to 127.0.0.1."""

    def __init__(self, workspace: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} | (env or {})
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "edit", str(workspace), "--port",
             str(self.port), *extra], env=env, stdout=self.log, stderr=subprocess.STDOUT,
            cwd=REPO)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/_nicegui/auth", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the editor did not start:\n" + self.output()) from None
                time.sleep(0.05)
            else:
                break

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


@pytest.fixture
def example_workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(REPO / "flows", folder, ignore=shutil.ignore_patterns("out"))
    return folder


@pytest.fixture
def server_factory() -> Iterator[Any]:
    servers: list[EditorServer] = []

    def start(workspace: Path, *extra: str, env: dict[str, str] | None = None) -> EditorServer:
        server = EditorServer(workspace, *extra, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def examples_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorServer]:
    """One editor on a copy of the example flows, shared by a module's tests.

    Only for tests that change no file and do not count kept runs: each fresh server costs
    seconds (its start, and its first import of scikit-learn). Others use server_factory.
    """
    root = tmp_path_factory.mktemp("examples")
    folder = root / "flows"
    shutil.copytree(REPO / "flows", folder, ignore=shutil.ignore_patterns("out", ".edgewise"))
    config = root / "config"  # its own trust store, as each test's server has
    config.mkdir()
    server = EditorServer(folder, env={"EDGEWISE_CONFIG_DIR": str(config)})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorServer]:
    """One editor on an empty workspace, shared by a module's tests.

    Each test writes the flow files it opens under names of its own (a flow file is read
    when its page opens), so no test sees another's edits or kept runs (the runs panel lists
    a flow's own runs). For tests that need no option of the editor and do not end it: each
    fresh editor costs seconds (its start, and its first import of scikit-learn).
    """
    root = tmp_path_factory.mktemp("shared")
    folder, config = root / "ws", root / "config"  # its own trust store
    folder.mkdir()
    config.mkdir()
    server = EditorServer(folder, env={"EDGEWISE_CONFIG_DIR": str(config)})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_context_factory() -> Iterator[Any]:
    """Fresh browser contexts (nothing shared: no cookies, storage or cache between them).

    Chromium starts once per module and set of extra arguments; each context is new.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for the editor tests; not found at {CHROMIUM}")
    with sync_playwright() as p:
        browsers: dict[tuple[str, ...], Any] = {}
        contexts: list[Any] = []

        def make(*extra_args: str) -> Any:
            if extra_args not in browsers:
                browsers[extra_args] = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args])
            ctx = browsers[extra_args].new_context(viewport={"width": 1500, "height": 900})
            ctx.set_default_timeout(20_000)
            contexts.append(ctx)
            return ctx

        yield make
        for ctx in contexts:
            ctx.close()
        for browser in browsers.values():
            browser.close()


@pytest.fixture
def page(browser_context_factory: Any) -> Iterator[Any]:
    ctx = browser_context_factory()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors
    yield page
    page.close()
    ctx.close()
