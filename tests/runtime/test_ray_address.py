"""A Ray address where nothing answers is refused at once, in one line; no cluster needed."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtime
from runtime._ray_address import unreachable
from runtime.engines import RayEngine
from tests.flowkit import node, write_flow
from tests.netkit import free_port

REPO = Path(__file__).resolve().parents[2]
TO_DO = "start the cluster with `ray start --head`, or check the address"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket listening on 127.0.0.1 with no room in its queue after one connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        yield sock


@contextlib.contextmanager
def serve_once(answer: bytes | None) -> Iterator[int]:
    """Listen on a free port; answer the first connection's first bytes with ``answer``.

    With None, the connection is closed as soon as it is accepted.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)

        def reply() -> None:
            conn, _ = sock.accept()
            with conn, contextlib.suppress(ConnectionResetError):
                if answer is not None:
                    conn.recv(64)
                    conn.sendall(answer)
                    conn.recv(64)  # until the caller closes (reset: it left bytes unread)

        thread = threading.Thread(target=reply, daemon=True)
        thread.start()
        yield sock.getsockname()[1]
        thread.join(timeout=10)


@pytest.fixture
def grpc_port() -> Iterator[int]:
    """A server that answers HTTP/2's preface as a gRPC server (Ray's GCS) does."""
    with serve_once(bytes([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 64, 0, 0])) as port:
        yield port


@pytest.fixture
def web_port() -> Iterator[int]:
    """A plain HTTP/1 web server: a mistyped port of a dashboard, say."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("form", ["{}", "ray://{}"])
def test_an_address_where_grpc_answers_passes(form: str, grpc_port: int) -> None:
    assert unreachable(form.format(f"127.0.0.1:{grpc_port}")) is None


@pytest.mark.parametrize("form", ["{}", "ray://{}"])
def test_a_web_server_at_the_address_is_no_ray_cluster(form: str, web_port: int) -> None:
    address = form.format(f"127.0.0.1:{web_port}")
    assert unreachable(address) == (
        f"there is no Ray cluster at {address}: something listens on port {web_port}, but it "
        f"is a web server (it answered in HTTP/1, where Ray speaks gRPC); {TO_DO}")


def test_a_listener_that_closes_at_once_is_no_ray_cluster() -> None:
    with serve_once(None) as port:
        reason = unreachable(f"127.0.0.1:{port}")
    assert reason is not None
    assert reason == (f"there is no Ray cluster at 127.0.0.1:{port}: something listens on "
                      f"port {port}, but it closed the connection without a word (Ray speaks "
                      f"gRPC); {TO_DO}")


def test_a_cluster_that_speaks_tls_is_only_connected_to(
        web_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_USE_TLS", "1")  # the plain preface is not a TLS server's language
    assert unreachable(f"127.0.0.1:{web_port}") is None


@pytest.mark.parametrize("form", ["{}", "ray://{}"])
def test_a_refused_connection_names_the_address_and_what_to_do(form: str) -> None:
    address = form.format(f"127.0.0.1:{free_port()}")
    reason = unreachable(address)
    assert reason is not None
    assert reason.startswith(f"cannot reach the Ray cluster at {address}: ")
    assert "was refused" in reason
    assert reason.endswith(TO_DO)


def test_a_host_that_does_not_resolve_is_named() -> None:
    reason = unreachable("no-such-host.invalid:6379")  # .invalid never resolves (RFC 2606)
    assert reason is not None
    assert "the host name 'no-such-host.invalid' does not resolve" in reason
    assert reason.endswith(TO_DO)


def test_a_connection_that_is_never_answered_times_out(listener: socket.socket) -> None:
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    # the listener never accepts: the first connection waits in its queue, unanswered;
    # once the queue is full, a connection is not even made
    reasons = [unreachable(address, seconds=0.3) for _ in range(4)]
    assert reasons[0] == (f"there is no Ray cluster at {address}: something listens on port "
                          f"{address.rsplit(':', 1)[1]}, but it did not answer as a Ray "
                          f"cluster does within 0.3 s; {TO_DO}")
    assert (f"cannot reach the Ray cluster at {address}: the connection timed out after "
            f"0.3 s; {TO_DO}") in reasons[1:]


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "it has no host and port"),
    (":6379", "it has no host and port"),
    ("ray://", "it has no host and port"),
    ("head:port", "its port 'port' is not a number from 1 to 65535"),
    ("head:70000", "its port '70000' is not a number from 1 to 65535"),
    ("http://head:8265", "its scheme is not ray://"),
    ("ray://head:10001/path", "it has a path"),
])
def test_a_malformed_address_says_which_forms_there_are(address: str, why: str) -> None:
    reason = unreachable(address)
    assert reason is not None
    assert reason.startswith(f"'{address}' is not a Ray cluster's address ({why}): ")
    assert "host:port" in reason
    assert "ray://host:port" in reason


@pytest.mark.parametrize("address", ["auto", "local"])
def test_forms_that_name_no_host_are_left_to_ray(address: str) -> None:
    assert unreachable(address) is None


def edgewise(args: list[str], tmp_path: Path,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process (where no Ray was started) with a deadline."""
    base = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    base |= {"PYTHONPATH": str(REPO), "RAY_TMPDIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], env=base | (env or {}),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    """A flow that would run anywhere."""
    return write_flow(tmp_path, {"r": ("stream.range", {"count": 3}), "c": "stream.count"},
                      ["r.data->c.data"], name="f.flow.json")


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("form", ["{}", "ray://{}"])
def test_run_on_an_address_nobody_listens_on_stops_at_once(form: str, tmp_path: Path,
                                                           flow_file: Path) -> None:
    address = form.format(f"127.0.0.1:{free_port()}")
    done = edgewise(["run", str(flow_file), "--engine", "ray", "--address", address], tmp_path)
    line = one_line(done)
    assert line.startswith(f"edgewise run: cannot reach the Ray cluster at {address}: ")
    assert "was refused" in line
    assert line.endswith(TO_DO)


def test_run_on_a_web_servers_address_stops_at_once(tmp_path: Path, flow_file: Path,
                                                    web_port: int) -> None:
    # Ray would wait for minutes there, logging its retries
    address = f"127.0.0.1:{web_port}"
    done = edgewise(["run", str(flow_file), "--engine", "ray", "--address", address], tmp_path)
    assert one_line(done) == (f"edgewise run: there is no Ray cluster at {address}: something "
                              f"listens on port {web_port}, but it is a web server (it answered "
                              f"in HTTP/1, where Ray speaks gRPC); {TO_DO}")


def test_run_on_a_malformed_address_says_so(tmp_path: Path, flow_file: Path) -> None:
    done = edgewise(["run", str(flow_file), "--engine", "ray", "--address", "head"], tmp_path)
    assert "'head' is not a Ray cluster's address (it has no host and port)" in one_line(done)


def test_run_names_ray_address_when_it_came_from_there(tmp_path: Path,
                                                       flow_file: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    done = edgewise(["run", str(flow_file), "--engine", "ray"], tmp_path,
                    {"RAY_ADDRESS": address})
    line = one_line(done)
    assert line.startswith(f"edgewise run: RAY_ADDRESS: cannot reach the Ray cluster at {address}")


def test_refusal_asks_the_ray_it_is_given_and_reaches_for_no_other(tmp_path: Path) -> None:
    """``build`` hands ``refusal`` the Ray it reached; the address here would be refused."""
    nodes = [node("r", "stream.range", count=3), node("c", "stream.count")]
    nodes[1]["resources"] = {"num_gpus": 4}
    plan = runtime.plan(write_flow(tmp_path, nodes, ["r.data->c.data"]))
    cluster = types.ModuleType("ray")
    cluster.cluster_resources = lambda: {"CPU": 2.0, "GPU": 1.0}  # type: ignore[attr-defined]
    engine = RayEngine(f"127.0.0.1:{free_port()}")
    assert engine.refusal(plan, cluster) == (
        "node 'c' asks for num_gpus 4, and the Ray cluster has 1 in all; lower it, or run on "
        "a cluster that has it")


def test_serve_on_an_address_nobody_listens_on_stops_at_once(tmp_path: Path) -> None:
    served = write_flow(tmp_path, [node("requests", "http.in", path="/echo",
                                        schema={"x": "float"}),
                                   node("answer", "http.out")],
                        ["requests.data->answer.data"], name="served.flow.json")
    address = f"127.0.0.1:{free_port()}"
    done = edgewise(["serve", str(served), "--engine", "ray", "--address", address,
                     "--port", str(free_port())], tmp_path)
    line = one_line(done)
    assert line.startswith(f"edgewise serve: cannot reach the Ray cluster at {address}: ")
    assert line.endswith(TO_DO)


def test_the_editors_worker_says_why_it_cannot_run_on_ray(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    code = "from editor.worker_engine import make_engine; print(make_engine('ray')[1])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO), "RAY_ADDRESS": address,
                               "RAY_TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (f"cannot run on Ray: RAY_ADDRESS: cannot reach the Ray "
                                   f"cluster at {address}: the connection to port "
                                   f"{address.rsplit(':', 1)[1]} was refused (nothing listens "
                                   f"there); {TO_DO}")


def test_a_cluster_that_asks_for_a_token_says_how_to_give_it(
        tmp_path: Path, flow_file: Path, ray_address: str) -> None:
    """The test session's cluster asks for its token, as ``ray start`` does by default.

    With no token, and with a wrong one (both at once: Ray tries for about 20 s before it
    gives up). Ray's core logs each try on stderr; the last line says what to do.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    base |= {"PYTHONPATH": str(REPO), "RAY_TMPDIR": str(tmp_path)}
    wrong = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 64}
    command = [sys.executable, "-m", "runtime.cli", "run", str(flow_file), "--engine", "ray",
               "--address", ray_address]
    started = [subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for env in (base, base | wrong)]
    for process in started:
        try:
            _out, err = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 2, err
        assert "Traceback" not in err
        line = err.strip().splitlines()[-1]
        assert line.startswith("edgewise run: ")
        assert ray_address in line
        assert line.endswith("set RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN (or the file "
                             "~/.ray/auth_token) as on the cluster")
