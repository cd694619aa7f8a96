"""The ``python`` family: the function node, running the user's own Python code on each message.

``python.function`` is Node-RED's function node for Python. Its ``code`` param holds a
module that defines ``process(data, params)`` and, optionally, ``setup()`` and ``end()``.
Its ports are one input ``data`` and one output ``data`` unless its params declare others.
The code runs with the full power of Python on the machine that runs the flow: **anyone who
can edit a flow can run code**. A flow file holding such a node is code, not data, so it runs
only once trusted (``edgewise trust``; see the README's Security model).
"""

from __future__ import annotations

import builtins
import copy
import inspect
import re
import threading
import traceback
from collections.abc import Generator, Iterator
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from components._python_code import CODE_FILE, code_problem
from runtime import Params, PortDecl, component, latest, plain

PORT_NAME = re.compile(r"[a-z][a-z0-9_]*")
CODE_FORMAT = "python-code"
DEFAULT_CODE = '''def process(data, params):
    """Return the value to send on, or None to send nothing."""
    return data
'''


class UserCodeError(Exception):
    """The node's own code raised; the message names the line of the code at fault."""


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



def _port_names(names: list[str], side: str, reserved: tuple[str, ...]) -> list[str]:
    """Check a list of port names: snake_case, unique, none of the reserved names."""
    seen: set[str] = set()
    for name in names:
        if name in reserved:
            why = ("it is the built-in error output" if name == "error"
                   else "process already takes the node's config by that name")
            msg = f"{side} port name '{name}' is taken ({why}); choose another name"
            raise ValueError(msg)
        if not PORT_NAME.fullmatch(name):
            msg = (f"{side} port name {plain(repr(name))} must be snake_case: lowercase "
                   "letters, digits and _, starting with a letter (e.g. 'lookup')")
            raise ValueError(msg)
        if name in seen:
            msg = f"{side} port name '{name}' is listed twice; each port needs its own name"
            raise ValueError(msg)
        seen.add(name)
    return names


class FunctionParams(Params):
    """Settings of ``python.function``."""

    inputs: list[str] = Field(
        default_factory=lambda: ["data"], min_length=1,
        description="The node's input ports, in order (snake_case names). With one input, "
                    "process gets its message as the first argument, whatever its name; "
                    "with several, process takes one argument named after each port, plus "
                    "params, e.g. process(left, right, params).")
    latest_inputs: list[str] = Field(
        default_factory=list,
        description="Those of the inputs that are 'latest' inputs: each keeps its most "
                    "recent message and gives it to every call (a lookup table, a model), "
                    "instead of pairing one message with one message of the other inputs.")
    outputs: list[str] = Field(
        default_factory=lambda: ["data"],
        description="The node's output ports, in order (snake_case names). With one output, "
                    "what process returns is sent on it; with several, process returns a "
                    "dict of output port to value, and a port left out (or None) sends "
                    "nothing. With none, process must return None.")
    code: str = Field(
        default=DEFAULT_CODE, validate_default=True,
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

    @field_validator("inputs")
    @classmethod
    def _valid_inputs(cls, names: list[str]) -> list[str]:
        return _port_names(names, "input", ("error", "params"))

    @field_validator("outputs")
    @classmethod
    def _valid_outputs(cls, names: list[str]) -> list[str]:
        return _port_names(names, "output", ("error",))

    @field_validator("latest_inputs")
    @classmethod
    def _among_inputs(cls, names: list[str], info: ValidationInfo) -> list[str]:
        inputs = info.data.get("inputs")
        for name in names:
            if inputs is not None and name not in inputs:
                msg = (f"latest input {plain(repr(name))} is not one of the inputs "
                       f"({', '.join(inputs)}); add it to 'inputs' or remove it here")
                raise ValueError(msg)
        if len(set(names)) != len(names):
            msg = "a latest input is listed twice"
            raise ValueError(msg)
        return names

    @field_validator("code")
    @classmethod
    def _compiles(cls, code: str, info: ValidationInfo) -> str:
        problem = code_problem(code, info.data.get("inputs"))
        if problem is not None:
            raise ValueError(problem)
        return code


def function_inputs(params: FunctionParams) -> dict[str, PortDecl]:
    """The input ports the params declare, the ``latest`` ones marked so."""
    return {name: latest() if name in params.latest_inputs else "Any"
            for name in params.inputs}


def function_outputs(params: FunctionParams) -> dict[str, PortDecl]:
    """The output ports the params declare."""
    return dict.fromkeys(params.outputs, "Any")


@component("python.function", inputs=function_inputs, outputs=function_outputs,
           params=FunctionParams, runs_code=True, threaded=True)
class Function:
    """Run your own Python function on each message (code: anyone who edits it runs code).

    ``code`` defines ``process(data, params)``: ``data`` is the message (a private copy,
    for DataFrames, dicts and lists: changing it changes nothing upstream), ``params`` is the
    node's ``config`` object. Return the value to send on; ``None`` sends nothing; a
    generator (``yield``) sends one message per value. Optional
    ``setup()`` runs once before the first message (keep state in module globals) and
    ``end()`` once after the last; what ``end()`` returns is sent too.

    The ports are one input ``data`` and one output ``data`` unless ``inputs`` and
    ``outputs`` declare others. With several inputs, ``process`` takes one argument named
    after each, plus ``params`` (``def process(left, right, params)``), and is called once
    per message of each stream input, the ``latest_inputs`` giving their most recent
    message. With several outputs, it returns (or yields) a dict of output port to value;
    a port left out sends nothing.

    An exception in the code (any ``BaseException``: ``sys.exit()`` and
    ``KeyboardInterrupt`` too) becomes an error record naming the line of the code that
    raised, and the flow goes on. The code runs with the full power of Python, so a flow
    file holding this node runs only once trusted (``edgewise trust FLOW``).
    """

    def __init__(self, params: FunctionParams) -> None:
        self.lines = params.code.splitlines()
        self.config = copy.deepcopy(params.config)
        self.inputs = list(params.inputs)
        self.outputs = list(params.outputs)
        self.scope: dict[str, Any] = {"__name__": "edgewise_node_code",
                                      "__builtins__": builtins}
        self._guard(lambda: exec(compile(params.code, CODE_FILE, "exec",  # noqa: S102
                                         dont_inherit=True), self.scope))
        setup = self.scope.get("setup")
        if callable(setup):
            self._guard(setup)

    def _guard(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = call(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the code's own failure is contained
            raise self._error(exc) from exc
        return self._guarded(result) if inspect.isgenerator(result) else result

    def _guarded(self, values: Generator[Any, Any, Any]) -> Iterator[Any]:
        """Messages yielded by the code, one each; an error names the line, as above.

        Each value is taken with ``next`` inside the ``try``, so that what the code raises
        is told apart from the ``GeneratorExit`` that closing this generator raises at its
        ``yield``, which must pass through.
        """
        while True:
            try:
                value = next(values)
            except StopIteration:
                return
            except BaseException as exc:  # noqa: BLE001 - as in _guard
                raise self._error(exc) from exc
            try:
                yield value
            except GeneratorExit:
                values.close()
                raise

    def _error(self, exc: BaseException) -> UserCodeError:
        """The error record's exception for what the code raised, naming its line.

        Anything the code raises is contained, ``BaseException`` included: ``sys.exit()``,
        ``raise KeyboardInterrupt`` or a class derived from ``BaseException`` must not end
        the run (or the editor's worker). A real Ctrl+C is not the code's doing, but Python
        delivers it only to the main thread, and this threaded node's code runs in a
        worker thread, so a ``KeyboardInterrupt`` seen here was raised by the code. Should
        the code run on the main thread after all, its ``KeyboardInterrupt`` may be the
        user's Ctrl+C, and is let through to stop the run.
        """
        if (isinstance(exc, KeyboardInterrupt)
                and threading.current_thread() is threading.main_thread()):
            raise exc
        return UserCodeError(f"{_where(exc, self.lines)}: {type(exc).__name__}: {exc}")

    def _sent(self, result: Any, function: str) -> Iterator[dict[str, Any]]:
        """What ``process`` or ``end`` returned or yielded, as dicts of output port to value."""
        generated = inspect.isgenerator(result)
        verb = "yielded" if generated else "returned"
        for value in result if generated else (result,):
            if value is None:
                continue
            kind = type(value).__name__
            kind = f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"
            if not self.outputs:
                msg = (f"'{function}' {verb} {kind}, but this node has no "
                       "outputs; return None, or declare an output in 'outputs'")
                raise UserCodeError(msg)
            if len(self.outputs) == 1:
                yield {self.outputs[0]: value}
                continue
            ports = ", ".join(self.outputs)
            if not isinstance(value, dict):
                msg = (f"'{function}' {verb} {kind}, but this node has "
                       f"several outputs ({ports}): return a dict of output port to value")
                raise UserCodeError(msg)
            unknown = [plain(repr(port)) for port in value if port not in self.outputs]
            if unknown:
                msg = (f"'{function}' {verb} a value for {', '.join(unknown)}, which is not "
                       f"an output of this node; its outputs are: {ports}")
                raise UserCodeError(msg)
            sent = {port: item for port, item in value.items() if item is not None}
            if sent:
                yield sent

    def __call__(self, **inputs: Any) -> Iterator[dict[str, Any]]:
        """Call the code's ``process`` on one message; send what it returns or yields."""
        process = self.scope["process"]
        if len(self.inputs) == 1:
            result = self._guard(process, _private(inputs[self.inputs[0]]), self.config)
        else:
            named = {name: _private(inputs[name]) for name in self.inputs}
            result = self._guard(process, **named, params=self.config)
        yield from self._sent(result, "process")

    def end(self) -> Iterator[dict[str, Any]]:
        """Call the code's ``end``, if it has one, and send what it returns or yields."""
        end = self.scope.get("end")
        if callable(end):
            yield from self._sent(self._guard(end), "end")
