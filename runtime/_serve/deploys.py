"""The versions of a served flow: which one serves, since when, and how many were refused.

``FlowServer`` keeps one ``Deployments`` record. The flow it starts with is version 1;
each :meth:`FlowServer.switch` deploys the next version, and a new version that does not
validate is counted as refused (``edgewise serve --watch``). ``/health`` shows the version
and when it was deployed; ``/metrics`` the counters.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Deployments:
    """The serving version's number and deploy time, and the deploy and refusal counters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = 1
        self.deployed_at = _now()
        self.deploys = 1  # the version at start counts
        self.refused = 0

    def deployed(self) -> int:
        """Count a new version as serving from now on; return its number."""
        with self.lock:
            self.version += 1
            self.deploys += 1
            self.deployed_at = _now()
            return self.version

    def refuse(self) -> None:
        """Count a new version that was refused (it did not validate)."""
        with self.lock:
            self.refused += 1

    def health(self) -> dict[str, object]:
        """The fields ``/health`` shows."""
        with self.lock:
            return {"version": self.version, "deployed_at": self.deployed_at,
                    "deploys": self.deploys, "refused_deploys": self.refused}

    def metrics_text(self) -> str:
        """The Prometheus text of the counters (appended to ``/metrics``)."""
        with self.lock:
            families = [
                ("edgewise_deploys_total", "counter",
                 "Versions of the flow deployed, the one at start included.", self.deploys),
                ("edgewise_deploys_refused_total", "counter",
                 "New versions of the flow refused because they did not validate.",
                 self.refused),
                ("edgewise_flow_version", "gauge", "The version of the flow now serving.",
                 self.version),
            ]
        lines: list[str] = []
        for name, kind, doc, value in families:
            lines += [f"# HELP {name} {doc}", f"# TYPE {name} {kind}", f"{name} {value}"]
        return "\n".join(lines) + "\n"
