"""Recorded runs through the Python API: what a kept run holds on disk, and its queries."""

from __future__ import annotations

import datetime
import json
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import runtime
from runtime import ErrorRecord, FlowInvalidError, Run, RunResult, parse_flow, plan
from runtime._record import (
    RunStore,
    StoragePolicy,
    flow_hash,
    list_runs,
    new_run_id,
    record_run,
    runs_root,
)
from runtime._record.diff import diff_runs, psi
from runtime._record.lineage import Lineage
from runtime._record.replay import replay
from runtime._registry import component, default_registry
from runtime.testing import memory_source
from tests.flowkit import flow_doc, node

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@dataclass
class Recorded:
    """A run kept on disk, with what the run itself reported."""

    workspace: Path
    result: RunResult
    store: RunStore

    @property
    def manifest(self) -> dict[str, Any]:
        return self.store.manifest()


def copy_flows(dest: Path) -> Path:
    """The example flows and their data, without earlier outputs or runs."""
    shutil.copytree(FLOWS, dest / "flows", ignore=shutil.ignore_patterns("out", ".edgewise"))
    return dest / "flows"


def record(flow: Path | dict[str, Any], workspace: Path, *,
           policy: StoragePolicy | None = None, registry: Any = None) -> Recorded:
    base_dir = workspace if isinstance(flow, dict) else None
    run = Run(plan(flow, registry=registry, base_dir=base_dir))
    recorder = record_run(run, workspace, policy=policy)
    result = run.run()
    return Recorded(workspace, result, recorder.store)


def write_csv(path: Path, rows: int, shift: float = 0.0) -> pd.DataFrame:
    """A small CSV whose column ``a`` is 0..rows-1 (plus ``shift``) and ``b`` its square."""
    frame = pd.DataFrame({"a": np.arange(rows) + shift, "b": np.arange(rows) ** 2})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return pd.read_csv(path)


def chunked_flow(rows_per_chunk: int = 2) -> dict[str, Any]:
    """data/in.csv in chunks -> frame.query -> stream.count -> debug."""
    return flow_doc([node("read", "csv.read", path="data/in.csv", chunk_rows=rows_per_chunk),
                     node("q", "frame.query", expr="a >= 0"), node("n", "stream.count"),
                     node("show", "debug")],
                    [("read.data", "q.data"), ("q.data", "n.data"), ("n.count", "show.data")])


def edge_origin(edge: str) -> str:
    return edge.split("->")[0]


# --- the dead-letter flow, recorded with the default policy (keep everything) -------------


@pytest.fixture(scope="module")
def dead_letter(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    workspace = copy_flows(tmp_path_factory.mktemp("dead-letter"))
    return record(workspace / "dead-letter.json", workspace)


def test_a_recorded_run_is_a_folder_under_the_workspace(dead_letter: Recorded) -> None:
    folder = dead_letter.store.folder

    assert folder.parent == runs_root(dead_letter.workspace)
    assert folder.parent == dead_letter.workspace / ".edgewise" / "runs"
    assert (folder / "manifest.json").is_file()
    assert (folder / "index.sqlite").is_file()
    assert (folder / "values").is_dir()
    assert [r.id for r in list_runs(dead_letter.workspace)] == [folder.name]
    assert dead_letter.manifest["run"] == folder.name


def test_the_manifest_holds_a_snapshot_of_the_flow_and_its_hash(dead_letter: Recorded) -> None:
    on_disk = json.loads((dead_letter.workspace / "dead-letter.json").read_text("utf-8"))
    manifest = dead_letter.manifest
    snapshot = manifest["flow"]

    assert parse_flow(snapshot) == parse_flow(on_disk)
    assert [(n["id"], n["component"], n.get("params") or {}) for n in snapshot["nodes"]] == \
        [(n["id"], n["component"], n.get("params") or {}) for n in on_disk["nodes"]]
    assert snapshot["edges"] == on_disk["edges"]
    assert manifest["flow_hash"].startswith("sha256:")
    assert manifest["flow_hash"] == flow_hash(snapshot)
    # the same flow hashes the same, an edited one differently
    edited = json.loads(json.dumps(snapshot))
    edited["nodes"][1]["params"]["options"]["C"] = 0.5
    assert flow_hash(json.loads(json.dumps(snapshot))) == manifest["flow_hash"]
    assert flow_hash(edited) != manifest["flow_hash"]


def test_the_manifest_holds_versions_times_and_status(dead_letter: Recorded) -> None:
    manifest = dead_letter.manifest

    versions = manifest["versions"]
    assert versions["python"] == platform.python_version()
    assert versions["edgewise"] == runtime.__version__
    assert versions["pandas"] == pd.__version__
    assert versions["sklearn"] == sklearn.__version__
    started = datetime.datetime.fromisoformat(manifest["started"])
    ended = datetime.datetime.fromisoformat(manifest["ended"])
    assert started.tzinfo is not None
    assert started <= ended <= datetime.datetime.now(datetime.UTC)
    assert manifest["status"] == dead_letter.result.status == "errors"
    assert manifest["policy"] == {"max_values": None, "sample_every": 0}


def test_the_manifest_holds_the_statistics_of_every_node_and_edge(dead_letter: Recorded) -> None:
    manifest, result = dead_letter.manifest, dead_letter.result

    assert manifest["edges"] == {edge: {"count": n} for edge, n in result.edges.items()}
    assert manifest["edges"]["readings.data->predict.data"] == {"count": 60}
    assert manifest["edges"]["predict.error->dead_letters.data"] == {"count": 9}
    assert set(manifest["nodes"]) == set(result.nodes)
    for node_id, info in result.nodes.items():
        assert manifest["nodes"][node_id] == {"fired": info.fired, "errors": info.errors,
                                              "state": info.state}
    assert manifest["nodes"]["predict"]["errors"] == 9


def test_the_index_has_every_message_of_every_edge(dead_letter: Recorded) -> None:
    store, result = dead_letter.store, dead_letter.result

    for edge, count in result.edges.items():
        assert store.count(edge_origin(edge)) == count, edge
    ports = {edge_origin(e) for e in result.edges}
    recording = dead_letter.manifest["recording"]
    assert recording["messages_indexed"] == sum(store.count(p) for p in ports) == 122
    assert recording["values_not_kept"] == 0
    assert recording["errors"] == []
    ids = [m.id for p in ports for m in store.messages(p)]
    assert len(ids) == len(set(ids)) == 122
    # every message knows its parents: a prediction comes from one chunk and the model
    [model] = store.messages("fit.model")
    for message in store.messages("predict.data"):
        parents = [store.message(i) for i in message.parents]
        assert sorted(p.origin for p in parents if p) == ["fit.model", "readings.data"]
        assert model.id in message.parents
        assert message.rows == 10


def test_values_are_stored_as_arrow_streams_and_skops(dead_letter: Recorded) -> None:
    values = dead_letter.store.values_dir
    frames = {p.name.split(".arrows")[0].rsplit(".", 1)[0] for p in values.glob("*.arrows")}

    assert {"train.data", "readings.data", "predict.data"} <= frames
    assert len(list(values.glob("*.skops"))) == 1
    assert not list(values.glob("*.pkl")) and not list(values.glob("*.joblib"))


def test_runs_kept_with_parquet_values_still_read(dead_letter: Recorded, tmp_path: Path) -> None:
    import sqlite3

    import pyarrow as pa
    import pyarrow.parquet as pq

    # the layout before Arrow streams: one Parquet file per port, one row group per message
    folder = tmp_path / "old-run"
    shutil.copytree(dead_letter.store.folder, folder)
    for stream in (folder / "values").glob("*.arrows"):
        batches = list(pa.ipc.open_stream(pa.memory_map(str(stream))))
        with pq.ParquetWriter(stream.with_suffix(".parquet"), batches[0].schema) as writer:
            for batch in batches:
                writer.write_table(pa.Table.from_batches([batch]))
        stream.unlink()
    with sqlite3.connect(folder / "index.sqlite") as db:
        db.execute("UPDATE kept SET location = replace(location, '.arrows', '.parquet')")
    old, new = RunStore(folder), dead_letter.store

    for message in new.messages("readings.data"):
        pd.testing.assert_frame_equal(old.value(message.id), new.value(message.id))


def test_dataframes_read_back_equal_what_csv_read_gave(dead_letter: Recorded) -> None:
    store = dead_letter.store
    chunks = list(pd.read_csv(dead_letter.workspace / "data" / "readings.csv", chunksize=10))
    messages = list(store.messages("readings.data"))

    assert len(messages) == len(chunks) == 60
    for message, chunk in zip(messages, chunks, strict=True):
        kept = store.value(message.id)
        pd.testing.assert_frame_equal(kept, chunk)
    assert list(store.value(messages[7].id).index) == list(range(70, 80))
    [train] = store.messages("train.data")
    pd.testing.assert_frame_equal(store.value(train.id),
                                  pd.read_csv(dead_letter.workspace / "data" / "train.csv"))


def test_the_kept_model_predicts_like_the_original(dead_letter: Recorded) -> None:
    store, workspace = dead_letter.store, dead_letter.workspace
    train = pd.read_csv(workspace / "data" / "train.csv")
    original = LogisticRegression(max_iter=1000).fit(train.drop(columns="target"),
                                                     train["target"])
    readings = pd.read_csv(workspace / "data" / "readings.csv").dropna()
    features = readings[list(original.feature_names_in_)]
    [message] = store.messages("fit.model")

    kept = store.value(message.id)

    assert type(kept) is LogisticRegression
    assert kept.get_params() == original.get_params()
    np.testing.assert_array_equal(kept.predict(features), original.predict(features))
    # and the recorded predictions are the model's
    scored = pd.concat(store.value(m.id) for m in store.messages("predict.data"))
    assert len(scored) == 510
    np.testing.assert_array_equal(scored["prediction"],
                                  original.predict(scored[list(original.feature_names_in_)]))


def test_error_records_read_back_as_error_records(dead_letter: Recorded) -> None:
    store = dead_letter.store
    errors = [store.value(m.id) for m in store.messages("predict.error")]

    assert len(errors) == 9
    assert all(isinstance(e, ErrorRecord) for e in errors)
    assert {e.error for e in errors} == {"ValueError"}
    assert all("NaN" in e.message for e in errors)


def test_ports_without_edges_are_recorded_too(small: Path, tmp_path: Path) -> None:
    # q.data and q.error lead nowhere, yet what q made is kept and can be looked at
    flow = flow_doc([node("read", "csv.read", path=str(small / "data" / "in.csv"),
                          chunk_rows=5),
                     node("q", "frame.query", expr="a >= 10"),
                     node("bad", "frame.query", expr="a > 'no_such_text'")],
                    [("read.data", "q.data"), ("read.data", "bad.data")])
    kept = record(flow, tmp_path)

    assert kept.result.edges == {"read.data->q.data": 4, "read.data->bad.data": 4}
    store = kept.store
    assert store.count("q.data") == 4
    assert [len(store.value(m.id)) for m in store.messages("q.data")] == [0, 0, 5, 5]
    errors = [store.value(m.id) for m in store.messages("bad.error")]
    assert len(errors) == 4 and all(isinstance(e, ErrorRecord) for e in errors)
    assert "no_such_text" in errors[0].message
    ports = kept.manifest["recording"]["ports"]
    assert ports["q.data"]["kept"] == 4 and ports["bad.error"]["kept"] == 4
    # and they trace back to the source like any other message
    first = next(store.messages("bad.error"))
    assert [step.message.origin for step in Lineage(store).trace(first.id)] == [
        "bad.error", "read.data"]


# --- storage policy --------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a 20-row CSV, read in 10 chunks of 2 rows."""
    workspace = tmp_path_factory.mktemp("small")
    write_csv(workspace / "data" / "in.csv", 20)
    return workspace


@pytest.fixture(scope="module")
def capped(small: Path) -> Recorded:
    return record(chunked_flow(), small, policy=StoragePolicy(max_values=2))


def test_a_cap_keeps_n_values_per_port_and_counts_the_rest(capped: Recorded) -> None:
    recording = capped.manifest["recording"]
    ports = recording["ports"]

    assert capped.manifest["policy"] == {"max_values": 2, "sample_every": 0}
    for port in ("read.data", "q.data"):
        assert ports[port] == {"messages": 10, "kept": 2, "not_kept": 8,
                               "why_not_kept": {"policy": 8}}
    assert ports["n.count"]["kept"] == 1
    assert recording["values_not_kept"] == 16
    assert recording["values_kept"] == 5


def test_a_cap_still_indexes_every_message(capped: Recorded, small: Path) -> None:
    store = capped.store
    chunks = list(pd.read_csv(small / "data" / "in.csv", chunksize=2))
    messages = list(store.messages("read.data"))

    assert capped.result.edges["read.data->q.data"] == store.count("read.data") == 10
    assert capped.manifest["recording"]["messages_indexed"] == 21
    assert [m.rows for m in messages] == [2] * 10
    assert [m.kept for m in messages] == ["dataframe"] * 2 + [None] * 8
    pd.testing.assert_frame_equal(store.value(messages[1].id), chunks[1])
    with pytest.raises(KeyError, match="not kept"):
        store.value(messages[2].id)
    assert store.value(store.message_at("n.count", 0).id) == 10


def test_sampling_keeps_one_in_k_past_the_cap(small: Path) -> None:
    sampled = record(chunked_flow(), small, policy=StoragePolicy(max_values=2, sample_every=3))
    store = sampled.store

    kept = [m.position for m in store.messages("read.data") if m.kept]

    assert kept == [0, 1, 2, 5, 8]
    assert sampled.manifest["recording"]["ports"]["read.data"]["not_kept"] == 5
    assert store.count("read.data") == 10


def test_a_value_that_cannot_be_stored_is_counted_as_not_kept(tmp_path: Path) -> None:
    # Parquet refuses a column of mixed types: that value is counted, with the reason, and
    # the rest of the batch is still kept.
    good = pd.DataFrame({"a": [1, 2]})
    mixed = pd.DataFrame({"a": [1, "x"]})
    source = memory_source("testing.frames", [good, mixed, good], "DataFrame")
    flow = flow_doc([{"id": "s", "component": "testing.frames"}, node("show", "debug")],
                    [("s.data", "show.data")])

    run = record(flow, tmp_path, registry=default_registry().with_components(source))

    port = run.manifest["recording"]["ports"]["s.data"]
    assert run.store.count("s.data") == 3
    assert port["messages"] == 3
    assert port["kept"] + port["not_kept"] == 3
    assert port["not_kept"] == 1
    assert sum(port["why_not_kept"].values()) == 1
    [first, _mixed, last] = run.store.messages("s.data")
    pd.testing.assert_frame_equal(run.store.value(first.id), good)
    pd.testing.assert_frame_equal(run.store.value(last.id), good)


def test_values_read_back_with_their_own_type(tmp_path: Path) -> None:
    # BUG: a batch of plain values equal to its parent batch is stored as a pointer to the
    # parent's bytes, and 1.0 == 1, so floats made from ints read back as ints.
    @component("testing.as_float", inputs={"data": "int"}, outputs={"data": "float"})
    def as_float(data: int) -> float:
        """The number as a float."""
        return float(data)

    flow = flow_doc([node("r", "stream.range", count=4), node("f", "testing.as_float"),
                     node("show", "debug")], [("r.data", "f.data"), ("f.data", "show.data")])

    run = record(flow, tmp_path, registry=default_registry().with_components(as_float))

    ints = [run.store.value(m.id) for m in run.store.messages("r.data")]
    floats = [run.store.value(m.id) for m in run.store.messages("f.data")]
    assert ints == [0, 1, 2, 3]
    assert [type(v) for v in ints] == [int] * 4
    assert [type(v) for v in floats] == [float] * 4


def test_a_batch_passed_on_unchanged_is_stored_once_and_a_changed_one_again(
        tmp_path: Path) -> None:
    # 0 == False and 1 == True: a stage that makes bools of 0/1 ints is not passing them on.
    @component("testing.as_bool", inputs={"data": "int"}, outputs={"data": "bool"})
    def as_bool(data: int) -> bool:
        """The number as a truth value."""
        return bool(data)

    flow = flow_doc([node("r", "stream.range", count=2), node("i", "stream.identity"),
                     node("b", "testing.as_bool"), node("show", "debug")],
                    [("r.data", "i.data"), ("i.data", "b.data"), ("b.data", "show.data")])

    run = record(flow, tmp_path, registry=default_registry().with_components(as_bool))

    def values(port: str) -> list[Any]:
        return [run.store.value(m.id) for m in run.store.messages(port)]

    assert values("i.data") == [0, 1]
    assert [type(v) for v in values("i.data")] == [int, int]
    assert values("b.data") == [False, True]
    assert [type(v) for v in values("b.data")] == [bool, bool]
    folder = run.store.folder / "values"
    assert (folder / "r.data.values").stat().st_size > 0
    assert not (folder / "i.data.values").exists()  # pointed at r.data's bytes
    assert (folder / "b.data.values").stat().st_size > 0


def test_recent_batches_match_the_very_same_objects_only() -> None:
    from runtime._record.sameness import RecentBatches, item_addresses

    def passed_on(recent: RecentBatches, parents: range, values: list[Any]) -> Any:
        return recent.passed_on(parents, values, item_addresses(values))

    recent = RecentBatches(budget=4)
    big = [10**30 + i for i in range(3)]
    recent.remember(range(0, 3), big, ("int64", "f", 0, 24), item_addresses(big))
    assert passed_on(recent, range(0, 3), list(big)) == ("int64", "f", 0, 24)
    assert passed_on(recent, range(0, 3), [10**30 + i for i in range(3)]) is None  # equal only
    assert passed_on(recent, range(0, 3), [float(v) for v in big]) is None
    assert passed_on(recent, range(1, 3), big[1:]) is None  # not the parent batch
    recent.remember(range(3, 6), [1, 2, 3], ("int64", "f", 24, 24), item_addresses([1, 2, 3]))
    assert passed_on(recent, range(0, 3), big) is None  # over budget: forgotten
    assert passed_on(recent, range(3, 6), [1, 2, 3]) == ("int64", "f", 24, 24)


def test_the_default_policy_keeps_everything() -> None:
    assert all(StoragePolicy().keeps(i) for i in range(1000))
    assert [StoragePolicy(max_values=1, sample_every=2).keeps(i) for i in range(6)] == \
        [True, True, False, True, False, True]
    assert not any(StoragePolicy(max_values=0).keeps(i) for i in range(10))


def test_replay_from_a_capped_run_says_what_is_missing(capped: Recorded, small: Path) -> None:
    with pytest.raises(LookupError, match=r"kept only 2 of 10 values on read\.data"):
        replay(capped.store, "q", small)


# --- run ids -----------------------------------------------------------------------------


def test_run_ids_sort_in_the_order_they_were_made() -> None:
    # list_runs, `latest` and `runs prune --keep` rely on ids sorting by time, also for ids
    # made within the same second.
    ids = [new_run_id() for _ in range(20)]

    assert len(set(ids)) == 20
    assert ids == sorted(ids)


def test_list_runs_is_oldest_first(tmp_path: Path) -> None:
    flow = flow_doc([node("r", "stream.range", count=2), node("show", "debug")],
                    [("r.data", "show.data")])
    made = [record(flow, tmp_path).store.id for _ in range(4)]

    assert [r.id for r in list_runs(tmp_path)] == made


# --- lineage -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    workspace = copy_flows(tmp_path_factory.mktemp("iris"))
    return record(workspace / "iris.json", workspace)


def iris_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = load_iris(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.25, random_state=0,
                                   stratify=frame["target"])
    return train, test


def test_a_row_traces_back_to_its_line_in_the_csv(dead_letter: Recorded) -> None:
    store = dead_letter.store
    last = store.message_at("predict.data", -1)

    steps = Lineage(store).trace(last.id, "595")

    assert [s.message.origin for s in steps] == ["predict.data", "readings.data"]
    assert steps[0].row == 595
    assert [m.origin for m in steps[0].side_inputs] == ["fit.model"]
    assert steps[-1].source == {"component": "csv.read", "file": "data/readings.csv",
                                "line": 597, "row": 595,
                                "text": "data/readings.csv line 597"}
    line = (dead_letter.workspace / "data" / "readings.csv").read_text().splitlines()[596]
    assert line.startswith("r0595,")


def test_a_message_trace_walks_every_parent_to_the_source(iris: Recorded) -> None:
    [metrics] = iris.store.messages("score.metrics")

    steps = Lineage(iris.store).trace(metrics.id)

    assert steps[0].message.id == metrics.id
    assert {s.message.origin for s in steps} == {"score.metrics", "predict.data", "split.test",
                                                 "split.train", "fit.model", "load.data"}
    [load] = [s for s in steps if s.message.node == "load"]
    assert load.source == {"component": "dataset.load"}
    assert [s.depth for s in steps][:2] == [0, 1]


def test_scored_by_names_the_model_its_params_and_its_training_data(iris: Recorded) -> None:
    [predicted] = iris.store.messages("predict.data")
    [model] = iris.store.messages("fit.model")
    [train] = iris.store.messages("split.train")
    row = int(iris.store.value(predicted.id).index[0])

    answer = Lineage(iris.store).scored_by(predicted.id, row)

    assert answer["record"] == {"message": predicted.id, "row": row}
    assert answer["scored_at"] == {"node": "predict", "message": predicted.id}
    facts = answer["model"]
    assert facts["message"] == model.id
    assert facts["estimator"].endswith("LogisticRegression")
    assert facts["params"]["max_iter"] == 500
    assert facts["trained"]["run_started"] == iris.manifest["started"]
    assert facts["trained"]["seconds_into_run"] == pytest.approx(model.t, abs=1e-5)
    assert facts["training_data"] == [{"message": train.id, "node": "split", "rows": 112}]


def test_trained_on_gives_exactly_the_training_rows(iris: Recorded) -> None:
    [model] = iris.store.messages("fit.model")
    expected, _test = iris_split()

    facts, rows = Lineage(iris.store).trained_on(model.id)

    assert facts["message"] == model.id
    assert list(rows.index) == list(expected.index)
    pd.testing.assert_frame_equal(rows[list(expected.columns)], expected)
    assert set(rows["_source"]) == {"iris"}


def test_trained_on_a_csv_names_each_rows_line(dead_letter: Recorded) -> None:
    [model] = dead_letter.store.messages("fit.model")

    _facts, rows = Lineage(dead_letter.store).trained_on(model.id)

    assert len(rows) == 2000
    assert list(rows["_line"]) == [i + 2 for i in rows.index]
    assert set(rows["_source"]) == {"data/train.csv"}


def test_trained_on_refuses_a_message_that_is_not_a_model(iris: Recorded) -> None:
    [metrics] = iris.store.messages("score.metrics")

    with pytest.raises(ValueError, match="not a model"):
        Lineage(iris.store).trained_on(metrics.id)


def test_row_lineage_holds_through_collect(small: Path) -> None:
    flow = flow_doc([node("read", "csv.read", path="data/in.csv", chunk_rows=3),
                     node("all", "stream.collect"), node("q", "frame.query", expr="b > 20"),
                     node("show", "debug")],
                    [("read.data", "all.data"), ("all.data", "q.data"), ("q.data", "show.data")])
    run = record(flow, small)
    [kept] = run.store.messages("q.data")

    steps = Lineage(run.store).trace(kept.id, 7)

    assert [s.component for s in steps] == ["frame.query", "stream.collect", "csv.read"]
    assert steps[-1].message.position == 2  # rows 6, 7, 8 came in the third chunk
    assert steps[-1].source["line"] == 9
    assert all(s.note is None for s in steps)
    with pytest.raises(LookupError, match="no row with id 3"):
        Lineage(run.store).trace(kept.id, 3)  # b = 9: the query dropped it


def test_row_lineage_says_so_when_a_row_cannot_be_told_apart(small: Path) -> None:
    write_csv(small / "data" / "other.csv", 5)
    flow = flow_doc([node("one", "csv.read", path="data/in.csv"),
                     node("two", "csv.read", path="data/other.csv"),
                     node("all", "stream.collect"), node("show", "debug")],
                    [("one.data", "all.data"), ("two.data", "all.data"),
                     ("all.data", "show.data")])
    run = record(flow, small)
    [both] = run.store.messages("all.data")

    steps = Lineage(run.store).trace(both.id, 3)

    assert len(steps) == 1
    assert "cannot be told apart" in steps[0].note
    assert steps[0].source is None
    # a row only one input has is still followed to its line
    steps = Lineage(run.store).trace(both.id, 12)
    assert steps[-1].source == {"component": "csv.read", "file": "data/in.csv", "line": 14,
                                "row": 12, "text": "data/in.csv line 14"}


def test_row_lineage_stops_where_a_node_builds_new_rows(small: Path) -> None:
    @component("testing.renumber", inputs={"data": "DataFrame"},
               outputs={"data": "DataFrame"})
    def renumber(data: pd.DataFrame) -> pd.DataFrame:
        """Give the rows new ids."""
        return data.set_axis(data.index + 100)

    flow = flow_doc([node("read", "csv.read", path="data/in.csv"),
                     {"id": "new", "component": "testing.renumber"}, node("show", "debug")],
                    [("read.data", "new.data"), ("new.data", "show.data")])
    run = record(flow, small, registry=default_registry().with_components(renumber))
    [renumbered] = run.store.messages("new.data")

    steps = Lineage(run.store).trace(renumbered.id, 105)

    assert len(steps) == 1
    assert "builds new rows" in steps[0].note
    assert "'new'" in steps[0].note


# --- replay and diff ---------------------------------------------------------------------


def test_an_unchanged_replay_reproduces_the_run(small: Path) -> None:
    original = record(chunked_flow(), small)

    result, recorder = replay(original.store, "q", small)

    assert result.status == "ok"
    again = recorder.store
    assert again.manifest()["replay_of"] == original.store.id
    assert again.manifest()["replay_from"] == "q"
    for port in ("q.data", "n.count"):
        before = [original.store.value(m.id) for m in original.store.messages(port)]
        after = [again.value(m.id) for m in again.messages(port)]
        assert len(before) == len(after) > 0
        for x, y in zip(before, after, strict=True):
            if isinstance(x, pd.DataFrame):
                pd.testing.assert_frame_equal(x, y)
            else:
                assert x == y
    assert diff_runs(original.store, again)["first_changed"] == []


def test_replay_from_an_unknown_node_lists_the_nodes(capped: Recorded, small: Path) -> None:
    with pytest.raises(FlowInvalidError, match="no node 'nope'.*read, q, n, show"):
        replay(capped.store, "nope", small)


def test_diff_names_the_edge_leaving_the_shifted_source(tmp_path: Path) -> None:
    write_csv(tmp_path / "data" / "in.csv", 400)
    before = record(chunked_flow(100), tmp_path)
    write_csv(tmp_path / "data" / "in.csv", 400, shift=150.0)
    after = record(chunked_flow(100), tmp_path)

    report = diff_runs(before.store, after.store)

    assert report["same_flow"] is True
    assert report["first_changed"] == ["read.data->q.data"]
    edges = {e["edge"]: e for e in report["edges"]}
    assert edges["read.data->q.data"]["columns"]["a"]["shifted"] is True
    assert edges["read.data->q.data"]["columns"]["b"]["shifted"] is False
    assert edges["n.count->show.data"]["changed"] is False
    assert diff_runs(before.store, before.store)["first_changed"] == []


def test_diff_compares_ports_without_edges_too(tmp_path: Path) -> None:
    # the shifted data is only seen on q.data, which has no edge
    flow = flow_doc([node("read", "csv.read", path="data/in.csv", chunk_rows=100),
                     node("q", "frame.query", expr="a >= 0")], [("read.data", "q.data")])
    write_csv(tmp_path / "data" / "in.csv", 400)
    before = record(flow, tmp_path)
    write_csv(tmp_path / "data" / "in.csv", 400, shift=150.0)
    after = record(flow, tmp_path)

    report = diff_runs(before.store, after.store)

    assert report["first_changed"] == ["read.data->q.data"]
    assert report["changed"] == ["read.data->q.data", "q.data"]
    edges = {e["edge"]: e for e in report["edges"]}
    assert edges["q.data"]["columns"]["a"]["shifted"] is True
    assert diff_runs(before.store, before.store)["changed"] == []


def test_psi_is_about_zero_for_the_same_data_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    sample = rng.normal(size=5000)

    assert psi(sample, sample) == pytest.approx(0.0, abs=1e-9)
    assert psi(sample, rng.normal(size=5000)) < 0.02
    assert psi(sample, sample + 1.0) > 0.1
    assert psi(sample, sample * 3) > 0.1
    assert psi([], sample) == 0.0
