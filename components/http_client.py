"""The ``http_client`` family: ``http.request`` calls an external URL for each row it receives."""

from __future__ import annotations

import json
import re
import string
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from pydantic import Field, field_validator

from runtime import Columns, Params, component, plain

if TYPE_CHECKING:
    import pandas as pd

BODY_METHODS = ("POST", "PUT", "PATCH")
LISTED_FAILURES = 5
"""How many failed rows an error record lists one by one."""


class RequestFailedError(RuntimeError):
    """One or more requests of a message failed; the message names each row, URL and reason."""


def url_fields(url: str) -> list[str]:
    """The ``{column}`` fields of a URL template, in order.

    Raises:
        ValueError: a field is empty, or reaches into a value (``{a.b}``, ``{a[0]}``,
            ``{a!r}``, ``{a:>3}``), which a URL template does not do.
    """
    fields: list[str] = []
    for _text, name, spec, conversion in string.Formatter().parse(url):
        if name is None:
            continue
        if not name or any(c in name for c in ".[]") or spec or conversion:
            msg = (f"the URL field '{{{name}{'!' + conversion if conversion else ''}"
                   f"{':' + spec if spec else ''}}}' is not a plain column name; write "
                   "'{column}' to put a column's value in the URL, and '{{' or '}}' for a "
                   "literal brace")
            raise ValueError(msg)
        fields.append(name)
    return fields


def shown(url: str) -> str:
    """A URL as messages show it: a password in it is hidden."""
    return plain(re.sub(r"^([^:/]+://[^:/@]*):[^@/]*@", r"\1:***@", url))


class RequestParams(Params):
    """Settings of ``http.request``."""

    url: str = Field(
        description="The URL to call, http:// or https://. '{column}' puts that column's "
                    "value of the row in the URL (URL-encoded), e.g. "
                    "'https://api.example.com/items/{id}'.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        default="GET", description="The HTTP method.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Headers sent with every request, e.g. {'Authorization': 'Bearer ...'}.")
    body: Literal["auto", "row", "none"] = Field(
        default="auto",
        description="'row': send the row as a JSON object; 'none': send no body; 'auto': "
                    "the row for POST, PUT and PATCH, nothing for GET and DELETE.")
    columns: list[str] | None = Field(
        default=None,
        description="The columns of the row sent in the body; leave empty to send them all.")
    timeout: float = Field(
        default=10.0, gt=0, le=3600,
        description="Seconds to wait to connect, and then for each part of the answer, "
                    "before the request fails.")
    concurrency: int = Field(
        default=4, ge=1, le=256,
        description="The most requests in flight at once; the rows of a message are sent "
                    "in parallel up to this number.")
    fail_on_status: bool = Field(
        default=True,
        description="Treat an answer whose status is not 2xx as a failure (to the error "
                    "port); otherwise it is emitted like any answer, with its status.")
    keep_columns: bool = Field(
        default=True,
        description="Keep the input's columns next to 'status' and 'response'; otherwise "
                    "emit only those two.")

    @field_validator("url")
    @classmethod
    def _url_template(cls, value: str) -> str:
        url_fields(value)
        if not re.match(r"https?://[^/{}\s]", value, re.IGNORECASE):
            msg = (f"the URL '{shown(value)}' must start with http:// or https:// and a "
                   "host (a '{column}' field may come after the host)")
            raise ValueError(msg)
        return value


def _request_columns(params: Any, inputs: dict[str, Columns]) -> dict[str, Columns]:
    columns = inputs.get("data")
    if not params.keep_columns:
        return {"data": ["status", "response"]}
    if columns is None:
        return {"data": None}
    return {"data": [*(c for c in columns if c not in ("status", "response")),
                     "status", "response"]}


@component("http.request", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=RequestParams, threaded=True, category="http", columns=_request_columns)
class Request:
    """Call a URL once for each row of a DataFrame; emit the answers as a DataFrame.

    Each row makes one request: ``{column}`` fields of ``url`` take the row's values, and
    with a body the row is sent as a JSON object. The rows of a message are sent in
    parallel, never more than ``concurrency`` at once. The output has the same row ids,
    so lineage and ``http.out`` still find where each row came from, with two more
    columns: ``status`` (the HTTP status) and ``response`` (the answer's JSON, decoded,
    or its text when it is not JSON). Redirects are followed.

    If any request of a message fails (no connection, no answer within ``timeout``, or a
    status other than 2xx with ``fail_on_status``), the message goes to the ``error``
    port, with each failed row's URL and reason. To keep the good rows of a message
    whose other rows fail, split it first with ``stream.chunks`` (``rows: 1``).
    """

    def __init__(self, params: RequestParams) -> None:
        import httpx

        self.params = params
        self.fields = url_fields(params.url)
        self.send_body = params.body == "row" or (params.body == "auto"
                                                  and params.method in BODY_METHODS)
        limits = httpx.Limits(max_connections=params.concurrency,
                              max_keepalive_connections=params.concurrency)
        self.client = httpx.Client(timeout=params.timeout, limits=limits,
                                   headers=params.headers, follow_redirects=True)
        self.pool = ThreadPoolExecutor(max_workers=params.concurrency,
                                       thread_name_prefix="http.request")

    def _url(self, row: dict[str, Any], row_id: Any) -> str:
        values: dict[str, str] = {}
        for name in self.fields:
            if name not in row:
                msg = (f"the URL field '{{{name}}}' is not a column of the input (columns: "
                       f"{', '.join(map(str, row))})")
                raise KeyError(msg)
            if row[name] is None:
                msg = f"row {row_id} has no value in column '{name}' for the URL"
                raise ValueError(msg)
            values[name] = quote(str(row[name]), safe="")
        return self.params.url.format_map(values)

    def _body(self, row: dict[str, Any]) -> Any:
        wanted = self.params.columns
        if wanted is None:
            return row
        missing = [c for c in wanted if c not in row]
        if missing:
            msg = (f"columns {missing} of the param 'columns' are not in the input "
                   f"(columns: {', '.join(map(str, row))})")
            raise KeyError(msg)
        return {c: row[c] for c in wanted}

    def _send(self, url: str, body: Any) -> tuple[int, Any] | str:
        """One request: its status and decoded answer, or why it failed."""
        import httpx

        try:
            answer = self.client.request(self.params.method, url,
                                         json=body if self.send_body else None)
        except httpx.TimeoutException:
            return f"no answer within {self.params.timeout:g} s (the param 'timeout')"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {plain(str(exc)) or 'the request failed'}"
        if self.params.fail_on_status and not answer.is_success:
            text = plain(answer.text[:200])
            return f"answered {answer.status_code} {answer.reason_phrase}: {text}"
        if "json" in answer.headers.get("content-type", ""):
            try:
                return answer.status_code, answer.json()
            except ValueError:
                pass
        return answer.status_code, answer.text

    def __call__(self, data: pd.DataFrame) -> pd.DataFrame:
        """Send one request per row; emit the rows with their answers."""
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            msg = f"http.request needs a DataFrame, got {type(data).__name__}"
            raise TypeError(msg)
        taken = [c for c in ("status", "response") if c in data.columns]
        if taken and self.params.keep_columns:
            msg = (f"the input already has column(s) {taken}, which http.request adds; "
                   "rename them first, or set keep_columns to false")
            raise ValueError(msg)
        records = json.loads(data.to_json(orient="records", date_format="iso",
                                          default_handler=str))
        urls = [self._url(row, row_id) for row, row_id in zip(records, data.index,
                                                               strict=True)]
        bodies = [self._body(row) if self.send_body else None for row in records]
        if len(urls) == 1:  # one row: no hand-over to a pool thread
            answers = [self._send(urls[0], bodies[0])]
        else:
            answers = list(self.pool.map(self._send, urls, bodies))
        failed = [(row_id, url, answer) for row_id, url, answer
                  in zip(data.index, urls, answers, strict=True) if isinstance(answer, str)]
        if failed:
            listed = "; ".join(f"row {row_id}: {self.params.method} {shown(url)}: {reason}"
                               for row_id, url, reason in failed[:LISTED_FAILURES])
            more = (f" (the first {LISTED_FAILURES} are listed)"
                    if len(failed) > LISTED_FAILURES else "")
            msg = f"{len(failed)} of {len(data)} request(s) failed: {listed}{more}"
            raise RequestFailedError(msg)
        out = data.copy() if self.params.keep_columns else pd.DataFrame(index=data.index)
        out["status"] = [a[0] for a in answers if not isinstance(a, str)]
        out["response"] = pd.Series([a[1] for a in answers if not isinstance(a, str)],
                                    index=data.index, dtype=object)
        return out

    def close(self) -> None:
        """Close the connections, and drop requests not yet sent."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()
