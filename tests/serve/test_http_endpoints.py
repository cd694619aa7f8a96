"""Serving a flow: requests become rows, answers reach their own request, exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from servekit import GATE, SPECS, serving

import runtime
from runtime import Deployment, ServeOutcome
from tests.flowkit import make_flow, node

REGISTRY = runtime.default_registry().with_components(*SPECS)

ECHO = [node("in", "http.in", path="/echo"), node("out", "http.out")]


def post(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, json=body, timeout=20, **kwargs)


def test_an_object_or_a_list_of_objects_comes_back_as_rows() -> None:
    with serving(ECHO, ["in.data->out.data"]) as served:
        one = post(f"{served.url}/echo", {"x": 1, "name": "a"})
        many = post(f"{served.url}/echo", [{"x": 2}, {"x": 3, "y": 0.5}])
    assert one.status_code == 200
    assert one.json() == [{"x": 1, "name": "a"}]
    assert one.headers["X-Request-Id"]
    assert many.json() == [{"x": 2, "y": None}, {"x": 3, "y": 0.5}]
    assert many.headers["X-Request-Id"] != one.headers["X-Request-Id"]


def test_a_request_held_in_a_batch_window_is_answered_by_a_drain() -> None:
    # The window would hold the request for 10 s, longer than the 2 s drain: a drain sends
    # the batch at once instead of waiting the window out and stopping unanswered.
    nodes = [node("in", "http.in", path="/d", schema={"x": "float"}, batch_window_ms=10_000,
                  timeout_ms=60_000),
             node("calc", "frame.assign", columns={"y": "x * 2"}),
             node("out", "http.out", columns=["y"])]
    with serving(nodes, ["in.data->calc.data", "calc.data->out.data"]) as served:
        answers: list[httpx.Response] = []
        sender = threading.Thread(target=lambda: answers.append(
            httpx.post(f"{served.url}/d", json={"x": 21}, timeout=60)))
        sender.start()
        endpoint = served.server.hub.endpoints["POST /d"]
        deadline = time.monotonic() + 20
        while endpoint.taken < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert endpoint.taken == 1
        outcome = served.stop(2.0)
        sender.join(30)
    assert outcome.unanswered == 0
    assert [(a.status_code, a.json()) for a in answers] == [(200, [{"y": 42.0}])]


def test_concurrent_requests_through_a_route_each_get_their_own_rows() -> None:
    nodes = [node("in", "http.in", path="/score"),
             node("route", "frame.route", routes={"big": "x >= 50"}),
             node("label_big", "frame.assign", columns={"size": "'big'"}),
             node("label_small", "frame.assign", columns={"size": "'small'"}),
             node("out", "http.out", columns=["x", "size", "double"]),
             node("double", "frame.assign", columns={"double": "x * 2"})]
    edges = ["in.data->double.data", "double.data->route.data",
             "route.big->label_big.data", "route.otherwise->label_small.data",
             "label_big.data->out.data", "label_small.data->out.data"]
    with serving(nodes, edges) as served:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda x: post(f"{served.url}/score", {"x": x}),
                                    range(0, 100, 2)))
        outcome = served.stop()
    assert [a.status_code for a in answers] == [200] * 50
    assert [a.json() for a in answers] == [
        [{"x": x, "size": "big" if x >= 50 else "small", "double": 2 * x}]
        for x in range(0, 100, 2)]
    assert outcome.clean and outcome.late == 0


def test_concurrent_requests_joined_with_a_latest_table_each_get_their_own_rows() -> None:
    nodes = [node("in", "http.in", path="/j"), node("labels", "test.table"),
             node("join", "frame.join", on="x", how="left"), node("out", "http.out")]
    edges = ["in.data->join.left", "labels.data->join.right", "join.data->out.data"]
    with serving(nodes, edges) as served:
        def ask(k: int) -> httpx.Response:
            return post(f"{served.url}/j", [{"x": k}, {"x": 99 - k}])

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(ask, range(40)))
    assert [a.json() for a in answers] == [
        [{"x": k, "label": f"L{k}"}, {"x": 99 - k, "label": f"L{99 - k}"}] for k in range(40)]


def test_micro_batches_are_split_back_to_their_requests() -> None:
    nodes = [node("in", "http.in", path="/b", batch_window_ms=50, max_batch_rows=64),
             node("double", "frame.assign", columns={"double": "x * 2"}),
             node("out", "http.out")]
    with serving(nodes, ["in.data->double.data", "double.data->out.data"]) as served:
        def ask(k: int) -> httpx.Response:
            return post(f"{served.url}/b", [{"x": k, "n": n} for n in range(k % 3 + 1)])

        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(ask, range(64)))
        fired = served.server.run.stats.nodes["double"]["fired"]
        lineage = served.server.deployment.lineage
        kept = (dict(lineage.owner), dict(lineage.messages))
    assert [a.json() for a in answers] == [
        [{"x": k, "n": n, "double": 2 * k} for n in range(k % 3 + 1)] for k in range(64)]
    assert fired < 64  # some requests went through together
    assert kept == ({}, {})  # nothing is kept of requests answered


def test_a_schema_mismatch_is_422_naming_the_field_and_bad_json_is_400() -> None:
    nodes = [node("in", "http.in", path="/s", schema={"x": "float", "name": "str"}),
             node("out", "http.out")]
    with serving(nodes, ["in.data->out.data"]) as served:
        url = f"{served.url}/s"
        wrong = post(url, {"x": "high", "name": "a"})
        missing = post(url, [{"x": 1.0, "name": "a"}, {"x": 2.0}])
        extra = post(url, {"x": 1.0, "name": "a", "z": 1})
        bad = httpx.post(url, content=b"{not json", timeout=20)
        good = post(url, {"x": 1, "name": "a"})
        docs = httpx.get(f"{served.url}/openapi.json", timeout=20).json()
    assert wrong.status_code == 422
    assert "field 'x'" in wrong.json()["detail"] and "must be float" in wrong.json()["detail"]
    assert missing.status_code == 422 and "'name' is missing in object 1" in missing.text
    assert extra.status_code == 422 and "'z'" in extra.text
    assert bad.status_code == 400 and "not valid JSON" in bad.text
    assert good.json() == [{"x": 1.0, "name": "a"}]
    body = docs["paths"]["/s"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0]["properties"] == {"x": {"type": "number"}, "name": {"type": "string"}}


def test_a_request_whose_rows_failed_gets_500_with_the_error() -> None:
    nodes = [node("in", "http.in", path="/c"), node("check", "test.check"),
             node("out", "http.out")]
    with serving(nodes, ["in.data->check.data", "check.data->out.data"]) as served:
        failed = post(f"{served.url}/c", {"x": -1})
        fine = post(f"{served.url}/c", {"x": 1})
    assert failed.status_code == 500
    assert "x must not be negative" in failed.json()["error"]
    assert failed.json()["node"] == "check"
    assert fine.status_code == 200


def test_no_answer_in_time_is_504_and_the_late_rows_go_to_the_error_port() -> None:
    nodes = [node("in", "http.in", path="/slow", timeout_ms=200), node("hold", "test.gate"),
             node("out", "http.out")]
    with serving(nodes, ["in.data->hold.data", "hold.data->out.data"]) as served:
        late = post(f"{served.url}/slow", {"x": 1})
        GATE.set()
        outcome = served.stop()
    assert late.status_code == 504 and "200 ms" in late.text
    assert outcome.late == 1
    assert outcome.result.nodes["out"].errors == 1


def test_overload_is_refused_at_once_with_429_and_retry_after() -> None:
    nodes = [node("in", "http.in", path="/o", max_in_flight=2), node("hold", "test.gate"),
             node("out", "http.out")]
    with serving(nodes, ["in.data->hold.data", "hold.data->out.data"]) as served:
        with ThreadPoolExecutor(2) as pool:
            held = [pool.submit(post, f"{served.url}/o", {"x": k}) for k in range(2)]
            deadline_hits = 0
            while served.server.hub.endpoints["POST /o"].in_flight < 2 and deadline_hits < 2000:
                deadline_hits += 1
                GATE.wait(0.01)
            refused = post(f"{served.url}/o", {"x": 9})
            GATE.set()
            answers = [f.result() for f in held]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert [a.json() for a in answers] == [[{"x": 0}], [{"x": 1}]]


def test_a_switch_to_a_new_version_answers_every_request_exactly_once() -> None:
    def version(n: int) -> list[dict[str, Any]]:
        return [node("in", "http.in", path="/v"),
                node("tag", "frame.assign", columns={"version": str(n)}),
                node("out", "http.out")]

    edges = ["in.data->tag.data", "tag.data->out.data"]
    with serving(version(1), edges) as served:
        second = Deployment(runtime.plan(make_flow(version(2), edges), registry=REGISTRY))
        switched: list[ServeOutcome] = []

        def ask(k: int) -> httpx.Response:
            if k == 30:
                switched.append(served.call(served.server.switch(second)))
            return post(f"{served.url}/v", {"k": k})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(80)))
        after = post(f"{served.url}/v", {"k": 80})
        outcome = served.stop()
    assert [a.status_code for a in answers] == [200] * 80
    assert [a.json()[0]["k"] for a in answers] == list(range(80))
    assert {a.json()[0]["version"] for a in answers} == {1, 2}
    assert after.json() == [{"k": 80, "version": 2}]
    assert switched[0].clean and switched[0].result.status == "ok"
    assert outcome.clean and outcome.late == 0 and switched[0].late == 0


def test_missing_values_and_times_are_answered_as_json() -> None:
    nodes = [node("in", "http.in", path="/t"),
             node("when", "frame.assign", columns={"half": "x / 2"}), node("out", "http.out")]
    with serving(nodes, ["in.data->when.data", "when.data->out.data"]) as served:
        answer = post(f"{served.url}/t", [{"x": 1, "s": "a"}, {"x": None, "s": None}])
    assert answer.json() == [{"x": 1.0, "s": "a", "half": 0.5},
                             {"x": None, "s": None, "half": None}]


def by_x(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["x"])


def test_rows_of_one_request_routed_apart_are_answered_together() -> None:
    nodes = [node("in", "http.in", path="/r", batch_window_ms=20),
             node("route", "frame.route", routes={"big": "x >= 50"}),
             node("label_big", "frame.assign", columns={"size": "'big'"}),
             node("hold", "test.gate"),
             node("out", "http.out")]
    edges = ["in.data->route.data", "route.big->label_big.data", "route.otherwise->hold.data",
             "label_big.data->out.data", "hold.data->out.data"]
    with serving(nodes, edges) as served:
        GATE.set()

        def ask(k: int) -> httpx.Response:
            return post(f"{served.url}/r", [{"x": k}, {"x": 50 + k}, {"x": 100 + k}])

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(ask, range(40)))
    assert [by_x(a.json()) for a in answers] == [
        [{"x": k}, {"x": 50 + k, "size": "big"}, {"x": 100 + k, "size": "big"}]
        for k in range(40)]


def test_chunks_filters_and_two_answer_nodes_still_give_one_whole_answer() -> None:
    nodes = [node("in", "http.in", path="/w"), node("chunks", "stream.chunks", rows=1),
             node("keep", "frame.query", expr="x != 3"),
             node("route", "frame.route", routes={"even": "x % 2 == 0"}),
             node("even", "http.out"), node("odd", "http.out", status=202)]
    edges = ["in.data->chunks.data", "chunks.data->keep.data", "keep.data->route.data",
             "route.even->even.data", "route.otherwise->odd.data"]
    with serving(nodes, edges) as served:
        whole = post(f"{served.url}/w", [{"x": x} for x in range(6)])
        none_left = post(f"{served.url}/w", {"x": 3})
        outcome = served.stop()
    assert whole.status_code in (200, 202)
    assert by_x(whole.json()) == [{"x": x} for x in (0, 1, 2, 4, 5)]
    assert (none_left.status_code, none_left.json()) == (200, [])
    assert outcome.clean and outcome.late == 0


def test_rows_that_failed_are_left_out_and_a_request_whose_rows_all_failed_gets_500() -> None:
    nodes = [node("in", "http.in", path="/p"), node("chunks", "stream.chunks", rows=1),
             node("check", "test.check"), node("out", "http.out")]
    edges = ["in.data->chunks.data", "chunks.data->check.data", "check.data->out.data"]
    with serving(nodes, edges) as served:
        some = post(f"{served.url}/p", [{"x": 1}, {"x": -1}, {"x": 2}])
        none = post(f"{served.url}/p", [{"x": -1}, {"x": -2}])
    assert (some.status_code, by_x(some.json())) == (200, [{"x": 1}, {"x": 2}])
    assert none.status_code == 500 and "must not be negative" in none.json()["error"]


def test_a_full_queue_behind_http_in_is_refused_with_429_and_nothing_is_queued_unbounded() -> None:
    nodes = [node("in", "http.in", path="/f", max_queued=1), node("hold", "test.gate"),
             node("out", "http.out")]
    with serving(nodes, ["in.data->hold.data", "hold.data->out.data"]) as served:
        endpoint = served.server.hub.endpoints["POST /f"]
        with ThreadPoolExecutor(32) as pool:
            admitted, refused = [], None
            for k in range(30):  # the engine's queues hold a few batches; then the endpoint's
                sent = pool.submit(post, f"{served.url}/f", {"x": k})
                while endpoint.in_flight == len(admitted) and not sent.done():
                    GATE.wait(0.005)
                if sent.done() and sent.result().status_code == 429:
                    refused = sent.result()
                    break
                admitted.append(sent)
            GATE.set()
            answers = [f.result() for f in admitted]
    assert refused is not None and refused.headers["Retry-After"] == "1"
    assert "busy" in refused.json()["detail"]
    assert len(admitted) < 30
    assert [a.json() for a in answers] == [[{"x": k}] for k in range(len(admitted))]
