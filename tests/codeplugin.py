"""Plugins installed for tests: ``write_dist`` lays a distribution out as site-packages does.

It also holds a plugin family whose components run Python text from their params, as code
nodes do. CLI and editor processes started with ``plugin_env(site)`` discover what is
installed in ``site`` through the entry-point group.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

SOURCE = '''
    """Runs code from its params."""
    from pydantic import Field

    from runtime import Params, component


    class ExecParams(Params):
        """Settings."""

        code: str = Field(description="Python statements to run.")


    @component("codetest.exec", outputs={"data": "int"}, params=ExecParams, runs_code=True)
    def run_code(*, params):
        """Run Python statements, then emit 1."""
        exec(params.code)
        yield 1


    @component("codetest.each", inputs={"data": "int"}, outputs={"data": "int"},
               params=ExecParams, runs_code=True)
    def each(data, *, params):
        """Run Python statements for each message."""
        exec(params.code)
        return data
'''


def write_dist(site: Path, dist: str, entry_points: dict[str, str],
               modules: dict[str, str]) -> None:
    """Install a distribution ``dist`` into ``site``: its components and module sources."""
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n",
                                   encoding="utf-8")
    lines = ["[edgewise.components]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


def install(site: Path) -> Path:
    """Write the code-running plugin distribution into ``site``; returns ``site``."""
    write_dist(site, "ew-code-plugin", {"codetest": "ew_code_plugin"},
               {"ew_code_plugin": SOURCE})
    return site


def plugin_env(site: Path) -> dict[str, str]:
    """Environment additions that let a child process find the plugin installed in ``site``."""
    return {"PYTHONPATH": os.pathsep.join([str(site), *filter(None, [
        os.environ.get("PYTHONPATH")])])}
