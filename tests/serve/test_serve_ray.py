"""``edgewise serve --engine ray``: the same answers as the local engine, and no Ray, no trace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.flowkit import node, write_flow
from tests.netkit import free_port
from tests.serve.servekit import serving
from tests.serve.test_serve_command import REPO

RAY_WAIT = 240.0  # Ray's start-up and the hosts' first imports take long on a loaded machine
IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
NODES = [node("load", "dataset.load", name="iris"),
         node("fit", "ml.fit", estimator="sklearn.linear_model.LogisticRegression",
              options={"max_iter": 500}, target="target"),
         node("requests", "http.in", path="/predict", timeout_ms=120000,
              schema=dict.fromkeys(IRIS, "float")),
         node("keep", "frame.query", expr="`petal length (cm)` > 0"),
         node("predict", "ml.predict", probabilities=True),
         node("answer", "http.out", columns=["prediction", "confidence"])]
EDGES = ["load.data->fit.data", "fit.model->predict.model", "requests.data->keep.data",
         "keep.data->predict.data", "predict.data->answer.data"]
NO_RAY = "raise ImportError(\"No module named 'ray'\")\n"


def edgewise(*args: str, pythonpath: str, timeout: float = 120.0
             ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def rows() -> list[dict[str, float]]:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    records: list[dict[str, float]] = frame[IRIS].iloc[::15].to_dict("records")
    return records


def test_a_flow_served_on_ray_answers_what_the_local_engine_answers(tmp_path: Path,
                                                                    ray_address: str) -> None:
    """And with --watch, a saved version is deployed on Ray too, beside the one serving.

    On the test session's Ray cluster, named with ``--address``.
    """
    sent = rows()
    with serving(NODES, EDGES) as local:  # a request waits for the model to be fitted
        expected = httpx.post(f"{local.url}/predict", json=sent, timeout=RAY_WAIT)
    assert expected.status_code == 200, expected.text

    flow = write_flow(tmp_path, NODES, EDGES)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", str(flow), "--engine", "ray",
         "--address", ray_address, "--watch", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + RAY_WAIT
        while True:  # serving once Ray is up; the model is fitted in a Ray actor
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the server did not start on Ray"
            try:
                health = httpx.get(f"{url}/health", timeout=5).json()
                if health["nodes"]["fit"]["state"] == "done":
                    break
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.1)
        answer = httpx.post(f"{url}/predict", json=sent, timeout=RAY_WAIT)
        assert answer.status_code == 200, answer.text
        assert answer.json() == expected.json()

        write_flow(tmp_path, [*NODES[:-1], node("answer", "http.out", columns=["prediction"])],
                   EDGES)
        while httpx.get(f"{url}/health", timeout=5).json()["version"] != 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the new version was not deployed"
            time.sleep(0.1)
        answer = httpx.post(f"{url}/predict", json=sent, timeout=RAY_WAIT)
        assert answer.status_code == 200, answer.text
        assert answer.json() == [{"prediction": a["prediction"]} for a in expected.json()]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=RAY_WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "redeployed" in out and "version 1 drained and stopped: ok" in out
    assert "stopped: ok" in out
    assert "Traceback" not in err


def test_without_ray_run_and_serve_say_how_to_install_it(tmp_path: Path) -> None:
    fake = tmp_path / "no-ray"
    fake.mkdir()
    (fake / "ray.py").write_text(NO_RAY, encoding="utf-8")
    pythonpath = os.pathsep.join([str(REPO), str(fake)])
    ran = write_flow(tmp_path, [node("load", "dataset.load", name="iris"),
                                node("keep", "frame.query", expr="target > 0")],
                     ["load.data->keep.data"], name="ran.json")
    served = write_flow(tmp_path, NODES, EDGES, name="served.json")
    commands = [("run", str(ran), "--engine", "ray"),
                ("serve", str(served), "--engine", "ray", "--port", str(free_port()))]
    for args in commands:
        done = edgewise(*args, pythonpath=pythonpath)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (args, done.stderr)
        assert lines[0] == (f"edgewise {args[0]}: the Ray engine needs Ray, which is not "
                            "installed: pip install 'edgewise[ray]'")


def test_serve_refuses_an_address_without_the_ray_engine(tmp_path: Path) -> None:
    served = write_flow(tmp_path, NODES, EDGES)
    done = edgewise("serve", str(served), "--address", "127.0.0.1:6379", "--port",
                    str(free_port()), pythonpath=str(REPO))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("edgewise serve: --address names a Ray cluster: add "
                                   "--engine ray")
