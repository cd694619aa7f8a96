"""``edgewise serve`` as a user runs it: a process on 127.0.0.1, stopped by a signal."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.flowkit import node, write_flow
from tests.netkit import free_port

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "flows" / "serve-model.json"
WAIT = 60.0
IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def edgewise(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], capture_output=True,
                          text=True, timeout=WAIT, env=env, cwd=cwd)


class Serving:
    """An ``edgewise serve`` process; ``stop()`` sends SIGTERM and waits for its exit."""

    def __init__(self, *args: str, cwd: Path | None = None, token: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "serve", *args, "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        self.out = self.err = ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()
            try:
                health = httpx.get(f"{self.url}/health", headers=self.headers, timeout=5)
                if health.status_code == 200 and health.json()["nodes"].get(
                        "fit", {"state": "done"})["state"] == "done":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail("the server did not start")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.out, self.err = self.process.communicate(timeout=WAIT)
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=WAIT)


def test_the_example_serves_the_iris_model_as_scikit_learn_predicts_it(
        tmp_path: Path, servers: list[Serving]) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    shutil.copy(FLOW, tmp_path)
    server = Serving("serve-model.json", "--record", cwd=tmp_path)
    servers.append(server)
    server.wait_ready()
    iris = load_iris(as_frame=True).frame
    rows = iris[IRIS].iloc[::10]
    answer = httpx.post(f"{server.url}/predict", json=rows.to_dict("records"), timeout=WAIT)
    model = LogisticRegression(max_iter=500).fit(iris[IRIS], iris["target"])
    assert answer.status_code == 200
    assert answer.json() == [
        {"prediction": int(p), "confidence": float(c)}
        for p, c in zip(model.predict(rows), model.predict_proba(rows).max(axis=1), strict=True)]
    row_id = f"{answer.headers['X-Request-Id']}/0"

    deadline = time.monotonic() + WAIT  # the recorder writes what it saw every moment
    while (live := edgewise("trace", "latest", "predict.data", "--row", row_id,
                            "-w", str(tmp_path))).returncode != 0:
        assert time.monotonic() < deadline, live.stderr
        time.sleep(0.2)
    assert "scored by model" in live.stdout and "requests.data (http.in" in live.stdout

    assert server.stop() == 0, server.err
    assert "stopped: ok" in server.out
    after = edgewise("scored-by", "latest", "predict.data", "--row", row_id, "--json",
                     "-w", str(tmp_path))
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["scored_at"]["node"] == "predict"


SLOW = '''import time

def process(data, params):
    time.sleep(0.3)
    return data
'''


def test_sigterm_drains_every_request_already_sent(tmp_path: Path,
                                                    servers: list[Serving]) -> None:
    flow = write_flow(tmp_path, [node("in", "http.in", path="/slow"),
                                 node("slow", "python.function", code=SLOW),
                                 node("out", "http.out")],
                      ["in.data->slow.data", "slow.data->out.data"])
    server = Serving(str(flow), "--trust")
    servers.append(server)
    server.wait_ready()
    with ThreadPoolExecutor(6) as pool:
        sent = [pool.submit(httpx.post, f"{server.url}/slow", json={"k": k}, timeout=WAIT)
                for k in range(6)]
        deadline = time.monotonic() + WAIT
        while httpx.get(f"{server.url}/health").json()["in_flight"] < 6:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        code = server.stop()
        answers = [f.result() for f in sent]
    assert [a.status_code for a in answers] == [200] * 6
    assert sorted(a.json()[0]["k"] for a in answers) == list(range(6))
    assert code == 0, server.err
    assert "stopped: ok" in server.out


def test_the_token_guards_every_endpoint(tmp_path: Path, servers: list[Serving]) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    server = Serving(str(FLOW), "--token-file", str(token_file), token="s3cret")
    servers.append(server)
    server.wait_ready()
    row = {name: 1.0 for name in IRIS}
    for method, path in [("GET", "/health"), ("GET", "/metrics"), ("GET", "/docs"),
                         ("GET", "/openapi.json"), ("POST", "/predict")]:
        refused = httpx.request(method, f"{server.url}{path}", json=row, timeout=WAIT)
        wrong = httpx.request(method, f"{server.url}{path}", json=row, timeout=WAIT,
                              headers={"Authorization": "Bearer nope"})
        allowed = httpx.request(method, f"{server.url}{path}", json=row, timeout=WAIT,
                                headers=server.headers)
        assert (refused.status_code, wrong.status_code, allowed.status_code) == (
            401, 401, 200), path
    assert server.stop() == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_binding_beyond_this_machine_needs_a_token(host: str) -> None:
    done = edgewise("serve", str(FLOW), "--host", host, "--port", str(free_port()))
    assert done.returncode == 2
    assert f"binding to {host} exposes the flow to the network" in done.stderr
    assert "Traceback" not in done.stderr


def test_mistakes_get_one_clear_line_and_no_traceback(tmp_path: Path) -> None:
    bad = write_flow(tmp_path, [node("in", "http.in", path="health")], name="bad.json")
    nothing = write_flow(tmp_path, [node("r", "stream.range", count=1)], name="plain.json")
    twice = write_flow(tmp_path, [node("a", "http.in", path="/x"), node("b", "http.in", path="/x"),
                                  node("out", "http.out")],
                       ["a.data->out.data", "b.data->out.data"], name="twice.json")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        in_use = edgewise("serve", str(FLOW), "--port", port)
    unreadable = edgewise("serve", str(FLOW), "--token-file", str(tmp_path / "missing"))
    invalid = edgewise("serve", str(bad))
    no_endpoint = edgewise("serve", str(nothing))
    taken_twice = edgewise("serve", str(twice))
    for done in (in_use, unreadable, invalid, no_endpoint, taken_twice):
        assert done.returncode == 2, done
        assert "Traceback" not in done.stderr
    assert "cannot listen on 127.0.0.1" in in_use.stderr and "--port" in in_use.stderr
    assert "cannot read the token file" in unreadable.stderr
    assert "'health' is not an endpoint path" in invalid.stderr
    assert "has no http.in node" in no_endpoint.stderr
    assert "nodes 'a' and 'b' both serve POST /x" in taken_twice.stderr


def test_running_a_served_flow_says_to_serve_it(tmp_path: Path) -> None:
    done = edgewise("run", str(FLOW))
    assert done.returncode == 1
    assert "edgewise serve" in done.stdout + done.stderr
