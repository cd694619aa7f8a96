"""Request counts and latencies of a served flow, and the Prometheus text exposition of it all.

``/metrics`` speaks the Prometheus text format (version 0.0.4), so existing monitoring can
scrape a served flow: per-edge message counts and per-node firings and errors come straight
from the run's live statistics (``Run.stats``); requests by endpoint and status code, a
latency histogram per endpoint and the requests in flight come from the hub.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """Counts of answered requests by endpoint and status, and their latency histograms."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[tuple[str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def observe(self, endpoint: str, status: int, seconds: float | None = None) -> None:
        """Count one answer; with ``seconds``, add its latency to the endpoint's histogram."""
        with self.lock:
            key = (endpoint, status)
            self.codes[key] = self.codes.get(key, 0) + 1
            if seconds is None:
                return
            buckets = self.buckets.setdefault(endpoint, [0] * len(BUCKETS))
            index = bisect.bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                buckets[index] += 1
            self.sums[endpoint] = self.sums.get(endpoint, 0.0) + seconds
            self.counts[endpoint] = self.counts.get(endpoint, 0) + 1

    def by_code(self) -> dict[str, dict[str, int]]:
        """Answers per endpoint and status code, for ``/health``."""
        with self.lock:
            out: dict[str, dict[str, int]] = {}
            for (endpoint, status), count in sorted(self.codes.items()):
                out.setdefault(endpoint, {})[str(status)] = count
            return out


def _label(value: object) -> str:
    """A label value, escaped as the text format requires."""
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'"{text}"'


def _labels(**labels: object) -> str:
    return "{" + ",".join(f"{k}={_label(v)}" for k, v in labels.items()) + "}" if labels else ""


def _family(name: str, kind: str, doc: str,
            samples: Iterable[tuple[str, dict[str, object], float]]) -> list[str]:
    lines = [f"# HELP {name} {doc}", f"# TYPE {name} {kind}"]
    for suffix, labels, value in samples:
        number = repr(float(value)) if isinstance(value, float) else str(value)
        lines.append(f"{name}{suffix}{_labels(**labels)} {number}")
    return lines


def render(stats: Any, metrics: RequestMetrics, in_flight: dict[str, int],
           uptime: float) -> str:
    """The Prometheus text of a served flow.

    Args:
        stats: The run's ``LiveStats`` (its ``edges`` and ``nodes`` counts are read).
        metrics: The hub's request metrics.
        in_flight: Requests waiting for an answer, per endpoint.
        uptime: Seconds since the flow started serving.
    """
    edges = [("", {"edge": e}, s.count) for e, s in sorted(stats.edges.items())]
    nodes = sorted(stats.nodes.items())
    lines = _family("edgewise_edge_messages_total", "counter",
                    "Messages carried by each edge of the flow.", edges)
    lines += _family("edgewise_node_fired_total", "counter", "Firings of each node.",
                     [("", {"node": n}, int(i["fired"])) for n, i in nodes])
    lines += _family("edgewise_node_errors_total", "counter",
                     "Failed firings (error records) of each node.",
                     [("", {"node": n}, int(i["errors"])) for n, i in nodes])
    with metrics.lock:
        codes = sorted(metrics.codes.items())
        hist = {e: (list(b), metrics.sums[e], metrics.counts[e])
                for e, b in metrics.buckets.items()}
    lines += _family("edgewise_requests_total", "counter",
                     "HTTP requests answered, by endpoint and status code.",
                     [("", {"endpoint": e, "code": c}, n) for (e, c), n in codes])
    samples: list[tuple[str, dict[str, object], float]] = []
    for endpoint, (buckets, total, count) in sorted(hist.items()):
        running = 0
        for bound, n in zip(BUCKETS, buckets, strict=True):
            running += n
            samples.append(("_bucket", {"endpoint": endpoint, "le": repr(bound)}, running))
        samples.append(("_bucket", {"endpoint": endpoint, "le": "+Inf"}, count))
        samples.append(("_sum", {"endpoint": endpoint}, total))
        samples.append(("_count", {"endpoint": endpoint}, count))
    lines += _family("edgewise_request_duration_seconds", "histogram",
                     "Time from admitting a request to its answer, by endpoint.", samples)
    lines += _family("edgewise_requests_in_flight", "gauge",
                     "Requests admitted and not answered yet, by endpoint.",
                     [("", {"endpoint": e}, n) for e, n in sorted(in_flight.items())])
    lines += _family("edgewise_uptime_seconds", "gauge", "Seconds since the flow started.",
                     [("", {}, round(uptime, 3))])
    return "\n".join(lines) + "\n"
