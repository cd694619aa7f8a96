"""A run worker whose editor is killed mid-run ends too, instead of working on for nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The editor side: start a worker, give it a run that never ends, say the worker's pid.
EDITOR = """
import asyncio, sys, time
from pathlib import Path
from editor.worker import RunWorker

fitting = []

def on_message(message):
    # the fit has its data once the edge into it has carried a value: it is under way
    if message[0] == "snapshot" and not fitting and any(
            edge["count"] for edge in message[1]["edges"].values()):
        fitting.append(True)
        print("fitting", flush=True)

async def main():
    worker = RunWorker(on_message)
    worker.spawn()
    flow = {"edgewise": 1, "name": "slow-fit", "nodes": [
        {"id": "load", "component": "dataset.load", "params": {"name": "digits"}},
        {"id": "fit", "component": "ml.fit", "params": {
            "estimator": "sklearn.ensemble.RandomForestClassifier", "target": "target",
            "options": {"n_estimators": 100000}}}],
        "edges": [{"source": "load.data", "target": "fit.data"}]}
    worker.run(flow, Path(sys.argv[1]))
    print(worker.pid(), flush=True)
    deadline = time.monotonic() + 120
    while fitting or time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    print("the fit never started", flush=True)

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose: it no longer runs
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_the_worker_ends_when_its_editor_is_killed(tmp_path: Path) -> None:
    editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(tmp_path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    worker = 0
    try:
        assert editor.stdout is not None
        worker = int(editor.stdout.readline())
        # the fit is under way (its worker is busy, not reading its pipe)
        assert editor.stdout.readline().strip() == "fitting"
        assert alive(worker)
        editor.send_signal(signal.SIGKILL)
        editor.wait(30)
        deadline = time.monotonic() + 30
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the run worker outlived its editor"
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait()
        if worker and alive(worker):
            os.kill(worker, signal.SIGKILL)
