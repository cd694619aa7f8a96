"""``edgewise edit``: where it listens, the access token, and what it refuses to start on."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.netkit import free_port

TOKEN = "s3cret"
REPO = Path(__file__).resolve().parents[2]


def edgewise(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def request(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    """One GET, without following redirects: status, headers (lower-case), body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=20)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    headers = {k.lower(): v for k, v in response.getheaders()}
    body = response.read().decode(errors="replace")
    conn.close()
    return response.status, headers, body


def websocket_upgrade(port: int, path: str, cookie: str | None = None) -> str:
    """Ask for a websocket on ``path``; return the status line of the answer."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = sock.recv(4096).decode(errors="replace")
    return answer.split("\r\n", 1)[0]


# -- refusing to start -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_binding_beyond_this_machine_needs_a_token(tmp_path: Path, host: str) -> None:
    folder = tmp_path / "not-created"
    port = free_port()

    result = edgewise("edit", str(folder), "--host", host, "--port", str(port))

    assert result.returncode == 2
    assert f"binding to {host}" in result.stderr
    assert "--token" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # no "editor on ..." address was announced
    assert not folder.exists()


def test_edit_on_a_file_says_it_is_not_a_folder(tmp_path: Path) -> None:
    flow = tmp_path / "iris.json"
    flow.write_text("{}")

    result = edgewise("edit", str(flow), "--port", str(free_port()))

    assert result.returncode == 2
    assert f"{flow} is not a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert flow.read_text() == "{}"


def test_help_lists_the_edit_command() -> None:
    result = edgewise("--help")

    assert result.returncode == 0
    assert "edit" in result.stdout
    assert "browser editor" in result.stdout

    sub = edgewise("edit", "--help")
    assert sub.returncode == 0
    for option in ("WORKSPACE", "--host", "--port", "--token", "--open"):
        assert option in sub.stdout


# -- the token ---------------------------------------------------------------------------


def test_with_a_token_pages_and_the_websocket_need_it(server_factory: Any,
                                                     example_workspace: Path) -> None:
    server = server_factory(example_workspace, "--token", TOKEN)
    page = server.url + "/flow/iris.json"

    for url in [page, server.url + "/", page + "?token=wrong", server.url + "/_nicegui/auth"]:
        status, headers, body = request(url)
        assert status == 401, url
        assert "token" in body
        assert "set-cookie" not in headers
        assert "iris" not in body
    status, _, _ = request(page, cookie="edgewise_token=wrong")
    assert status == 401

    status, headers, _ = request(page + f"?token={TOKEN}")
    assert status in (302, 303, 307)
    assert headers["location"].endswith("/flow/iris.json")  # the token leaves the address
    assert f"edgewise_token={TOKEN}" in headers["set-cookie"]
    assert "httponly" in headers["set-cookie"].lower()

    status, _, body = request(page, cookie=f"edgewise_token={TOKEN}")
    assert status == 200
    assert "iris-classifier" in body

    socket_path = "/_nicegui_ws/socket.io/?EIO=4&transport=websocket"
    with_cookie = websocket_upgrade(server.port, socket_path, cookie=f"edgewise_token={TOKEN}")
    assert with_cookie.startswith("HTTP/1.1 101")
    without = websocket_upgrade(server.port, socket_path)
    assert not without.startswith("HTTP/1.1 101"), (
        f"a websocket without the token was accepted: {without}")


def test_a_browser_with_the_token_opens_the_open_flow_and_runs_it(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    flows = sorted(p.name for p in example_workspace.glob("*.json"))
    assert flows[0] != "iris.json"  # so "/" reaching iris.json is the doing of --open
    server = server_factory(example_workspace, "--token", TOKEN, "--open", "iris.json")
    assert f"{server.url}/flow/iris.json?token={TOKEN}" in server.output()

    response = page.goto(server.url + "/flow/iris.json")
    assert response.status == 401
    expect(page.locator("body")).to_contain_text("token")
    expect(page.get_by_test_id("canvas")).to_have_count(0)

    page.goto(server.url + f"/?token={TOKEN}")
    page.wait_for_url(server.url + "/flow/iris.json")
    expect(page.get_by_test_id("canvas")).to_be_visible()
    expect(page.get_by_test_id("node")).to_have_count(6)
    page.get_by_test_id("run").click()
    states = page.get_by_test_id("node-status")
    for i in range(6):
        expect(states.nth(i)).to_have_attribute("data-state", "done", timeout=60_000)
    label = page.locator('[data-testid=edge][data-edge="score.metrics->metrics.data"] '
                         '[data-testid=edge-label]')
    expect(label).to_have_attribute("data-count", "1")
    assert page.js_errors == []
