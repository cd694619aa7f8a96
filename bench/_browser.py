"""The editor under test: ``edgewise edit`` in a child process, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1500, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> dict[int, bytes]:
    """The processes below ``pid`` and their command lines (Linux /proc; else empty)."""
    found: dict[int, bytes] = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            try:
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            found.update(_descendants(child))
    return found


@contextmanager
def editor_server(workspace: Path, plugins: Path) -> Iterator[str]:
    """Run ``edgewise edit`` on ``workspace`` in a child process; yield its address.

    Args:
        workspace: The folder of flows to serve.
        plugins: A folder put on the child's ``PYTHONPATH`` (it declares the bench plugin).

    Yields:
        The base URL, ``http://127.0.0.1:<port>``.

    Raises:
        RuntimeError: The editor did not start within a minute.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(plugins), str(REPO),
                                                    env.get("PYTHONPATH", "")) if p)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "runtime.cli", "edit", str(workspace),
                                "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/_nicegui/auth", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    msg = "the editor did not start:\n" + log.read().decode(errors="replace")
                    raise RuntimeError(msg) from None
                time.sleep(0.2)
            else:
                break
        yield url
    finally:
        children = _descendants(process.pid)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid, command in children.items():  # workers the editor left behind, if any
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == command:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        log.close()


@contextmanager
def browser() -> Iterator[BrowserContext]:
    """Headless Debian Chromium in a fresh profile, closed on exit."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="ew-bench-chromium-")
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport=VIEWPORT)  # type: ignore[arg-type]
            ctx.set_default_timeout(30_000)
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
