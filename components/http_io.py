"""The ``http`` family: ``http.in`` takes HTTP requests into a flow, ``http.out`` answers them.

A flow with these nodes is served with ``edgewise serve FLOW``, which runs it until stopped.
``http.in`` turns each request's JSON (an object, or a list of objects) into DataFrame rows
whose row ids are ``"<request id>/<row n>"``, so a request's rows keep their request through
every node that keeps row ids (split, filter, route, join with a latest input, predict).
``http.out`` answers each request with its rows as JSON records, once every row of it has
arrived or gone elsewhere (see ``runtime._serve.lineage``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from runtime import ANSWER_TAG, ENDPOINT_TAG, EndpointConfig, Params, component, serving_hub

if TYPE_CHECKING:
    import pandas as pd

    from runtime import ServingHub

ColumnType = Literal["int", "float", "str", "bool"]
PATH = re.compile(r"^/[A-Za-z0-9._~\-/]*$")
RESERVED = ("/health", "/metrics", "/docs", "/redoc", "/openapi.json")
_DTYPES: dict[str, Any] = {"int": "int64", "float": "float64", "str": "str", "bool": "bool"}


def _hub(component_id: str) -> ServingHub:
    hub = serving_hub()
    if hub is None:
        msg = (f"{component_id} answers HTTP requests, so the flow must run as a server: "
               "start it with `edgewise serve FLOW` instead of `edgewise run`")
        raise RuntimeError(msg)
    return hub


class InParams(Params):
    """Settings of ``http.in``."""

    path: str = Field(default="/predict",
                      description="The URL path of the endpoint, e.g. /predict.")
    method: Literal["POST", "PUT", "PATCH"] = Field(
        default="POST", description="The HTTP method of the endpoint.")
    schema_: dict[str, ColumnType] | None = Field(
        default=None, alias="schema",
        description="Column name to type (int, float, str, bool). When set, every object "
                    "must have exactly these fields, of these types, or the request gets 422; "
                    "the endpoint's /docs show them.")
    timeout_ms: int = Field(default=10_000, ge=1, le=600_000,
                            description="Answer 504 if the flow has not answered in this time.")
    max_queued: int = Field(default=64, ge=1, le=100_000,
                            description="Requests that may wait for the flow to take them; "
                                        "past that, new requests get 429 with Retry-After.")
    max_in_flight: int = Field(default=1024, ge=1, le=1_000_000,
                               description="Requests in the flow at once, past which new "
                                           "ones get 429 with Retry-After.")
    batch_window_ms: float = Field(default=0.0, ge=0.0, le=10_000.0,
                                   description="Micro-batching: requests that arrive within "
                                               "this time of the first go out together as "
                                               "one DataFrame (0: each request alone).")
    max_batch_rows: int = Field(default=1024, ge=1, le=1_000_000,
                                description="Micro-batching: the most rows in one DataFrame.")

    model_config = ConfigDict(populate_by_name=True)

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not PATH.match(path) or path in RESERVED or "//" in path:
            msg = (f"'{path}' is not an endpoint path: give a path such as /predict (letters, "
                   f"digits, - . _ ~ and /), not one of {', '.join(RESERVED)}")
            raise ValueError(msg)
        return path

    def endpoint(self) -> EndpointConfig:
        """What the server needs to know of this endpoint."""
        schema: dict[str, str] | None = None if self.schema_ is None else dict(self.schema_)
        return EndpointConfig(path=self.path, method=self.method, schema=schema,
                              timeout_ms=self.timeout_ms, max_queued=self.max_queued,
                              max_in_flight=self.max_in_flight,
                              batch_window_ms=self.batch_window_ms,
                              max_batch_rows=self.max_batch_rows)


@component("http.in", outputs={"data": "DataFrame"}, params=InParams, threaded=True,
           tags=[ENDPOINT_TAG], category="input")
def http_in(*, params: InParams) -> Iterator[pd.DataFrame | None]:
    """Receive HTTP requests: each JSON object (or list of them) becomes DataFrame rows.

    Each request's rows get the row ids ``<request id>/0``, ``/1``, …; the request id is
    also sent back in the ``X-Request-Id`` header of the answer. With ``batch_window_ms``,
    requests that arrive together go out as one DataFrame, and ``http.out`` splits the
    answers back. With a schema, the columns follow it, in its order and types.
    """
    import pandas as pd

    endpoint = _hub("http.in").endpoint(params.path, params.method)
    schema = params.schema_
    while True:
        batch = endpoint.take_batch()
        if batch is None:
            return
        if not batch:
            yield None  # nothing yet: the engine may stop or drain the source now
            continue
        rows = [row for request in batch for row in request.rows]
        index = [f"{r.id}/{n}" for r in batch for n in range(len(r.rows))]
        ids = pd.Index(index, dtype="str")
        if schema:  # column by column: a fifth of the time of from_records and astype
            frame = pd.DataFrame({c: pd.array([row[c] for row in rows], dtype=_DTYPES[k])
                                  for c, k in schema.items()}, index=ids)
        else:
            frame = pd.DataFrame(rows, index=ids)
        frame.attrs["requests"] = [r.id for r in batch]
        yield frame


class OutParams(Params):
    """Settings of ``http.out``."""

    columns: list[str] | None = Field(
        default=None, description="The columns to answer with, in this order (default: all).")
    status: int = Field(default=200, ge=200, le=599,
                        description="The HTTP status code of the answers.")


def _plain(value: Any) -> Any:
    """A value JSON can carry: missing ones null, times ISO text, numpy scalars Python's."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    item = getattr(value, "item", None)
    if item is not None:
        return _plain(item())
    return value


def _by_request(data: pd.DataFrame) -> dict[str, list[int]]:
    """Row positions per request id, in row order."""
    groups: dict[str, list[int]] = {}
    for position, row_id in enumerate(data.index):
        request, sep, _n = str(row_id).partition("/")
        if sep:
            groups.setdefault(request, []).append(position)
    return groups


@component("http.out", inputs={"data": "DataFrame"}, params=OutParams, category="output",
           tags=[ANSWER_TAG])
def http_out(data: pd.DataFrame, *, params: OutParams) -> None:
    """Answer HTTP requests: each request gets its rows back as JSON records, exactly once.

    A request is answered when every row of it has arrived here or gone elsewhere
    (filtered away, or to an error port), with all the rows that arrived, in arrival order,
    so rows split or routed on the way are answered together. A request none of whose rows
    arrive gets 500 with the error if they failed in a node, ``[]`` if they were filtered
    away, and 504 at its ``http.in``'s timeout if a node kept them. Rows of a request
    answered already (or timed out, or not from ``http.in``) go to the error port.
    """
    hub = _hub("http.out")
    if params.columns is not None:
        missing = [c for c in params.columns if c not in data.columns]
        if missing:
            msg = (f"http.out: column(s) {missing} are not in the rows (they have "
                   f"{list(data.columns)}); fix the node's 'columns'")
            raise KeyError(msg)
        data = data[params.columns]
    names = [str(c) for c in data.columns]
    groups = _by_request(data)
    refused = [str(i) for i in data.index if "/" not in str(i)]
    values = data.to_numpy(dtype=object).tolist()
    for request, positions in groups.items():
        records = [{n: _plain(v) for n, v in zip(names, values[p], strict=True)}
                   for p in positions]
        if not hub.deliver(request, params.status, records):
            refused.extend(str(data.index[p]) for p in positions)
    if refused:
        shown = ", ".join(refused[:5]) + (" …" if len(refused) > 5 else "")
        msg = (f"{len(refused)} row(s) belong to no request waiting for an answer ({shown}): "
               "their request was answered already or timed out, or they did not come "
               "from http.in")
        raise LookupError(msg)
