"""``edgewise serve --watch``: a saved version that validates is deployed without a restart."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.flowkit import flow_doc, node
from tests.serve.test_serve_command import Serving, edgewise

WAIT = 60.0
V1: tuple[list[dict[str, Any]], list[str]] = (
    [node("in", "http.in", path="/echo"), node("out", "http.out")], ["in.data->out.data"])
V2: tuple[list[dict[str, Any]], list[str]] = (
    [node("in", "http.in", path="/echo"), node("plus", "frame.assign", columns={"y": "x + 1000"}),
     node("out", "http.out")], ["in.data->plus.data", "plus.data->out.data"])


def text(version: tuple[list[dict[str, Any]], list[str]]) -> str:
    return json.dumps(flow_doc(*version, name="flow"), indent=2)


def serve(tmp_path: Path, servers: list[Serving]) -> tuple[Serving, Path]:
    flow = tmp_path / "flow.json"
    flow.write_text(text(V1))
    server = Serving(str(flow), "--watch")
    servers.append(server)
    server.wait_ready()
    return server, flow


def health(server: Serving) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{server.url}/health", timeout=WAIT).json()
    return answer


def wait_for(server: Serving, what: str, ready: Any) -> dict[str, Any]:
    """Poll /health until ``ready(health)``; fail after the deadline, naming ``what``."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.process.communicate()
        state = health(server)
        if ready(state):
            return state
        time.sleep(0.05)
    pytest.fail(f"the server never showed {what}")


def echo(server: Serving, x: int, path: str = "/echo") -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json={"x": x}, timeout=WAIT)


class Client(threading.Thread):
    """Sends requests one after another until told to stop (at most ``limit``)."""

    def __init__(self, server: Serving, base: int = 0, limit: int = 2000) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.base = base
        self.limit = limit
        self.answers: list[tuple[int, httpx.Response]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        for x in range(self.base, self.base + self.limit):
            if self.halt.is_set():
                return
            self.answers.append((x, echo(self.server, x)))

    def finish(self) -> list[tuple[int, httpx.Response]]:
        self.halt.set()
        self.join(WAIT)
        assert not self.is_alive()
        return self.answers


def versions(answers: list[tuple[int, httpx.Response]]) -> list[int]:
    """Which version answered each request (1: the echo, 2: with y), checking each answer."""
    seen = []
    for x, answer in answers:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body in ([{"x": x}], [{"x": x, "y": x + 1000}]), (x, body)
        seen.append(1 if body == [{"x": x}] else 2)
    return seen


def test_a_hot_redeploy_under_load_answers_every_request_once_switching_at_one_point(
        tmp_path: Path, servers: list[Serving]) -> None:
    server, flow = serve(tmp_path, servers)
    clients = [Client(server, base=k * 10_000) for k in range(4)]
    for client in clients:
        client.start()

    def each_answered(count: int) -> list[int]:  # how many each client has had answered
        deadline = time.monotonic() + WAIT
        while any(len(c.answers) < count for c in clients):
            assert time.monotonic() < deadline and all(c.is_alive() for c in clients)
            time.sleep(0.01)
        return [len(c.answers) for c in clients]

    each_answered(20)  # traffic is flowing before the save
    flow.write_text(text(V2))
    state = wait_for(server, "version 2", lambda h: h["version"] == 2)
    assert state["deploys"] == 2 and state["refused_deploys"] == 0
    each_answered(max(len(c.answers) for c in clients) + 20)  # and after it
    ids: list[str] = []
    for client in clients:
        answers = client.finish()
        seen = versions(answers)
        switch = seen.index(2)
        assert seen == [1] * switch + [2] * (len(seen) - switch)  # one switch, never back
        assert switch >= 20
        ids += [a.headers["X-Request-Id"] for _x, a in answers]
    assert len(set(ids)) == len(ids)  # each request its own answer
    metrics = httpx.get(f"{server.url}/metrics", timeout=WAIT).text
    assert "edgewise_deploys_total 2" in metrics
    assert "edgewise_flow_version 2" in metrics
    assert server.stop() == 0, server.err
    assert "version 2 serves new requests" in server.out
    assert "nodes 2 -> 3; edges 1 -> 2; +plus" in server.out
    assert "version 1 drained and stopped: ok" in server.out
    assert "Traceback" not in server.err


def test_with_record_each_version_is_its_own_kept_run(tmp_path: Path,
                                                      servers: list[Serving]) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(text(V1))
    server = Serving(str(flow), "--watch", "--record")
    servers.append(server)
    server.wait_ready()
    first = echo(server, 1)
    flow.write_text(text(V2))
    wait_for(server, "version 2", lambda h: h["version"] == 2)
    second = echo(server, 2)
    assert second.json() == [{"x": 2, "y": 1002}]
    assert server.stop() == 0, server.err
    manifests = [json.loads(m.read_text())
                 for m in sorted((tmp_path / ".edgewise" / "runs").glob("*/manifest.json"))]
    assert [m["flow_version"] for m in manifests] == [1, 2]
    assert [m["status"] for m in manifests] == ["ok", "ok"]
    assert "recorded version 1 as run" in server.out and "recorded version 2" in server.out
    trace = edgewise("trace", "latest", "plus.data", "--row",
                     f"{second.headers['X-Request-Id']}/0", "-w", str(tmp_path))
    assert trace.returncode == 0, trace.stderr
    before = edgewise("trace", "latest~1", "in.data", "--row",
                      f"{first.headers['X-Request-Id']}/0", "-w", str(tmp_path))
    assert before.returncode == 0, before.stderr


def test_an_invalid_save_is_refused_and_logged_and_a_later_valid_save_deploys(
        tmp_path: Path, servers: list[Serving]) -> None:
    server, flow = serve(tmp_path, servers)
    flow.write_text(text(V1))  # the same content again: not a new version
    bad = flow_doc([node("in", "http.in", path="/echo"), node("out", "http.out", status=99)],
                   ["in.data->out.data"], name="flow")
    flow.write_text(json.dumps(bad))
    wait_for(server, "the refusal", lambda h: h["refused_deploys"] == 1)
    assert health(server)["version"] == 1
    assert echo(server, 7).json() == [{"x": 7}]  # the old version keeps serving
    flow.write_text(text(V2))
    wait_for(server, "version 2", lambda h: h["version"] == 2)
    assert echo(server, 7).json() == [{"x": 7, "y": 1007}]
    assert health(server)["refused_deploys"] == 1
    assert server.stop() == 0, server.err
    assert "the new version has 1 problem(s) and was not deployed; version 1 keeps serving" \
        in server.err
    problem = next(line for line in server.err.splitlines() if "'out'" in line)
    assert "status" in problem and "Traceback" not in server.err
    assert server.out.count("serves new requests") == 1


def test_a_half_written_file_is_not_deployed(tmp_path: Path, servers: list[Serving]) -> None:
    server, flow = serve(tmp_path, servers)
    whole = text(V2)
    with flow.open("w") as out:  # an editor that truncates, then writes in two steps
        out.write(whole[: len(whole) // 2])
        out.flush()
        for x in range(6):  # the half file sits there for a while; v1 keeps answering
            assert echo(server, x).json() == [{"x": x}]
            time.sleep(0.2)
        assert health(server)["version"] == 1
        out.write(whole[len(whole) // 2:])
    wait_for(server, "version 2", lambda h: h["version"] == 2)
    assert echo(server, 3).json() == [{"x": 3, "y": 1003}]
    assert server.stop() == 0, server.err
    assert server.out.count("serves new requests") == 1


def test_an_endpoint_that_moves_answers_404_at_its_old_path(
        tmp_path: Path, servers: list[Serving]) -> None:
    server, flow = serve(tmp_path, servers)
    moved = flow_doc([node("in", "http.in", path="/echo2"), node("out", "http.out")],
                     ["in.data->out.data"], name="flow")
    flow.write_text(json.dumps(moved))
    state = wait_for(server, "version 2", lambda h: h["version"] == 2)
    assert state["endpoints"] == ["POST /echo2"]
    gone = echo(server, 1)
    assert gone.status_code == 404
    assert "no longer served" in gone.json()["detail"]
    assert echo(server, 1, "/echo2").json() == [{"x": 1}]
    docs = httpx.get(f"{server.url}/openapi.json", timeout=WAIT).json()
    assert "/echo2" in docs["paths"] and "/echo" not in docs["paths"]
    assert server.stop() == 0, server.err
    assert "nodes 2 -> 2; edges 1 -> 1; changed in; endpoints +POST /echo2, -POST /echo" \
        in server.out


CODE = '''def process(data, params):
    data["y"] = data["x"] + {add}
    return data
'''


def test_trust_given_at_start_does_not_cover_a_later_version_with_code(
        tmp_path: Path, servers: list[Serving]) -> None:
    def version(add: int) -> str:
        doc = flow_doc([node("in", "http.in", path="/echo"),
                        node("f", "python.function", code=CODE.format(add=add)),
                        node("out", "http.out")], ["in.data->f.data", "f.data->out.data"],
                       name="flow")
        return json.dumps(doc)

    flow = tmp_path / "flow.json"
    flow.write_text(version(1))
    server = Serving(str(flow), "--watch", "--trust")
    servers.append(server)
    server.wait_ready()
    assert echo(server, 1).json() == [{"x": 1, "y": 2}]
    flow.write_text(version(2))  # new code, not trusted: refused
    wait_for(server, "the refusal", lambda h: h["refused_deploys"] == 1)
    assert echo(server, 1).json() == [{"x": 1, "y": 2}]
    trusted = edgewise("trust", str(flow))
    assert trusted.returncode == 0, trusted.stderr
    stat = flow.stat()  # trusting does not change the file: saving it again deploys it
    os.utime(flow, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    wait_for(server, "version 2", lambda h: h["version"] == 2)
    assert echo(server, 1).json() == [{"x": 1, "y": 3}]
    assert server.stop() == 0, server.err
    refusal = server.err[server.err.index("was not deployed"):]
    assert "edgewise trust" in refusal and "Traceback" not in server.err
