"""Run workers are forked from a warm template process, which ends with its editor.

Each test drives a small "editor" (a Python process using ``RunWorker``) and looks at the
processes it leaves: who their parent is, what they have loaded, which files they hold.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import editor.worker

REPO = Path(__file__).resolve().parents[2]

# The editor side: holds a listening socket (as the web server does), starts a worker,
# says its pids, runs iris.json, then waits for commands on stdin.
EDITOR = """
import asyncio, json, socket, sys
from pathlib import Path
import editor.worker_start
if sys.argv[2]:
    editor.worker_start.TEMPLATE = sys.argv[2]
from editor.worker import RunWorker

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()

def say(*words):
    print(*words, flush=True)

async def run_once(folder):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    def take(message):
        if message[0] in ("ready", "started", "ended", "invalid", "crashed"):
            loop.call_soon_threadsafe(say, message[0])
        if message[0] in ("ended", "invalid", "crashed") and not done.done():
            loop.call_soon_threadsafe(done.set_result, message[0])
    worker = RunWorker(take)
    worker.spawn()
    say("pids", worker.pid(), __import__("os").getpid(), server.fileno())
    flow = json.loads((folder / "iris.json").read_text())
    worker.run(flow, folder, "iris.json")
    await asyncio.wait_for(done, 120)
    return worker

async def main():
    folder = Path(sys.argv[1])
    workers = [await run_once(folder)]
    for line in sys.stdin:
        if line.strip() == "again":
            workers.append(await run_once(folder))
        elif line.strip() == "alive":
            say("alive", workers[0].alive)
        elif line.strip() == "close":
            workers[0].close()
            say("closed")

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie does not)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[1])


def gone_soon(*pids: int, within: float = 30.0) -> bool:
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(alive(p) for p in pids)


class Editor:
    """The editor script as a child process, spoken to line by line."""

    def __init__(self, tmp: Path, template: str = "") -> None:
        folder = tmp / "flows"
        shutil.copytree(REPO / "flows", folder, ignore=shutil.ignore_patterns("out", ".edgewise"))
        self.process = subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(folder), template], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join((str(REPO), str(tmp)))})

    def read_until(self, word: str) -> list[str]:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            assert line, f"the editor ended before saying {word!r}: {self.errors()}"
            if line.split()[0] == word:
                return line.split()

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def errors(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def run_pids(self) -> tuple[int, int, int]:
        """Wait for a run to end; its worker's pid, the editor's, and the server socket's fd."""
        _, worker, editor, fd = self.read_until("pids")
        assert self.read_until("ended") == ["ended"]
        return int(worker), int(editor), int(fd)

    def kill(self, *pids: int) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def socket_of(pid: int, fd: int) -> str:
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def open_files(pid: int) -> list[str]:
    folder = Path(f"/proc/{pid}/fd")
    found = []
    for entry in folder.iterdir():
        try:
            found.append(os.readlink(entry))
        except OSError:
            continue
    return found


def sockets(pid: int) -> set[str]:
    return {f for f in open_files(pid) if f.startswith("socket:")}


def test_workers_are_forked_from_a_warm_template_that_ends_with_the_editor(
        tmp_path: Path) -> None:
    editor = Editor(tmp_path)
    worker = template = 0
    try:
        worker, editor_pid, fd = editor.run_pids()
        template = parent_of(worker)
        # the worker's parent is the template, a child of the editor, not the editor itself
        assert template != editor_pid and parent_of(template) == editor_pid
        command = Path(f"/proc/{template}/cmdline").read_text()
        assert "multiprocessing.forkserver" in command, command
        maps = Path(f"/proc/{template}/maps").read_text()
        assert "pandas/_libs" in maps and "sklearn" in maps and "pyarrow" in maps
        # it forks with its main thread alone (no other thread can hold a lock at a fork):
        # no allocator thread of pyarrow's jemalloc, no BLAS pool left running
        threads = [Path(f"/proc/{template}/task/{t}/comm").read_text().strip()
                   for t in os.listdir(f"/proc/{template}/task")]
        assert len(threads) == 1, threads
        # neither holds the editor's server socket (nor any other socket of the editor)
        server = socket_of(editor_pid, fd)
        assert server.startswith("socket:")
        assert server not in open_files(template) and server not in open_files(worker)

        editor.tell("again")  # the next worker comes from the same template
        second, _, _ = editor.run_pids()
        assert second != worker and parent_of(second) == template

        # a worker closed is gone, and so is the editor's end of its pipe (no leak)
        before = sockets(editor_pid)
        editor.tell("close")
        editor.read_until("closed")
        assert gone_soon(worker)
        deadline = time.monotonic() + 30
        while len(before - sockets(editor_pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(before - sockets(editor_pid)) == 1, (before, sockets(editor_pid))

        editor.process.send_signal(signal.SIGKILL)
        editor.process.wait(30)
        assert gone_soon(worker, second, template), "the template or a worker outlived the editor"
    finally:
        editor.kill(worker, template)


def test_a_template_that_cannot_start_leaves_workers_spawned_as_before(tmp_path: Path) -> None:
    (tmp_path / "dying_template.py").write_text("import os\nos._exit(3)\n")
    editor = Editor(tmp_path, "dying_template")
    worker = 0
    try:
        worker, editor_pid, _ = editor.run_pids()
        assert parent_of(worker) == editor_pid  # spawned by the editor itself
        editor.tell("again")
        second, _, _ = editor.run_pids()
        assert parent_of(second) == editor_pid
        editor.tell("close")
        editor.read_until("closed")
        assert gone_soon(worker)
        editor.process.stdin.close()  # type: ignore[union-attr]
        editor.process.wait(30)
        assert "cannot be forked from a template process" in editor.errors()
    finally:
        editor.kill(worker)


def test_a_killed_template_is_replaced_and_its_workers_can_still_be_ended(
        tmp_path: Path) -> None:
    editor = Editor(tmp_path)
    worker = template = 0
    try:
        worker, editor_pid, _ = editor.run_pids()
        template = parent_of(worker)
        os.kill(template, signal.SIGKILL)
        assert gone_soon(template)
        # the worker of the last run waits on (for inspections): the editor still sees it
        editor.tell("alive")
        assert editor.read_until("alive") == ["alive", "True"]
        editor.tell("again")  # a new template is started for the next run
        second, _, _ = editor.run_pids()
        assert parent_of(second) not in (template, editor_pid), editor.errors()
        assert parent_of(parent_of(second)) == editor_pid
        editor.tell("close")  # ending the orphaned worker still works
        editor.read_until("closed")
        assert gone_soon(worker), "the worker of a killed template could not be ended"
    finally:
        editor.kill(worker, template)


PROBE = '''"""A workspace plugin that says what the worker's environment holds."""
import os

from runtime import component


@component("demo.probe", inputs={"data": "Any"}, outputs={"data": "Any"})
def probe(data):
    """The value of EDGEWISE_FORK_PROBE in the process that runs the node."""
    return os.environ.get("EDGEWISE_FORK_PROBE", "unset")
'''

# Runs the probe flow twice with plugins; the editor changes its environment in between.
ENV_EDITOR = """
import asyncio, json, os, sys
from pathlib import Path
from editor.worker import RunWorker

async def run_once(folder):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    shown = []
    def take(message):
        if message[0] == "debug":
            shown.extend(entry["text"] for entry in message[1])
        if message[0] in ("ended", "invalid", "crashed") and not done.done():
            loop.call_soon_threadsafe(done.set_result, message[0])
    worker = RunWorker(take)
    flow = json.loads((folder / "probe.json").read_text())
    worker.run(flow, folder, "probe.json", plugins=True)
    outcome = await asyncio.wait_for(done, 120)
    stat = Path(f"/proc/{worker.pid()}/stat").read_text()
    parent = stat.split(")")[-1].split()[1]
    print(outcome, parent == str(os.getpid()), parent, *shown, flush=True)
    worker.close()

async def main():
    folder = Path(sys.argv[1])
    await run_once(folder)
    os.environ["EDGEWISE_FORK_PROBE"] = "changed"
    await run_once(folder)

asyncio.run(main())
"""


def test_a_forked_worker_sees_the_editors_environment_of_now(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "probe.py").write_text(PROBE)
    (tmp_path / "probe.json").write_text(json.dumps({
        "edgewise": 1, "name": "probe",
        "nodes": [{"id": "numbers", "component": "stream.range", "params": {"count": 1}},
                  {"id": "probe", "component": "demo.probe"},
                  {"id": "show", "component": "debug"}],
        "edges": [{"source": "numbers.data", "target": "probe.data"},
                  {"source": "probe.data", "target": "show.data"}]}))
    env = {k: v for k, v in os.environ.items() if k != "EDGEWISE_FORK_PROBE"}
    done = subprocess.run([sys.executable, "-c", ENV_EDITOR, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          env={**env, "PYTHONPATH": str(REPO)}, check=False)
    lines = [line.split() for line in done.stdout.splitlines()]
    assert len(lines) == 2, done.stdout + done.stderr
    (first, first_spawned, first_parent, first_seen), (second, _, second_parent,
                                                       second_seen) = lines
    assert first == second == "ended"
    # both forked from the one template, which started with the editor's first environment
    assert first_spawned == "False" and first_parent == second_parent
    assert first_seen == "'unset'" and second_seen == "'changed'"


def _cannot_start(*_args: object) -> None:
    msg = "[Errno 11] Resource temporarily unavailable"
    raise OSError(msg)


@pytest.mark.parametrize("spawned_first", [False, True])
def test_a_worker_that_cannot_start_says_so_once(monkeypatch: pytest.MonkeyPatch,
                                                 spawned_first: bool) -> None:
    """No run waits for a worker that never started (its start runs off the event loop)."""
    monkeypatch.setattr(editor.worker, "start_process", _cannot_start)
    told: list[tuple[Any, ...]] = []
    before = set(threading.enumerate())

    async def main() -> None:
        worker = editor.worker.RunWorker(told.append)
        if spawned_first:  # the start has failed before Run is pressed
            worker.spawn()
            assert worker.pid() is None
        worker.run({"edgewise": 1, "nodes": [], "edges": []}, Path.cwd())
        for thread in set(threading.enumerate()) - before:  # its pipe's reader ends
            if thread.name == "edgewise-run-reader":
                await asyncio.to_thread(thread.join, 30)
        assert not worker.running and not worker.alive

    asyncio.run(main())
    assert len(told) == 1, told
    assert told[0][0] == "crashed"
    assert "the worker process could not start" in told[0][1]
    assert "Resource temporarily unavailable" in told[0][1]
