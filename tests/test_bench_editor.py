"""The editor benchmark runs with --quick and prints its figures; speed is never asserted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[\d,]+(?:\.\d+)?"
VERDICT = r"(?:met|MISSED)"
MS = rf"{NUMBER} ms"
SEC = rf"{NUMBER} s"

EXPECTED = [
    rf"^usable canvas, 300 nodes +{SEC} +{SEC} +{NUMBER}x +< 1\.50 s +{VERDICT}$",
    rf"^painted, 300 nodes +{SEC} +{SEC} +{NUMBER}x +- +-$",
    rf"^drag frame time, median +{MS} +{MS} +{NUMBER}x +< 20\.0 ms +{VERDICT}$",
    rf"^drag frame time, p95 +{MS} +{MS} +{NUMBER}x +- +-$",
    rf"^label delay, median +-?{MS} +-?{MS} +-?{NUMBER}x +< 300\.0 ms +{VERDICT}$",
    rf"^label delay, p95 +-?{MS} +-?{MS} +-?{NUMBER}x +< 300\.0 ms +{VERDICT}$",
    rf"^click -> node selected, median +{MS} +{MS} +{NUMBER}x +- +-$",
    rf"^click -> params panel, median +{MS} +{MS} +{NUMBER}x +- +-$",
    rf"^usable canvas, 1,000 nodes +{SEC} +{SEC} +{NUMBER}x +< 2\.00 s +{VERDICT}$",
    rf"^drag frame time, 1,000 nodes, median +{MS} +{MS} +{NUMBER}x +< 17\.0 ms +{VERDICT}$",
    rf"^Run -> first label, iris\.json, median +{MS} +{MS} +{NUMBER}x +< 1,000\.0 ms "
    rf"+{VERDICT}$",
    rf"^canvas share at 1280x720 +\d+% +\d+% +{NUMBER}x +>= 60% +{VERDICT}$",
    r"^drag: \d+ frames presenting \d+ pointer moves",
    rf"^fast run: {NUMBER} msg/s at the source, {NUMBER} label updates/s per edge",
]


def test_editor_benchmark_prints_its_figures() -> None:
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
        pytest.fail("the editor benchmark needs Debian's chromium (./dev test installs it)")
    done = subprocess.run([sys.executable, "-m", "bench.editor", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for pattern in EXPECTED:
        assert re.search(pattern, done.stdout, re.MULTILINE), (pattern, done.stdout)
