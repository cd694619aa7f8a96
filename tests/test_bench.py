"""Every benchmark runs with --quick and prints its figures; speed itself is never asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[\d,]+(?:\.\d+)?"
VERDICT = r"(?:met|MISSED)"
SPREAD = rf"{NUMBER} / {NUMBER} / {NUMBER}"

EXPECTED = {
    "chain": [
        rf"^engine, taps off \(a\) +{NUMBER} +{NUMBER} +{NUMBER} ",
        rf"^engine, taps on \(b\) +{NUMBER} +{NUMBER} +{NUMBER} ",
        rf"^engine, taps on, unfused +{NUMBER} +{NUMBER} +{NUMBER} ",
        rf"^plain Python composition +{NUMBER} +{NUMBER} +{NUMBER} ",
        rf"^fused \(default\) +{SPREAD}$",
        rf"^unfused +{SPREAD}$",
        r"^taps cost \(\(a-b\)/a, in msg/s\): [+-]\d+\.\d% +"
        r"\(in msg per CPU-second: [+-]\d+\.\d%\)$",
        rf"^>= 200,000 msg/s with taps on +{NUMBER} msg/s +{VERDICT}$",
        rf"^>= 1,000,000 msg/s after start-up, taps on \(median\) +{NUMBER} msg/s +{VERDICT}$",
        rf"^taps cost <= 10% +[+-]\d+\.\d% +{VERDICT}$",
    ],
    "memory": [
        rf"^baseline \(imports \+ plan\) +- +{NUMBER} ",
        rf"^10,000 messages +{NUMBER} +{NUMBER} +[+-]{NUMBER} +{NUMBER} +{VERDICT}$",
        rf"^50,000 messages +{NUMBER} +{NUMBER} +[+-]{NUMBER} +{NUMBER} +{VERDICT}$",
        rf"^target: peak RSS < 300 MiB at every count: {VERDICT} ",
    ],
    "streaming": [
        rf"^scoring: flow +{NUMBER} +{NUMBER} +{NUMBER}$",
        rf"^scoring: hand loop +{NUMBER} +{NUMBER} +{NUMBER}$",
        rf"^with training: flow +{NUMBER} +{NUMBER} +{NUMBER}$",
        rf"^with training: hand loop +{NUMBER} +{NUMBER} +{NUMBER}$",
        rf"^scoring +{NUMBER}x +{NUMBER}x +{SPREAD} +yes$",
        rf"^with training +{NUMBER}x +{NUMBER}x +{SPREAD} +yes$",
        rf"^noise: hand loop / hand loop +{NUMBER}x +{NUMBER}x +{SPREAD} +yes$",
        rf"^scoring flow within 1\.05x of the hand loop, worst run +{NUMBER}x +{VERDICT}$",
        rf"^noise: the hand loop against itself, worst run +{NUMBER}x +-$",
    ],
    "threaded": [
        rf"^flow +{SPREAD} +{NUMBER} +0 / 0 / 0$",
        rf"^flow, live statistics on +{SPREAD} +{NUMBER} +0 / 0 / 0$",
        rf"^plain loop +{SPREAD} +{NUMBER} +-$",
        rf"^flow / plain loop \(median of paired runs\): {NUMBER}x$",
    ],
    "recording": [
        rf"^chain of {NUMBER} messages x 11 ports +{NUMBER} +{NUMBER} +{SPREAD} +{SPREAD}"
        rf" +\d+ +{NUMBER} MB +<= 1\.2x: {VERDICT}$",
        rf"^streaming scoring, {NUMBER} rows +{NUMBER} +{NUMBER} +{SPREAD} +{SPREAD}"
        rf" +\d+ +{NUMBER} MB +<= 1\.5x: {VERDICT}$",
        rf"^one message back to its source +{NUMBER} +\d+ +{NUMBER} +{VERDICT}$",
        rf"^one row back to its CSV line +{NUMBER} +\d+ +{NUMBER} +{VERDICT}$",
    ],
    "serve": [
        *(rf"^{server}, {clients} +{NUMBER} +{NUMBER} +{NUMBER} +{SPREAD} +0 +0$"
          for server in ("bare FastAPI", "flow", r"flow, micro-batching [\d.]+ ms")
          for clients in ("1 client", "8 clients", "64 clients")),
        rf"^flow p50 within 1\.5x of bare FastAPI, 1 client +{NUMBER}x \({SPREAD}\) +{VERDICT}$",
        rf"^micro-batching beats bare FastAPI at 64 clients +{NUMBER} vs {NUMBER} requests/s +"
        rf"{VERDICT}$",
        r"^no request lost or answered wrongly +0 lost or wrong +met$",
    ],
    "scale": [
        rf"^200 +{SPREAD} +{SPREAD} +{SPREAD} +{NUMBER} us +{NUMBER} us$",
        rf"^1,000 +{SPREAD} +{SPREAD} +{SPREAD} +{NUMBER} us +{NUMBER} us$",
    ],
    "supervision": [
        *(rf"^{mode} +{NUMBER} +{NUMBER} +{NUMBER}$" for mode in ("champion", "shadow", "canary")),
        *(rf"^{mode} +{NUMBER}x +{NUMBER}x +{SPREAD}$" for mode in ("shadow", "canary")),
        rf"^shadow within 2\.1x of champion mode, median +{NUMBER}x +{VERDICT}$",
        r"^decided after +500 / 500 / 500$",
        r"^old champion after +[\d,]+ / [\d,]+ / [\d,]+$",
    ],
}

# bench.ray's lines; its quick run is tests/runtime/test_ray_engine.py's, on the Ray already up
RAY_EXPECTED = [
    rf"^ray\.init \(engine\.connect\), \d+ start\(s\)[^\n]* +(?:{SPREAD}|-)$",
    rf"^first run: the pool of \d+ host\(s\) starts +{SPREAD}$",
    rf"^a run after +{SPREAD}$",
    *(rf"^{case} +{SPREAD} +{NUMBER}x$"
      for case in (r"local engine \(fused\)", "Ray, fused", "Ray, unfused")),
    *(rf"^{case} +{SPREAD} +{NUMBER} +{NUMBER} \+ {NUMBER} +{NUMBER}$"
      for case in ("local engine", "Ray, replicas 1", "Ray, replicas 2",
                   "Ray, replicas 2, ordered false")),
    rf"^speed-up of 2 replicas over 1, pairs run back to back: ordered {SPREAD}, "
    rf"ordered false {SPREAD}$",
    r"^predictions identical in all \d+ runs to the forest's own predict, row ids kept: yes$",
    rf"^kill -> the chain's next delivered batch +{SPREAD}$",
    rf"^messages counted in each of \d+ killed runs of {NUMBER}: [\d, ]+ "
    r"\(lost or doubled: none\)$",
    rf"^chain on Ray > 100,000 msg/s after start-up \(median, fused\) +{NUMBER} msg/s +"
    rf"{VERDICT}$",
    rf"^2 replicas >= 1\.6x faster than 1 \(median pair\) +{NUMBER}x +{VERDICT}$",
    rf"^the same, ordered false +{NUMBER}x +{VERDICT}$",
    rf"^recovery within 5 s \(worst run\) +{NUMBER} s +{VERDICT}$",
]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_prints_its_figures(name: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bench", name, "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for pattern in EXPECTED[name]:
        assert re.search(pattern, done.stdout, re.MULTILINE), (pattern, done.stdout)


def test_unknown_benchmark_is_refused() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert ("unknown benchmark(s) nope; choose from chain, memory, streaming, threaded, "
            "recording, scale, serve, supervision, editor, ray"
            in done.stderr)
