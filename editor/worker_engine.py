"""The engine of a run in the worker process, made from the name the run menu chose."""

from __future__ import annotations

import runtime.engines


def make_engine(name: str) -> tuple[runtime.engines.Engine | None, str | None]:
    """The engine called ``name``, started or reached; or why it cannot run here.

    ``local`` is None (the default of ``Run``). ``ray`` starts an embedded Ray in this
    process, or joins the cluster that ``RAY_ADDRESS`` names; Ray is imported only then.
    The reason is one line, such as how to install Ray.
    """
    if name != "ray":
        return None, None
    engine = runtime.engines.RayEngine()
    try:
        engine.connect()
    except runtime.engines.EngineUnavailable as exc:
        return None, f"cannot run on Ray: {exc}"
    return engine, None
