"""One Ray cluster for the whole test session, started by the first test that needs it.

Starting Ray costs seconds (more on a busy machine), so the tests that run on Ray join one
cluster (``ray start --head``) through ``--address`` or ``RAY_ADDRESS``, instead of each
starting a Ray of its own. The pytest-xdist workers share it: the controller names a
folder in ``pytest_configure`` (see ``tests/conftest.py``), the first worker to need the
cluster starts it under a file lock and writes its address there, and the controller stops
it, by the pid written beside it, in ``pytest_unconfigure``. Only the test of Ctrl-C
starts a Ray of its own, since it checks that the Ray a run started goes away with it.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.netkit import free_port

FOLDER_ENV = "EDGEWISE_TEST_RAY_FOLDER"  # where the session's cluster keeps its lock and address
OWNER_ENV = "EDGEWISE_TEST_RAY_OWNER"  # the pid of the pytest process that stops the cluster
START_SECONDS = 180  # Ray starts in 5 to 30 s here, more when the machine is busy
STOP_SECONDS = 30
READY = "Ray runtime started"


def prepare() -> None:
    """In the controller, before any test: name the session's folder, and make its token.

    The folder's name is short: Ray's socket paths are limited. The cluster asks every
    client for the token: Ray listens on the machine's address, not only on 127.0.0.1.
    The token is put in the environment here, before any process of the session imports
    Ray (which reads it then): pytest-xdist's workers, and the CLI and editor processes
    that tests start, inherit it.
    """
    if FOLDER_ENV not in os.environ:
        os.environ[FOLDER_ENV] = tempfile.mkdtemp(prefix="ewray-s", dir="/tmp")
        os.environ[OWNER_ENV] = str(os.getpid())
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))


def _ray_command() -> list[str]:
    beside = Path(sys.executable).parent / "ray"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


def join() -> str:
    """The session cluster's address, starting the cluster if need be (see ``prepare``).

    Raises:
        RuntimeError: Ray did not start; the message holds the end of its log.
    """
    if FOLDER_ENV not in os.environ or "RAY_AUTH_TOKEN" not in os.environ:
        msg = "the test session's Ray cluster is prepared by tests/conftest.py, which did not run"
        raise RuntimeError(msg)
    folder = Path(os.environ[FOLDER_ENV])
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = folder / "address"
        if not known.exists():
            known.write_text(_start(folder), encoding="utf-8")
        return known.read_text(encoding="utf-8")


def _start(folder: Path) -> str:
    log_path = folder / "start.log"
    temp = folder / "t"
    env = {**os.environ, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}  # stop at once
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*_ray_command(), "start", "--head", "--block", f"--port={free_port()}",
             f"--num-cpus={os.cpu_count() or 2}", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={temp}"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # Ctrl-C on pytest reaches it through stop() only
    (folder / "pid").write_text(str(process.pid), encoding="utf-8")
    # a session killed before its end (a timeout, kill -9) stops no cluster: a watcher does
    subprocess.Popen([sys.executable, __file__, os.environ.get(OWNER_ENV, str(os.getppid())),
                      str(process.pid), str(folder)], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while READY not in log_path.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            msg = f"the test session's Ray cluster did not start:\n{tail}"
            raise RuntimeError(msg)
        time.sleep(0.2)
    # the address Ray listens on (the machine's, which Ray puts for 127.0.0.1 anyway)
    return (temp / "ray_current_cluster").read_text(encoding="utf-8").strip()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return state[0] != "Z"


def _stop_cluster(pid: int) -> None:
    """Stop ``ray start --block`` (it stops every process of its cluster on SIGTERM)."""
    for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5)):
        if not _alive(pid):
            return
        if sig == signal.SIGTERM:
            os.kill(pid, sig)
        else:  # what is left of the session it was started in
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def stop() -> None:
    """In the controller, at the end: stop the session's cluster, if a test started it."""
    folder_name = os.environ.get(FOLDER_ENV)
    if not folder_name:
        return
    folder = Path(folder_name)
    pid_file = folder / "pid"
    if pid_file.exists():
        _stop_cluster(int(pid_file.read_text(encoding="utf-8")))
    shutil.rmtree(folder, ignore_errors=True)


def _watch(owner: int, pid: int, folder: Path) -> None:
    """Stop the cluster if the session that owns it ends without stopping it."""
    while _alive(pid):
        if not _alive(owner):
            _stop_cluster(pid)
            shutil.rmtree(folder, ignore_errors=True)
            return
        time.sleep(1)


if __name__ == "__main__":
    _watch(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
