"""Serving: latency and throughput of a flow behind HTTP, against a bare FastAPI endpoint.

Both servers answer ``POST /predict`` with the iris model's predictions for the rows sent,
each in its own process on 127.0.0.1; the load comes from this process, a fixed number of
requests at 1, 8 and 64 concurrent clients. The flow is ``http.in -> ml.predict -> http.out``
with the model from ``model.load``, served by ``edgewise serve``; once as is, once with
micro-batching on ``http.in``. Every answer is checked against the model's own prediction for
the rows of its request: a request lost, refused, or answered with another's rows is counted.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench._report import heading, parse_args, table, verdict
from bench._spread import spread

CONCURRENCY = (1, 8, 64)
REQUESTS = {1: 400, 8: 1_600, 64: 3_200}
QUICK_REQUESTS = {1: 20, 8: 48, 64: 128}
REPEAT = 3
BATCH_WINDOW_MS = 2.0
LATENCY_TARGET = 1.5
STARTUP_SECONDS = 60.0

BARE_APP = '''"""The bare FastAPI endpoint: the iris model, called straight from the route."""

import pandas as pd
import skops.io
from fastapi import FastAPI, Request

MODEL = {model!r}
model = skops.io.load(MODEL, trusted=skops.io.get_untrusted_types(file=MODEL))
FEATURES = list(model.feature_names_in_)
app = FastAPI()


@app.post("/predict")
async def predict(request: Request) -> list[dict[str, object]]:
    body = await request.json()
    frame = pd.DataFrame(body if isinstance(body, list) else [body])
    frame["prediction"] = model.predict(frame[FEATURES])
    return frame.to_dict(orient="records")
'''


@dataclass
class Load:
    """What one burst of requests at one concurrency saw."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    failed: int = 0
    wrong: int = 0

    @property
    def throughput(self) -> float:
        """Answered requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """A latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def write_model(folder: Path) -> tuple[Path, list[dict[str, float]], list[int]]:
    """Fit the iris model, save it as a skops file; return it, the rows and their answers."""
    import skops.io
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    frame = load_iris(as_frame=True).frame
    features = frame.drop(columns="target")
    model = LogisticRegression(max_iter=1000).fit(features, frame["target"])
    path = folder / "iris.skops"
    skops.io.dump(model, path)
    rows = features.to_dict(orient="records")
    return path, rows, [int(p) for p in model.predict(features)]


def write_flow(folder: Path, model: Path, batch_window_ms: float) -> Path:
    """The served flow: ``http.in -> ml.predict -> http.out``, the model from ``model.load``."""
    nodes = [
        {"id": "request", "component": "http.in",
         "params": {"path": "/predict", "batch_window_ms": batch_window_ms,
                    "max_queued": 1024}},
        {"id": "model", "component": "model.load", "params": {"path": str(model)}},
        {"id": "predict", "component": "ml.predict"},
        {"id": "answer", "component": "http.out"},
    ]
    edges = [{"source": "request.data", "target": "predict.data"},
             {"source": "model.model", "target": "predict.model"},
             {"source": "predict.data", "target": "answer.data"}]
    name = f"serve-{batch_window_ms:g}ms.json"
    path = folder / name
    path.write_text(json.dumps({"edgewise": 1, "name": name, "nodes": nodes, "edges": edges}))
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A server in its own process, started and stopped by this benchmark."""

    def __init__(self, name: str, command: list[str], cwd: Path, ready_path: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [c.replace("{port}", str(self.port)) for c in command]
        # what the server says goes to a file: a pipe nobody reads could fill and stall it
        self.log = cwd / f"{name.split(',')[0].replace(' ', '-')}-{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=log)
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"{self.name} ended at start-up: {self.log.read_text()[-2000:]}"
                raise RuntimeError(msg)
            try:
                with urllib.request.urlopen(self.url + path, timeout=2):  # noqa: S310 - local
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        msg = f"{self.name} did not answer {path} within {STARTUP_SECONDS:.0f} s"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _load(url: str, rows: list[dict[str, float]], answers: list[int], requests: int,
                concurrency: int) -> Load:
    """Send ``requests`` one-row requests from ``concurrency`` clients; check each answer."""
    import aiohttp

    load = Load()
    sent = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < requests:
            index = sent % len(rows)
            sent += 1
            started = time.perf_counter()
            try:
                async with session.post(url, json=[rows[index]]) as reply:
                    body = await reply.read()
                    status = reply.status
            except (aiohttp.ClientError, TimeoutError):
                load.failed += 1
                continue
            load.latencies.append(time.perf_counter() - started)
            if status != 200:
                load.failed += 1
                continue
            answer = json.loads(body)
            if len(answer) != 1 or answer[0].get("prediction") != answers[index] or any(
                    answer[0].get(k) != v for k, v in rows[index].items()):
                load.wrong += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        load.seconds = time.perf_counter() - started
    return load


def measure(server: Server, rows: list[dict[str, float]], answers: list[int],
            counts: dict[int, int]) -> dict[int, Load]:
    """One burst per concurrency against a running server, after a short warm-up."""
    url = server.url + "/predict"
    asyncio.run(_load(url, rows, answers, 20, 4))
    return {c: asyncio.run(_load(url, rows, answers, counts[c], c)) for c in CONCURRENCY}


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both servers at each concurrency, ``repeat`` times, in alternation."""
    args = parse_args(__doc__ or "", argv)
    counts = QUICK_REQUESTS if args.quick else REQUESTS
    repeat = args.repeat or (1 if args.quick else REPEAT)
    heading("Serving (edgewise serve)", [
        "One-row POST /predict requests to the iris model, from 1, 8 and 64 concurrent "
        f"clients ({', '.join(f'{counts[c]:,}' for c in CONCURRENCY)} requests), each server "
        f"measured {repeat} time(s) in alternation; latency p50 and p99 in ms and throughput "
        "in requests/s as the median of the runs, with the spread of p50.",
        f"Targets: the flow's p50 within {LATENCY_TARGET}x of bare FastAPI at one client; "
        "with micro-batching at 64 clients, more throughput than bare FastAPI; no request "
        "lost or answered wrongly."])
    work = Path(tempfile.mkdtemp(prefix="ew-bench-serve-"))
    try:
        model, rows, answers = write_model(work)
        (work / "bare_app.py").write_text(BARE_APP.format(model=str(model)))
        python = sys.executable
        plain_flow = write_flow(work, model, 0.0)
        batched_flow = write_flow(work, model, BATCH_WINDOW_MS)
        servers = {
            "bare FastAPI": ([python, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1",
                              "--port", "{port}", "--log-level", "warning",
                              "--no-access-log"], "/docs"),
            "flow": ([python, "-m", "runtime.cli", "serve", str(plain_flow), "--port",
                      "{port}"], "/health"),
            f"flow, micro-batching {BATCH_WINDOW_MS:g} ms": (
                [python, "-m", "runtime.cli", "serve", str(batched_flow), "--port", "{port}"],
                "/health"),
        }
        runs: dict[str, list[dict[int, Load]]] = {name: [] for name in servers}
        for _ in range(repeat):
            for name, (command, ready) in servers.items():
                server = Server(name, command, work, ready)
                try:
                    runs[name].append(measure(server, rows, answers, counts))
                finally:
                    server.stop()
        report(runs)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(runs: dict[str, list[dict[int, Load]]]) -> None:
    """Print the table of figures and the targets."""
    body = []
    for name, measured in runs.items():
        for c in CONCURRENCY:
            loads = [m[c] for m in measured]
            body.append([f"{name}, {c} client{'s' if c > 1 else ''}",
                         f"{statistics.median(x.percentile(0.5) for x in loads):.2f}",
                         f"{statistics.median(x.percentile(0.99) for x in loads):.2f}",
                         f"{statistics.median(x.throughput for x in loads):,.0f}",
                         spread([x.percentile(0.5) for x in loads]),
                         str(sum(x.failed for x in loads)), str(sum(x.wrong for x in loads))])
    print(table(["server, clients", "p50 ms", "p99 ms", "requests/s",
                 "p50 min / median / max", "lost", "wrong"], body))
    print()
    names = list(runs)
    bare, flow, batched = (runs[n] for n in names)
    ratios = [f[1].percentile(0.5) / b[1].percentile(0.5) for b, f in zip(bare, flow,
                                                                           strict=True)]
    ratio = statistics.median(ratios)
    bare_64 = statistics.median(b[64].throughput for b in bare)
    batched_64 = statistics.median(b[64].throughput for b in batched)
    lost = sum(x.failed + x.wrong for measured in runs.values() for m in measured
               for x in m.values())
    print(table(["target", "figure", "verdict"], [
        [f"flow p50 within {LATENCY_TARGET}x of bare FastAPI, 1 client",
         f"{ratio:.2f}x ({spread(ratios)})", verdict(ratio <= LATENCY_TARGET)],
        ["micro-batching beats bare FastAPI at 64 clients",
         f"{batched_64:,.0f} vs {bare_64:,.0f} requests/s", verdict(batched_64 > bare_64)],
        ["no request lost or answered wrongly", f"{lost} lost or wrong", verdict(lost == 0)],
    ]))


if __name__ == "__main__":
    raise SystemExit(main())
