"""The editor refuses foreign host names and foreign pages, and keeps its token out of sight."""

from __future__ import annotations

import base64
import http.client
import http.server
import os
import socket
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

SOCKET_POLL = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
SOCKET_WS = "/_nicegui_ws/socket.io/?EIO=4&transport=websocket"
FRAMING = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'"}


def call(port: int, path: str, headers: dict[str, str], method: str = "GET",
         ) -> tuple[int, dict[str, str], str]:
    """One request to 127.0.0.1 with the given headers (``Host`` included): status, headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(method, path, body=b"" if method == "POST" else None, headers=headers)
    response = conn.getresponse()
    answer = {k.lower(): v for k, v in response.getheaders()}
    body = response.read().decode(errors="replace")
    conn.close()
    return response.status, answer, body


def upgrade(port: int, headers: dict[str, str]) -> str:
    """Ask for the editor's websocket with these extra headers; the answer's status line."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {SOCKET_WS} HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = sock.recv(4096).decode(errors="replace")
    return answer.split("\r\n", 1)[0]


def test_a_foreign_host_name_is_refused_and_loopback_names_answer(
        server_factory: Any, example_workspace: Path) -> None:
    server = server_factory(example_workspace)
    port = server.port

    for host in [f"evil.test:{port}", "evil.test", f"localhost.evil.test:{port}"]:
        status, headers, body = call(port, "/flow/iris.json", {"Host": host})
        assert status == 403, host
        assert "evil.test" in body and "--allow-host" in body
        assert "iris" not in body
        for name, value in FRAMING.items():
            assert headers[name] == value

    for host in [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LocalHost"]:
        status, headers, body = call(port, "/flow/iris.json", {"Host": host})
        assert status == 200, host
        assert "iris-classifier" in body
        for name, value in FRAMING.items():
            assert headers[name] == value


def test_allow_host_adds_a_name(server_factory: Any, example_workspace: Path) -> None:
    server = server_factory(example_workspace, "--allow-host", "editor.example",
                            "--allow-host", ".lab.example")
    port = server.port

    for host in ["editor.example", f"EDITOR.example:{port}", "lab.example", "a.lab.example"]:
        assert call(port, "/", {"Host": host})[0] in (200, 307), host
    for host in ["other.example", "xlab.example", "editor.example.evil.test"]:
        assert call(port, "/", {"Host": host})[0] == 403, host


def test_a_foreign_origin_cannot_open_the_socket_or_change_anything(
        server_factory: Any, example_workspace: Path) -> None:
    server = server_factory(example_workspace)
    port = server.port
    own = f"http://127.0.0.1:{port}"
    host = {"Host": f"127.0.0.1:{port}"}

    for origin in ["http://evil.test", f"http://evil.test:{port}", "http://127.0.0.1:1",
                   "null", f"file://127.0.0.1:{port}"]:
        status, headers, body = call(port, SOCKET_POLL, {**host, "Origin": origin})
        assert status == 403, origin
        assert "another site" in body
        assert "access-control-allow-origin" not in headers
        assert not upgrade(port, {**host, "Origin": origin}).startswith("HTTP/1.1 101"), origin
        assert call(port, SOCKET_POLL, {**host, "Origin": origin}, method="POST")[0] == 403

    status, _, body = call(port, SOCKET_POLL, {**host, "Origin": own})
    assert status == 200
    assert '"sid"' in body
    assert upgrade(port, {**host, "Origin": own}).startswith("HTTP/1.1 101")
    assert upgrade(port, {"Host": f"localhost:{port}",
                          "Origin": f"http://localhost:{port}"}).startswith("HTTP/1.1 101")


def test_a_page_under_a_rebound_name_gets_no_editor(
        server_factory: Any, example_workspace: Path, browser_context_factory: Any) -> None:
    """DNS rebinding, as Chromium sees it: evil.test resolves to this machine."""
    server = server_factory(example_workspace)
    ctx = browser_context_factory("--host-resolver-rules=MAP evil.test 127.0.0.1")
    page = ctx.new_page()

    response = page.goto(f"http://evil.test:{server.port}/flow/iris.json")

    assert response is not None and response.status == 403
    expect(page.locator("body")).to_contain_text("does not answer to the host name 'evil.test'")
    expect(page.get_by_test_id("canvas")).to_have_count(0)
    # the page's own socket, same-origin for the browser, is refused too
    opened = page.evaluate("""(port) => new Promise((done) => {
        const ws = new WebSocket(`ws://evil.test:${port}/_nicegui_ws/socket.io/?EIO=4&transport=websocket`);
        ws.onopen = () => done("open"); ws.onerror = () => done("refused");
    })""", server.port)
    assert opened == "refused"

    good = page.goto(f"http://localhost:{server.port}/flow/iris.json")
    assert good is not None and good.status == 200
    for name, value in FRAMING.items():
        assert good.headers[name] == value
    expect(page.get_by_test_id("canvas")).to_be_visible()
    ctx.close()


class AttackerSite:
    """Another web app on this machine (as a dev server would be), serving one page."""

    def __init__(self, html: str) -> None:
        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_page_on_another_site_cannot_reach_the_editor(
        server_factory: Any, example_workspace: Path, browser_context_factory: Any) -> None:
    server = server_factory(example_workspace)
    site = AttackerSite(f'<iframe data-testid="framed" src="{server.url}/flow/iris.json">'
                        "</iframe>")
    ctx = browser_context_factory()
    page = ctx.new_page()
    try:
        with page.expect_event("framenavigated", lambda f: f.parent_frame is not None):
            page.goto(site.url)
        opened = page.evaluate("""(port) => new Promise((done) => {
            const ws = new WebSocket(
                `ws://127.0.0.1:${port}/_nicegui_ws/socket.io/?EIO=4&transport=websocket`);
            ws.onopen = () => done("open"); ws.onerror = () => done("refused");
        })""", server.port)
        assert opened == "refused"
        # the editor's page would load in the frame if it allowed framing
        framed = page.frames[1]
        framed.wait_for_load_state()
        assert framed.url.startswith("chrome-error:")
        expect(page.frame_locator("[data-testid=framed]").get_by_test_id("canvas")
               ).to_have_count(0)
    finally:
        ctx.close()
        site.close()


def test_the_token_can_come_from_the_environment_or_a_file(
        server_factory: Any, example_workspace: Path, tmp_path: Path) -> None:
    secret = "from-the-environment-42"
    by_env = server_factory(example_workspace, env={"EDGEWISE_TOKEN": secret})
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file-17\n")
    by_file = server_factory(example_workspace, "--token-file", str(token_file),
                             env={"EDGEWISE_TOKEN": secret})

    for server, token in [(by_env, secret), (by_file, "from-a-file-17")]:
        command_line = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        assert token.encode() not in command_line
        host = {"Host": f"127.0.0.1:{server.port}"}
        assert call(server.port, "/flow/iris.json", host)[0] == 401
        status, _, body = call(server.port, "/flow/iris.json",
                               {**host, "Cookie": f"edgewise_token={token}"})
        assert status == 200 and "iris-classifier" in body
        assert f"?token={token}" in server.output()
    # the file wins over the environment
    assert call(by_file.port, "/", {"Host": "127.0.0.1",
                                    "Cookie": f"edgewise_token={secret}"})[0] == 401
