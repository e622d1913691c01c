from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import watchkeeper
from ingest.factories import events, write_policy
from watchkeeper.core.errors import InputError
from watchkeeper.policy import load_policy


@pytest.fixture
def client(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    with watchkeeper.Client(
        db=db_url, policy=write_policy(tmp_path, retention="3650d"), data_dir=tmp_path / "data"
    ) as wk:
        yield wk


def test_every_input_kind_lands_once(client) -> None:  # type: ignore[no-untyped-def]
    table = events(40)
    results = [
        client.log_predictions("credit", table.slice(0, 10).to_pandas()),
        client.log_predictions("credit", pl.from_arrow(table.slice(10, 10))),
        client.log_predictions("credit", table.slice(20, 10)),
        client.log_predictions("credit", table.slice(30, 5).to_batches()[0]),
        client.log_predictions("credit", table.slice(35, 5).to_pylist()),
    ]
    assert [r.n_new for r in results] == [10, 10, 10, 5, 5]
    again = client.log_predictions("credit", table.to_pandas())
    assert again.summary() == "0 new, 40 duplicates"
    got = client.read_events("credit", with_labels=False)
    assert sorted(got.column("event_id").to_pylist()) == sorted(f"e{i}" for i in range(40))
    assert client.window_profile("credit").n == 40


def test_nested_feature_records_and_labels(client) -> None:  # type: ignore[no-untyped-def]
    records = [
        {
            "event_id": "n1",
            "timestamp": "2026-03-01T10:00:00Z",
            "prediction": 1,
            "probability": 0.7,
            "features": {"income": 5.0, "age": 40, "region": "east", "member": True},
        },
    ]
    assert client.log_predictions("credit", records).n_new == 1
    assert client.log_labels("credit", pd.DataFrame({"event_id": ["n1"], "label": [1]})).n_new == 1
    row = client.read_events("credit").to_pylist()[0]
    assert (row["region"], row["age"], row["label"]) == ("east", 40.0, "1")


def test_mixed_type_records_quarantine_rows_not_the_batch(client) -> None:  # type: ignore[no-untyped-def]
    records = [
        {"event_id": 1, "age": 30, "income": 1.0},
        {"event_id": 2, "age": "thirty", "income": 2.0},
        {"event_id": 3, "age": 31, "income": {"nested": "dict"}},
    ]
    result = client.log_predictions("credit", records)
    assert result.n_new == 1 and result.n_quarantined == 2
    assert {(p.row, p.field) for p in result.problems} == {(2, "age"), (3, "income")}


def test_policy_object_and_bad_input_type(db_url: str, tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, retention="3650d"))
    with watchkeeper.Client(db=db_url, policy=policy, data_dir=tmp_path / "d") as wk:
        with pytest.raises(InputError, match="cannot ingest a int"):
            wk.log_predictions("credit", 42)
        assert wk.log_predictions("credit", pa.table({"event_id": ["z"], "age": [20]})).n_new == 1
