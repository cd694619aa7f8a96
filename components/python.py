"""The ``python`` family: the function node, running the user's own Python code on each message.

``python.function`` is Node-RED's function node for Python. Its ``code`` param holds a
module that defines ``process(data, params)`` and, optionally, ``setup()`` and ``end()``.
The code runs with the full power of Python on the machine that runs the flow: **anyone who
can edit a flow can run code**. A flow file holding such a node is code, not data, so it runs
only once trusted (``edgewise trust``; see the README's Security model).
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import traceback
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator

from runtime import Params, component

CODE_FILE = "<node code>"
CODE_FORMAT = "python-code"
DEFAULT_CODE = '''def process(data, params):
    """Return the value to send on, or None to send nothing."""
    return data
'''


class UserCodeError(Exception):
    """The node's own code raised; the message names the line of the code at fault."""


def syntax_problem(code: str) -> str | None:
    """Say what keeps ``code`` from being a function node's code, or None when it is fine."""
    try:
        tree = ast.parse(code, CODE_FILE)
    except SyntaxError as exc:
        where = f"line {exc.lineno}, column {exc.offset}" if exc.lineno else "the code"
        text = (exc.text or "").rstrip("\n").strip()
        shown = f": {text}" if text else ""
        return f"syntax error at {where}: {exc.msg}{shown}"
    except ValueError as exc:  # a NUL character
        return f"the code cannot be read: {exc}"
    found = {node.name: node for node in tree.body
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    process = found.get("process")
    if process is None:
        return "the code must define a function 'process(data, params)' at the top level"
    for name, want in (("process", 2), ("setup", 0), ("end", 0)):
        func = found.get(name)
        if func is None:
            continue
        if isinstance(func, ast.AsyncFunctionDef):
            return f"line {func.lineno}: '{name}' must be a plain function, not 'async def'"
        args = func.args
        positional = len(args.posonlyargs) + len(args.args)
        needed = positional - len(args.defaults)
        if needed > want or (positional < want and args.vararg is None):
            shape = "(data, params)" if want == 2 else "()"
            return f"line {func.lineno}: '{name}' must take {shape}"
    return None


def _where(exc: BaseException, lines: list[str]) -> str:
    """'line N (`text`)' for the innermost frame of the node's code in a traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == CODE_FILE]
    if not frames or frames[-1].lineno is None:
        return "the code"
    number = frames[-1].lineno
    text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    return f"line {number} (`{text}`)" if text else f"line {number}"


def _private(value: Any) -> Any:
    """A copy of a message that the code may change without touching what others see."""
    module = type(value).__module__
    if module.startswith("pandas") and hasattr(value, "copy"):
        return value.copy()
    if isinstance(value, dict | list | set):
        return copy.deepcopy(value)
    return value


class FunctionParams(Params):
    """Settings of ``python.function``.

    Ports set by params (``inputs``, ``outputs``) are not offered yet: the node has one
    input ``data`` and one output ``data``.
    """

    code: str = Field(
        default=DEFAULT_CODE,
        description="Python code defining process(data, params), which returns the value to "
                    "send on (None sends nothing); optional setup() runs once before the "
                    "first message and end() once after the last, and what end() returns is "
                    "sent too.",
        json_schema_extra={"format": CODE_FORMAT},
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="A JSON object given to process as its 'params' argument.",
    )

    @field_validator("code")
    @classmethod
    def _compiles(cls, code: str) -> str:
        problem = syntax_problem(code)
        if problem is not None:
            raise ValueError(problem)
        return code


@component("python.function", inputs={"data": "Any"}, outputs={"data": "Any"},
           params=FunctionParams, runs_code=True, threaded=True)
class Function:
    """Run your own Python function on each message (code: anyone who edits it runs code).

    ``code`` defines ``process(data, params)``: ``data`` is the message (a private copy,
    for DataFrames, dicts and lists: changing it changes nothing upstream), ``params`` is the
    node's ``config`` object. Return the value to send on; ``None`` sends nothing; a
    generator (``yield``) sends one message per value. Optional
    ``setup()`` runs once before the first message (keep state in module globals) and
    ``end()`` once after the last; what ``end()`` returns is sent too. An exception in the
    code becomes an error record naming the line of the code that raised, and the flow goes
    on. The code runs with the full power of Python, so a flow file holding this node runs
    only once trusted (``edgewise trust FLOW``).
    """

    def __init__(self, params: FunctionParams) -> None:
        self.lines = params.code.splitlines()
        self.config = copy.deepcopy(params.config)
        self.scope: dict[str, Any] = {"__name__": "edgewise_node_code",
                                      "__builtins__": builtins}
        self._guard(lambda: exec(compile(params.code, CODE_FILE, "exec",  # noqa: S102
                                         dont_inherit=True), self.scope))
        setup = self.scope.get("setup")
        if callable(setup):
            self._guard(setup)

    def _guard(self, call: Any, *args: Any) -> Any:
        try:
            result = call(*args)
        except (Exception, SystemExit) as exc:  # exit() in the code must not end the run
            raise self._error(exc) from exc
        return self._guarded(result) if inspect.isgenerator(result) else result

    def _guarded(self, values: Iterator[Any]) -> Iterator[Any]:
        """Messages yielded by the code, one each; an error names the line, as above."""
        try:
            yield from values
        except (Exception, SystemExit) as exc:
            raise self._error(exc) from exc

    def _error(self, exc: BaseException) -> UserCodeError:
        return UserCodeError(f"{_where(exc, self.lines)}: {type(exc).__name__}: {exc}")

    def __call__(self, data: Any) -> Iterator[Any]:
        """Call the code's ``process`` on one message; send what it returns or yields."""
        result = self._guard(self.scope["process"], _private(data), self.config)
        if inspect.isgenerator(result):
            yield from result
        elif result is not None:
            yield result

    def end(self) -> Any:
        """Call the code's ``end``, if it has one, and send what it returns."""
        end = self.scope.get("end")
        return self._guard(end) if callable(end) else None
