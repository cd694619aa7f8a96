"""A plugin family whose components run Python text from their params, as code nodes do.

Installed into a folder laid out like site-packages, so that CLI and editor processes
started with ``plugin_env(site)`` discover it through the entry-point group.
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


def install(site: Path) -> Path:
    """Write the plugin distribution into ``site``; returns ``site``."""
    info = site / "ew_code_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ew-code-plugin\nVersion: 0.1\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text("[edgewise.components]\ncodetest = ew_code_plugin\n",
                                          encoding="utf-8")
    (site / "ew_code_plugin.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    return site


def plugin_env(site: Path) -> dict[str, str]:
    """Environment additions that let a child process find the plugin installed in ``site``."""
    return {"PYTHONPATH": os.pathsep.join([str(site), *filter(None, [
        os.environ.get("PYTHONPATH")])])}
