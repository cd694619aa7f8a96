"""Deploy in a real headless Chromium: the flow is served from the editor's worker, its URL is in
the header, the test form answers, the live labels count requests, Redeploy swaps versions
without losing or doubling a request, Stop drains, and mistakes are told in the page."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.editor.conftest import EditorServer
from tests.editor.pagekit import param_input, select_node
from tests.editor.waiting import eventually
from tests.netkit import free_port

EDGE = '[data-testid=edge][data-edge="{}"] [data-testid=edge-label]'
SERVE_TIMEOUT = 60_000  # ms: the worker imports pandas and scikit-learn before it serves


def double_flow(**endpoint: Any) -> dict[str, Any]:
    """http.in (with ``endpoint`` params) -> frame.assign (y = x * 2) -> http.out."""
    return {"edgewise": 1, "name": "double", "nodes": [
        {"id": "requests", "component": "http.in",
         "params": {"path": "/double", "schema": {"x": "float"}, "timeout_ms": 10_000,
                    **endpoint},
         "position": {"x": 40, "y": 60}},
        {"id": "calc", "component": "frame.assign",
         "params": {"columns": {"y": "x * 2"}}, "position": {"x": 300, "y": 60}},
        {"id": "answer", "component": "http.out", "params": {"columns": ["y"]},
         "position": {"x": 560, "y": 60}}],
        "edges": [{"source": "requests.data", "target": "calc.data"},
                  {"source": "calc.data", "target": "answer.data"}]}


def deploy(page: Any, port: str = "") -> str:
    """Press Deploy, choose the port, and wait until the header names the endpoint's URL."""
    page.get_by_test_id("deploy").click()
    if port:
        field(page, "deploy-port").fill(port)
    page.get_by_test_id("deploy-start").click()
    endpoints = page.get_by_test_id("deploy-endpoints")
    expect(endpoints).to_be_visible(timeout=SERVE_TIMEOUT)
    url = endpoints.get_attribute("data-url")
    assert url and url.startswith("http://127.0.0.1:")
    return url


def field(page: Any, testid: str) -> Any:
    """The text field (input or textarea) a form part with this test id holds."""
    return page.locator(f'input[data-testid="{testid}"], textarea[data-testid="{testid}"], '
                        f'[data-testid="{testid}"] input, [data-testid="{testid}"] textarea').first


def set_status(page: Any, status: str) -> None:
    """Edit the http.out's status code on the canvas's flow."""
    select_node(page, "answer")
    field = param_input(page, "status")
    field.fill(status)
    field.press("Tab")


def edge_count(page: Any, edge: str) -> int:
    text = page.locator(EDGE.format(edge)).get_attribute("data-count") or "0"
    return int(re.sub(r"\D", "", text) or 0)


def debug_flow() -> dict[str, Any]:
    """The doubling flow with a debug node on what it computes."""
    flow = double_flow()
    flow["nodes"].append({"id": "show", "component": "debug", "position": {"x": 560, "y": 200}})
    flow["edges"].append({"source": "calc.data", "target": "show.data"})
    return flow


def plain_flow() -> dict[str, Any]:
    """A flow with no http.in node."""
    return {"edgewise": 1, "name": "plain", "edges": [], "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "iris"}}]}


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorServer]:
    """One editor for the tests that neither change a file nor end the editor or its options.

    Each test opens its own page, so its own worker serves; the flow files differ by name.
    An editor costs seconds to start, so they share it.
    """
    root = tmp_path_factory.mktemp("deploy")
    workspace, config = root / "ws", root / "config"  # its own trust store
    workspace.mkdir()
    config.mkdir()
    flows = {"double.json": double_flow(), "plain.json": plain_flow(),
             "debug.json": debug_flow(),
             # a request waits in a long micro-batch window until the drain
             "drain.json": double_flow(batch_window_ms=10_000, timeout_ms=30_000)}
    for name, flow in flows.items():
        (workspace / name).write_text(json.dumps(flow))
    server = EditorServer(workspace, env={"EDGEWISE_CONFIG_DIR": str(config)})
    yield server
    server.stop()


def open_flow(server: EditorServer, page: Any, name: str = "double.json",
              nodes: int = 3) -> None:
    """Open one of the shared editor's flows and wait until its nodes are drawn."""
    page.goto(f"{server.url}/flow/{name}")
    expect(page.get_by_test_id("node")).to_have_count(nodes)


def test_deploy_shows_the_url_answers_the_form_and_counts_requests(
        shared_server: EditorServer, page: Any) -> None:
    open_flow(shared_server, page)
    url = deploy(page)
    endpoints = page.get_by_test_id("deploy-endpoints")
    expect(endpoints).to_contain_text(f"POST :{url.rsplit(':', 1)[1]}/double")
    expect(page.get_by_test_id("run")).to_be_hidden()
    expect(page.get_by_test_id("redeploy")).to_be_visible()
    expect(page.get_by_test_id("stop")).to_be_enabled()

    endpoints.click()
    expect(page.get_by_test_id("endpoint-url")).to_have_attribute("data-url", f"{url}/double")
    body = field(page, "deploy-body")
    expect(body).to_have_value('{"x": 1.0}')  # an example row from the endpoint's schema
    body.fill('[{"x": 3}, {"x": 4.5}]')
    page.get_by_test_id("deploy-send").click()
    expect(page.get_by_test_id("deploy-status")).to_have_text("200")
    answer = page.get_by_test_id("deploy-answer")
    expect(answer).to_contain_text('"y": 6.0')
    expect(answer).to_contain_text('"y": 9.0')
    body.fill("{not json")
    page.get_by_test_id("deploy-send").click()
    expect(page.get_by_test_id("deploy-status")).to_have_text("not sent")
    expect(answer).to_contain_text("the body is not JSON")
    page.keyboard.press("Escape")

    # requests from outside move the live labels
    for i in range(5):
        reply = httpx.post(f"{url}/double", json={"x": i}, timeout=20)
        assert reply.status_code == 200
        assert reply.json() == [{"y": 2.0 * i}]
    eventually(page, lambda: _at_least(edge_count(page, "calc.data->answer.data"), 6))
    assert httpx.get(f"{url}/health", timeout=10).json()["status"] == "serving"

    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("run")).to_be_visible(timeout=SERVE_TIMEOUT)
    expect(page.get_by_test_id("deploy")).to_be_visible()
    expect(endpoints).to_be_hidden()
    with_error = eventually(page, lambda: _refused(f"{url}/double"))
    assert with_error


def _at_least(value: int, least: int) -> int:
    assert value >= least, value
    return value


def _refused(url: str) -> bool:
    try:
        httpx.post(url, json={"x": 1}, timeout=2)
    except httpx.TransportError:
        return True
    msg = f"{url} still answers after Stop"
    raise AssertionError(msg)


def test_redeploy_under_load_answers_every_request_once(
        shared_server: EditorServer, page: Any) -> None:
    open_flow(shared_server, page)
    url = deploy(page)

    answers: list[tuple[int, float, Any]] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        with httpx.Client(timeout=30) as http:
            n = 0
            while not stop.is_set() and n < 400:
                x = offset * 1000 + n
                reply = http.post(f"{url}/double", json={"x": x})
                answers.append((reply.status_code, x, reply.json()))
                n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        eventually(page, lambda: _at_least(len(answers), 10), timeout=30)
        # the new version answers 201; Redeploy serves the flow as it is on the canvas
        set_status(page, "201")
        page.get_by_test_id("redeploy").click()
        expect(page.locator(".q-notification", has_text="redeployed")).to_be_visible(
            timeout=SERVE_TIMEOUT)
        eventually(page, lambda: _at_least(
            sum(1 for code, _x, _body in answers if code == 201), 5), timeout=30)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert answers
    for code, x, body in answers:  # each request got its own answer, from one version
        assert code in (200, 201), (code, body)
        assert body == [{"y": 2.0 * x}], (x, body)
    assert any(code == 200 for code, _x, _body in answers)
    assert len({(x, code) for code, x, _body in answers}) == len(answers)
    counted = httpx.get(f"{url}/health", timeout=10).json()["requests"]["POST /double"]
    assert counted == {"200": sum(c == 200 for c, _x, _b in answers),
                       "201": sum(c == 201 for c, _x, _b in answers)}  # answered once each
    expect(page.locator(".q-notification", has_text="redeployed")).not_to_contain_text("503")
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=SERVE_TIMEOUT)


def test_an_invalid_new_version_is_refused_and_the_old_one_keeps_serving(
        shared_server: EditorServer, page: Any) -> None:
    open_flow(shared_server, page)
    url = deploy(page)
    set_status(page, "9999")
    expect(page.get_by_test_id("problems")).to_contain_text("status")
    page.get_by_test_id("redeploy").click()
    toast = page.locator(".q-notification", has_text="redeploy refused")
    expect(toast).to_contain_text("the served version keeps serving")
    expect(toast).to_contain_text("status")
    assert httpx.post(f"{url}/double", json={"x": 5}, timeout=20).json() == [{"y": 10.0}]
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=SERVE_TIMEOUT)


def test_mistakes_are_told_in_the_page(shared_server: EditorServer, page: Any) -> None:
    open_flow(shared_server, page, "plain.json", nodes=1)
    page.get_by_test_id("deploy").click()
    expect(page.locator(".q-notification", has_text="no http.in node")).to_be_visible()
    expect(page.get_by_test_id("deploy-dialog")).to_have_count(0)

    with socket.socket() as taken:  # a port in use is refused with what to do
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        open_flow(shared_server, page)
        page.get_by_test_id("deploy").click()
        field(page, "deploy-port").fill(port)
        page.get_by_test_id("deploy-start").click()
        toast = page.locator(".q-notification", has_text=f"cannot listen on 127.0.0.1:{port}")
        expect(toast).to_contain_text("choose another port", timeout=SERVE_TIMEOUT)
    expect(page.get_by_test_id("deploy")).to_be_enabled()
    expect(page.get_by_test_id("run")).to_be_visible()
    expect(page.locator("text=Traceback")).to_have_count(0)


def test_the_endpoints_need_the_editors_token(server_factory: Any, workspace: Path,
                                               page: Any) -> None:
    (workspace / "double.json").write_text(json.dumps(double_flow()))
    port = free_port()
    server = server_factory(workspace, "--token", "s3cret")
    page.goto(server.url + "/flow/double.json?token=s3cret")
    expect(page.get_by_test_id("node")).to_have_count(3)
    url = deploy(page, str(port))
    assert url == f"http://127.0.0.1:{port}"
    assert httpx.post(f"{url}/double", json={"x": 1}, timeout=20).status_code == 401
    good = httpx.post(f"{url}/double", json={"x": 1}, timeout=20,
                      headers={"Authorization": "Bearer s3cret"})
    assert good.json() == [{"y": 2.0}]
    page.get_by_test_id("deploy-endpoints").click()
    expect(page.get_by_test_id("deploy-token-note")).to_be_visible()
    page.get_by_test_id("deploy-send").click()  # the form sends the token itself
    expect(page.get_by_test_id("deploy-status")).to_have_text("200")
    page.keyboard.press("Escape")
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=SERVE_TIMEOUT)


def test_stop_drains_a_request_in_flight(shared_server: EditorServer, page: Any) -> None:
    """A request waiting in a long micro-batch window when Stop is pressed is still answered."""
    open_flow(shared_server, page, "drain.json")  # held in its window until the drain
    url = deploy(page)
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(
        httpx.post(f"{url}/double", json={"x": 21}, timeout=30)))
    sender.start()
    eventually(page, lambda: _at_least(
        httpx.get(f"{url}/health", timeout=10).json()["in_flight"], 1), timeout=20)
    page.get_by_test_id("stop").click()
    sender.join(30)
    assert [(a.status_code, a.json()) for a in answers] == [(200, [{"y": 42.0}])]
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=SERVE_TIMEOUT)
    eventually(page, lambda: _refused(f"{url}/double"), timeout=20)


def test_no_served_port_outlives_its_tab_or_its_editor(server_factory: Any, workspace: Path,
                                                       browser_context_factory: Any) -> None:
    (workspace / "double.json").write_text(json.dumps(double_flow()))
    server = server_factory(workspace)
    urls = []
    for _ in range(2):
        context = browser_context_factory()
        tab = context.new_page()
        tab.goto(server.url + "/flow/double.json")
        expect(tab.get_by_test_id("node")).to_have_count(3)
        urls.append(deploy(tab))
        assert httpx.post(f"{urls[-1]}/double", json={"x": 1}, timeout=20).status_code == 200
        if len(urls) == 1:  # the first tab closes: its deployed flow ends with it
            tab.close()
            context.close()
            _wait_refused(f"{urls[0]}/double")
    server.process.kill()  # the editor dies: the second tab's worker ends with it
    server.process.wait(30)
    _wait_refused(f"{urls[1]}/double")


def test_a_serving_worker_that_dies_is_told_and_frees_its_port(
        shared_server: EditorServer, page: Any) -> None:
    server = shared_server
    open_flow(server, page)
    url = deploy(page)
    pid = listener_pid(int(url.rsplit(":", 1)[1]))
    assert pid is not None
    assert pid != server.process.pid  # the worker serves, not the editor
    os.kill(pid, signal.SIGKILL)
    toast = page.locator(".q-notification", has_text="the run crashed")
    expect(toast).to_contain_text("the worker process ended unexpectedly")
    expect(page.get_by_test_id("deploy")).to_be_visible()
    expect(page.get_by_test_id("deploy-endpoints")).to_be_hidden()
    expect(page.get_by_test_id("run")).to_be_enabled()
    _wait_refused(f"{url}/double")


def listener_pid(port: int) -> int | None:
    """The process that listens on 127.0.0.1:``port`` (read from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state = fields[1], fields[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


def _wait_refused(url: str, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            _refused(url)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_example_serve_model_flow_answers_the_form(server_factory: Any,
                                                       example_workspace: Path,
                                                       page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/serve-model.json")
    expect(page.get_by_test_id("node")).to_have_count(5)
    url = deploy(page)
    page.get_by_test_id("deploy-endpoints").click()
    expect(page.get_by_test_id("endpoint-url")).to_have_text(f"POST {url}/predict")
    field(page, "deploy-body").fill('{"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, '
                                    '"petal length (cm)": 1.4, "petal width (cm)": 0.2}')
    page.get_by_test_id("deploy-send").click()
    expect(page.get_by_test_id("deploy-status")).to_have_text("200")
    expect(page.get_by_test_id("deploy-answer")).to_contain_text('"prediction": 0')
    field(page, "deploy-body").fill('{"sepal length (cm)": "long"}')
    page.get_by_test_id("deploy-send").click()
    expect(page.get_by_test_id("deploy-status")).to_have_text("422")
    expect(page.get_by_test_id("deploy-answer")).to_contain_text("is missing in the body")
    page.keyboard.press("Escape")
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=SERVE_TIMEOUT)


def test_a_served_flows_debug_node_and_inspector_show_what_requests_bring(
        shared_server: EditorServer, page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_flow(shared_server, page, "debug.json", nodes=4)
    url = deploy(page)
    assert httpx.post(f"{url}/double", json=[{"x": 1}, {"x": 2}], timeout=20).status_code == 200
    page.get_by_test_id("tab-debug").click()
    entry = page.locator('[data-testid=debug-entry][data-node-id="show"]')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("2×2 DataFrame")
    page.locator(EDGE.format("calc.data->answer.data")).click()  # inspected while it serves
    inspector = page.get_by_test_id("inspector")
    expect(inspector.get_by_test_id("inspector-shape")).to_contain_text("2 rows")
    expect(inspector.get_by_test_id("inspector-table")).to_contain_text("y")
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("deploy")).to_be_visible(timeout=SERVE_TIMEOUT)
