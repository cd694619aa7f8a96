"""``/health`` and ``/metrics`` show the live counts of a served flow, read from the run."""

from __future__ import annotations

import re

import httpx
from servekit import serving

from tests.flowkit import node

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The samples of a Prometheus text exposition, by metric name; fails on a bad line."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split(" ")
            types[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        found = SAMPLE.match(line)
        assert found, f"not a sample line: {line!r}"
        name, _braces, labels, value = found.groups()
        assert any(name == t or name.startswith(f"{t}_") for t in types), name
        samples.setdefault(name, []).append((dict(LABEL.findall(labels or "")), float(value)))
    return samples


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str,
          **labels: str) -> float:
    return next(v for got, v in samples[name] if all(got.get(k) == w for k, w in labels.items()))


def test_health_and_metrics_count_edges_nodes_and_requests() -> None:
    nodes = [node("in", "http.in", path="/m", schema={"x": "int"}),
             node("check", "test.check"), node("out", "http.out")]
    with serving(nodes, ["in.data->check.data", "check.data->out.data"]) as served:
        url = served.url
        for x in (1, 2, 3, -1):
            httpx.post(f"{url}/m", json={"x": x}, timeout=20)
        httpx.post(f"{url}/m", json={"x": "one"}, timeout=20)
        health = httpx.get(f"{url}/health", timeout=20).json()
        metrics = httpx.get(f"{url}/metrics", timeout=20)
    assert health["status"] == "serving"
    assert health["flow"] == "t"
    assert health["endpoints"] == ["POST /m"]
    assert health["in_flight"] == 0
    assert health["requests"] == {"POST /m": {"200": 3, "422": 1, "500": 1}}
    assert health["edges"] == {"in.data->check.data": 4, "check.data->out.data": 3}
    assert health["nodes"]["check"]["fired"] == 4 and health["nodes"]["check"]["errors"] == 1
    assert health["nodes"]["in"]["state"] == "running"
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(metrics.text)
    assert value(samples, "edgewise_edge_messages_total", edge="in.data->check.data") == 4
    assert value(samples, "edgewise_node_errors_total", node="check") == 1
    assert value(samples, "edgewise_node_fired_total", node="out") == 3
    assert value(samples, "edgewise_requests_total", endpoint="POST /m", code="200") == 3
    assert value(samples, "edgewise_requests_total", endpoint="POST /m", code="500") == 1
    assert value(samples, "edgewise_requests_in_flight", endpoint="POST /m") == 0
    assert value(samples, "edgewise_request_duration_seconds_count", endpoint="POST /m") == 4
    buckets = [v for got, v in samples["edgewise_request_duration_seconds_bucket"]]
    assert buckets == sorted(buckets) and buckets[-1] == 4


def test_refused_requests_are_counted_and_label_values_escaped() -> None:
    nodes = [node("in", "http.in", path="/q"), node("out", "http.out")]
    with serving(nodes, ["in.data->out.data"], token="t0ken") as served:
        refused = httpx.post(f'{served.url}/q"x', json={}, timeout=20)
        text = httpx.get(f"{served.url}/metrics", timeout=20,
                         headers={"Authorization": "Bearer t0ken"}).text
    assert refused.status_code == 401
    assert 'edgewise_requests_total{endpoint="POST /q\\"x",code="401"} 1' in text
    assert value(parse(text), "edgewise_requests_total", endpoint='POST /q\\"x') == 1
