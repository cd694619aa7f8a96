"""The ``http_client`` family: http.request against a local server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest
from contract import contract_tests, param_problems

from runtime.testing import ComponentRun, run_component

FAMILY_MODULE = "components.http_client"
CONTRACT: dict[str, dict[str, Any]] = {
    "http.request": {
        "inputs": {"data": ("DataFrame", "stream")},
        "outputs": {"data": "DataFrame"},
        "required": {"url"},
        "defaults": {"method": "GET", "headers": {}, "body": "auto", "columns": None,
                     "timeout": 10.0, "concurrency": 4, "fail_on_status": True,
                     "keep_columns": True},
    },
}

(test_family_has_exactly_the_contracted_components,
 test_ports_and_params_match_the_contract,
 test_params_model_forbids_unknown_keys_and_describes_every_field,
) = contract_tests(FAMILY_MODULE, CONTRACT)


class Server:
    """A local HTTP server that answers with what it got, and counts requests in flight.

    Paths: ``/hold`` makes the first requests wait at ``barrier`` until as many as it has
    parties are in flight at once (they fail with 500 if that never happens); ``/slow``
    answers only when the test ends; ``/missing`` answers 404; ``/text`` answers plain
    text, to which ``/moved`` redirects; anything else echoes the method, path, body and
    the ``X-Token`` header as JSON.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.served = 0
        self.released = threading.Event()
        self.barrier: threading.Barrier | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                server.handle(self)

            do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.served += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            number = self.served
        self.answer(request, number)

    def answered(self) -> None:
        """Count a request as answered just before its answer is sent, so that a client
        sending its next request at once is never counted twice."""
        with self.lock:
            self.in_flight -= 1

    def answer(self, request: BaseHTTPRequestHandler, number: int) -> None:
        length = int(request.headers.get("content-length") or 0)
        raw = request.rfile.read(length) if length else b""
        status, kind, payload = 200, "application/json", b""
        if request.path == "/hold" and self.barrier is not None:
            if number <= self.barrier.parties:
                try:
                    self.barrier.wait(timeout=10)
                except threading.BrokenBarrierError:
                    status = 500
            else:
                self.released.wait(0.02)  # stay in flight a moment, so overlaps show
        elif request.path == "/slow":
            self.released.wait(10)
        elif request.path == "/missing":
            status, kind, payload = 404, "text/plain", b"no such item"
        elif request.path == "/text":
            kind, payload = "text/plain", b"hello"
        elif request.path == "/moved":
            self.answered()
            request.send_response(302)
            request.send_header("location", "/text")
            request.send_header("content-length", "0")
            request.end_headers()
            return
        if not payload:
            payload = json.dumps({"method": request.command, "path": request.path,
                                  "body": json.loads(raw) if raw else None,
                                  "token": request.headers.get("X-Token")}).encode()
        self.answered()
        request.send_response(status)
        request.send_header("content-type", kind)
        request.send_header("content-length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    try:
        yield running
    finally:
        running.close()


def call(frame: pd.DataFrame, **params: Any) -> ComponentRun:
    return run_component("http.request", {"data": [frame]}, params)


def test_each_row_gets_its_answer_under_its_own_row_id(server: Server) -> None:
    frame = pd.DataFrame({"id": ["a b/c", "2"], "x": [0.5, None]}, index=[10, 11])
    out = call(frame, url=server.url + "/items/{id}", method="POST",
               headers={"X-Token": "secret"})
    assert out.errors == []
    (answer,) = out["data"]
    assert answer.index.tolist() == [10, 11]
    pd.testing.assert_frame_equal(answer[["id", "x"]], frame)
    assert answer["status"].tolist() == [200, 200]
    assert answer["response"].tolist() == [
        {"method": "POST", "path": "/items/a%20b%2Fc", "body": {"id": "a b/c", "x": 0.5},
         "token": "secret"},
        {"method": "POST", "path": "/items/2", "body": {"id": "2", "x": None},
         "token": "secret"},
    ]


def test_get_sends_no_body_and_a_text_answer_after_a_redirect_stays_text(server: Server) -> None:
    frame = pd.DataFrame({"q": [1]})
    (answer,) = call(frame, url=server.url + "/echo?q={q}")["data"]
    assert answer["response"].iloc[0]["body"] is None
    assert answer["response"].iloc[0]["path"] == "/echo?q=1"
    (text,) = call(frame, url=server.url + "/moved", keep_columns=False)["data"]
    assert list(text.columns) == ["status", "response"]
    assert text["response"].tolist() == ["hello"]


def test_the_body_can_hold_chosen_columns(server: Server) -> None:
    frame = pd.DataFrame({"a": [1], "b": [2], "c": [3]})
    (answer,) = call(frame, url=server.url + "/x", method="PUT", columns=["c", "a"])["data"]
    assert answer["response"].iloc[0]["body"] == {"c": 3, "a": 1}


@pytest.mark.parametrize("limit", [1, 3])
def test_never_more_requests_in_flight_than_the_concurrency(server: Server,
                                                            limit: int) -> None:
    server.barrier = threading.Barrier(limit)
    frame = pd.DataFrame({"i": range(4 * limit)})
    out = call(frame, url=server.url + "/hold", concurrency=limit)
    assert out.errors == []  # the first `limit` requests were all in flight at once
    assert out["data"][0]["status"].tolist() == [200] * (4 * limit)
    assert server.most_in_flight == limit
    assert server.served == 4 * limit


def test_no_answer_within_the_timeout_goes_to_the_error_port(server: Server) -> None:
    out = call(pd.DataFrame({"i": [1]}), url=server.url + "/slow", timeout=0.2)
    assert out["data"] == []
    (record,) = out.errors
    assert record.error == "RequestFailedError"
    assert f"GET {server.url}/slow" in record.message
    assert "no answer within 0.2 s" in record.message


def test_a_refused_connection_goes_to_the_error_port() -> None:
    with socket.socket() as probe:  # a port on which nothing listens any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = call(pd.DataFrame({"i": [1, 2]}, index=[5, 6]), url=f"http://127.0.0.1:{port}/x")
    assert out["data"] == []
    (record,) = out.errors
    assert record.message.startswith("2 of 2 request(s) failed: row 5: GET ")
    assert f"http://127.0.0.1:{port}/x" in record.message
    assert "ConnectError" in record.message


def test_a_status_that_is_not_2xx_fails_only_if_asked(server: Server) -> None:
    frame = pd.DataFrame({"i": [1]})
    failed = call(frame, url=server.url + "/missing")
    assert "answered 404 Not Found: no such item" in failed.errors[0].message
    kept = call(frame, url=server.url + "/missing", fail_on_status=False)
    assert kept.errors == []
    assert kept["data"][0][["status", "response"]].values.tolist() == [[404, "no such item"]]


def test_clear_errors_for_missing_url_fields_and_taken_columns(server: Server) -> None:
    out = call(pd.DataFrame({"i": [1]}), url=server.url + "/{id}")
    assert "the URL field '{id}' is not a column of the input (columns: i)" in \
        out.errors[0].message
    out = call(pd.DataFrame({"status": [1]}), url=server.url + "/x")
    assert "already has column(s) ['status']" in out.errors[0].message


@pytest.mark.parametrize(("params", "param", "says"), [
    ({}, "url", "missing"),
    ({"url": "example.com/x"}, "url", "must start with http:// or https://"),
    ({"url": "ftp://example.com"}, "url", "must start with http:// or https://"),
    ({"url": "http://h/{a.b}"}, "url", "not a plain column name"),
    ({"url": "http://h/{a!r}"}, "url", "not a plain column name"),
    ({"url": "http://h/{}"}, "url", "not a plain column name"),
    ({"url": "http://h", "method": "FETCH"}, "method", ""),
    ({"url": "http://h", "concurrency": 0}, "concurrency", ""),
    ({"url": "http://h", "timeout": 0}, "timeout", ""),
])
def test_request_settings_are_checked_at_validation(params: dict[str, Any], param: str,
                                                    says: str) -> None:
    problems = param_problems("http.request", params)
    assert [p.param for p in problems] == [param]
    assert says in problems[0].message


def test_a_password_in_the_url_is_not_shown() -> None:
    problems = param_problems("http.request", {"url": "ftp://user:hunter2@example.com"})
    assert problems and "hunter2" not in problems[0].message


def test_a_timer_tick_goes_straight_into_a_request(server: Server) -> None:
    from runtime.testing import MemorySink
    from tests.flowkit import make_run, run_guarded

    sink = MemorySink()
    run = make_run({"tick": ("timer", {"interval": 0.01, "count": 3}),
                    "call": ("http.request", {"url": server.url + "/tick/{count}"}),
                    "keep": sink.spec.id},
                   ["tick.data->call.data", "call.data->keep.data"], [sink.spec])
    sink.watch(run, ["call.data->keep.data"])
    assert run_guarded(run).status == "ok"
    assert [f["response"].iloc[0]["path"] for f in sink.values] == [
        "/tick/1", "/tick/2", "/tick/3"]
    assert [f.index.tolist() for f in sink.values] == [[1], [2], [3]]
