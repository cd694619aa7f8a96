"""The flow file format, version 1, as pydantic models, and reading flows from disk."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, Literal, get_args

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core.core_schema import ErrorType

from runtime._errors import FlowFileError, FlowInvalidError, Problem
from runtime._terminal import excerpt

NODE_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
PORT_REF_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*$"
FORMAT_VERSION = 1
MAX_FLOW_BYTES = 16 * 2**20  # the biggest flow file read: 16 MiB


class Position(BaseModel):
    """Where the editor draws a node, in canvas coordinates."""

    model_config = ConfigDict(extra="forbid")

    x: float = Field(description="Horizontal position on the canvas.")
    y: float = Field(description="Vertical position on the canvas.")


MAX_REPLICAS = 64
SCALE_KEYS = ("replicas", "ordered", "resources")
"""The node keys that say how an engine that scales out runs the node (beside ``params``)."""


def _unset(value: Any) -> bool:
    return value is None


class Resources(BaseModel):
    """What one copy of a node needs on an engine that places work (Ray): only keys set count."""

    model_config = ConfigDict(extra="forbid")

    num_cpus: float | None = Field(
        default=None, ge=0, strict=True, allow_inf_nan=False, exclude_if=_unset,
        description="CPU cores reserved for each copy of the node (fractions allowed).")
    num_gpus: float | None = Field(
        default=None, ge=0, strict=True, allow_inf_nan=False, exclude_if=_unset,
        description="GPUs reserved for each copy of the node (fractions allowed).")
    memory: int | None = Field(
        default=None, ge=0, strict=True, exclude_if=_unset,
        description="Memory reserved for each copy of the node, in bytes.")

    def reserved(self) -> dict[str, float]:
        """The keys that are set, with their values (``memory`` stays a whole number)."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items()}


class Node(BaseModel):
    """One instance of a component in a flow."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NODE_ID_PATTERN, description="Unique id of the node in this flow.")
    component: str = Field(min_length=1, description="Id of the component, e.g. 'ml.fit'.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Settings of the component, checked against its schema."
    )
    label: str | None = Field(default=None, description="Optional display name.")
    position: Position | None = Field(default=None, description="Optional canvas position.")
    # How an engine that scales out (Ray) runs the node; left out of the file at their defaults.
    replicas: int = Field(
        default=1, ge=1, le=MAX_REPLICAS, strict=True, exclude_if=lambda v: v == 1,
        description="Copies of the node run in parallel on the Ray engine (the local engine "
                    "runs one); only for a stateless node with one stream input.")
    ordered: bool = Field(
        default=True, strict=True, exclude_if=lambda v: v is True,
        description="With replicas, outputs keep the order of the inputs; false lets them "
                    "go in the order the copies finish.")
    resources: Resources | None = Field(
        default=None, exclude_if=_unset,
        description="What each copy of the node needs on the Ray engine: num_cpus, "
                    "num_gpus, memory (bytes).")


class Edge(BaseModel):
    """A connection from an output port to an input port."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(pattern=PORT_REF_PATTERN, description="'<node>.<output port>'.")
    target: str = Field(pattern=PORT_REF_PATTERN, description="'<node>.<input port>'.")

    @property
    def id(self) -> str:
        """The edge identity, ``"<source>-><target>"``."""
        return f"{self.source}->{self.target}"

    @property
    def source_node(self) -> str:
        """The node the edge leaves."""
        return self.source.split(".", 1)[0]

    @property
    def source_port(self) -> str:
        """The output port the edge leaves."""
        return self.source.split(".", 1)[1]

    @property
    def target_node(self) -> str:
        """The node the edge enters."""
        return self.target.split(".", 1)[0]

    @property
    def target_port(self) -> str:
        """The input port the edge enters."""
        return self.target.split(".", 1)[1]


class Flow(BaseModel):
    """A whole flow file."""

    model_config = ConfigDict(extra="forbid", title="Edgewise flow")

    edgewise: Literal[1] = Field(description="The format version; always 1.")

    @field_validator("edgewise", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            msg = "the format version must be the number 1, not a boolean"
            raise ValueError(msg)
        return value
    name: str = Field(min_length=1, description="Name of the flow.")
    description: str | None = Field(default=None, description="Optional free text.")
    nodes: list[Node] = Field(description="The nodes of the flow.")
    edges: list[Edge] = Field(description="The edges of the flow.")
    meta: dict[str, Any] = Field(
        default_factory=dict, description="Free-form data that belongs to the editor."
    )

    def node(self, node_id: str) -> Node | None:
        """Return the node with this id, or None."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        return None

    def to_json_text(self) -> str:
        """Serialise as the canonical, indented JSON text of a flow file."""
        data = self.model_dump(mode="json", exclude_none=True)
        for node in data["nodes"]:
            if not node.get("params"):
                node.pop("params", None)
        if not data.get("meta"):
            data.pop("meta", None)
        return json.dumps(data, indent=2) + "\n"


def flow_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the flow file format."""
    return Flow.model_json_schema()


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "flow"


VALUE_ERROR_PREFIX = "Value error, "
# what pydantic itself reports; any other error type is raised by our own validators
PYDANTIC_ERRORS = frozenset(get_args(ErrorType)) - {"value_error", "assertion_error"}


def error_text(err: Any) -> str:
    """What one pydantic error says, for a problem message.

    Pydantic's own errors ("Input should be a valid integer") get the value given. An error
    raised by one of our validators already says what is wrong (and quotes what it needs
    to): it loses pydantic's "Value error, " prefix and is not followed by the whole value,
    which may be the whole code of a function.
    """
    message = str(err.get("msg", ""))
    if err.get("type") not in PYDANTIC_ERRORS:
        return message.removeprefix(VALUE_ERROR_PREFIX)
    return f"{message} (got {excerpt(err.get('input'))})"


def _schema_problem(err: Any, data: Any) -> Problem:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    node_id: str | None = None
    edge_id: str | None = None
    if len(loc) >= 2 and loc[0] in ("nodes", "edges") and isinstance(loc[1], int):
        try:
            item = data[loc[0]][loc[1]]
        except (KeyError, IndexError, TypeError):
            item = None
        if isinstance(item, dict):
            if loc[0] == "nodes" and isinstance(item.get("id"), str):
                node_id = item["id"]
            if loc[0] == "edges":
                edge_id = f"{item.get('source')}->{item.get('target')}"
    kind = err["type"]
    field = loc[-1] if loc else None
    if kind == "extra_forbidden":
        message = f"unknown key '{field}' (not part of the flow format, version 1)"
    elif kind == "missing":
        message = f"required key '{field}' is missing"
    elif kind == "literal_error" and loc == ("edgewise",):
        message = f"unsupported format version {err.get('input')!r}; this Edgewise reads version 1"
    elif kind == "string_pattern_mismatch" and field == "id":
        message = (
            f"node id {err.get('input')!r} is not valid: start with a letter, then use "
            "letters, digits, '_' or '-'"
        )
    elif kind == "string_pattern_mismatch" and field in ("source", "target"):
        message = f"{field} {err.get('input')!r} must look like '<node>.<port>'"
    else:
        message = error_text(err)
    where = _where(loc)
    if node_id:
        prefix = f"node '{node_id}' ({where})"
    elif edge_id:
        prefix = f"edge '{edge_id}' ({where})"
    else:
        prefix = where
    return Problem(message=f"{prefix}: {message}", code="schema", node=node_id, edge=edge_id,
                   where=where)


def parse_flow(data: Any) -> Flow:
    """Check a decoded flow document against the format and return it as a Flow.

    Raises:
        FlowInvalidError: listing every place where the document breaks the format.
    """
    if not isinstance(data, dict):
        msg = "a flow file must hold a JSON object"
        raise FlowInvalidError([Problem(message=msg, code="schema", where="flow")])
    try:
        return Flow.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = [_schema_problem(err, data) for err in exc.errors()]
        raise FlowInvalidError(problems) from exc


class _IntTooLong(Exception):
    """A whole number in the JSON text has more digits than Python will convert."""

    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _parse_int(literal: str) -> int:
    if len(literal) - literal.startswith("-") > sys.get_int_max_str_digits() > 0:
        raise _IntTooLong(literal)
    return int(literal)


def file_kind(mode: int) -> str:
    """Name the kind of file an ``st_mode`` describes, for messages ("a folder", ...)."""
    kinds = ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


def _read_capped(path: Path) -> bytes:
    """Read a regular file of at most MAX_FLOW_BYTES, refusing anything else unread."""
    try:
        # O_NONBLOCK: a named pipe opens at once instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        msg = f"{path}: no such flow file"
        raise FlowFileError(msg) from exc
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise FlowFileError(msg) from exc
    chunks: list[bytes] = []
    size = 0
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            msg = f"{path}: is a folder, not a flow file"
            raise FlowFileError(msg)
        if not stat.S_ISREG(mode):
            msg = f"{path}: is {file_kind(mode)}, not a flow file"
            raise FlowFileError(msg)
        while size <= MAX_FLOW_BYTES:
            chunk = os.read(fd, MAX_FLOW_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise FlowFileError(msg) from exc
    finally:
        os.close(fd)
    if size > MAX_FLOW_BYTES:
        msg = (f"{path}: is bigger than {MAX_FLOW_BYTES // 2**20} MiB, the most a flow file "
               "may hold; keep data in files the flow reads, not in the flow file")
        raise FlowFileError(msg)
    return b"".join(chunks)


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"{line}:{column}"


def read_flow_document(path: str | Path) -> Any:
    """Read and decode a flow file, without checking it against the format.

    Only a regular file of at most ``MAX_FLOW_BYTES`` (16 MiB) is read; a bigger file, a
    device, a pipe or a folder is refused without reading more than that.

    Raises:
        FlowFileError: the file is missing, unreadable, too big, not a regular file, or not
            valid JSON.
    """
    path = Path(path)
    data = _read_capped(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise FlowFileError(msg) from exc
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        msg = f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        raise FlowFileError(msg) from exc
    except _IntTooLong as exc:
        digits = len(exc.literal) - exc.literal.startswith("-")
        where = _line_col(text, max(text.find(exc.literal), 0))
        msg = (f"{path}:{where}: a whole number of {digits:,} digits is too long (at most "
               f"{sys.get_int_max_str_digits():,}); write it in quotes if it is text")
        raise FlowFileError(msg) from exc
    except RecursionError as exc:
        msg = f"{path}: the JSON is nested too deeply to be a flow file"
        raise FlowFileError(msg) from exc


def load_flow(path: str | Path) -> Flow:
    """Read a flow file and check it against the format (not yet against the components)."""
    return parse_flow(read_flow_document(path))
