from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import select

from watchkeeper.audit import list_entries, verify
from watchkeeper.core.errors import InputError
from watchkeeper.ingest import IngestService
from watchkeeper.store.tables.ingest import QuarantinedRow

from .factories import T0, events


def test_sending_a_batch_twice_changes_nothing_and_says_so(service: IngestService) -> None:
    first = service.ingest_events("credit", events(1000))
    assert first.summary() == "1000 new, 0 duplicates"
    files_before = sorted(p for p, _ in service.log.files("events", "credit"))
    again = service.ingest_events("credit", events(1000))
    assert again.summary() == "0 new, 1000 duplicates"
    assert again.files == []
    assert sorted(p for p, _ in service.log.files("events", "credit")) == files_before
    assert service.read_events("credit").num_rows == 1000
    assert service.read_window_profile("credit").n == 1000


def test_partly_new_batch_keeps_only_new_rows_and_within_batch_duplicates(
    service: IngestService,
) -> None:
    service.ingest_events("credit", events(100))
    mixed = pa.concat_tables([events(150), events(10, start=140)])  # 50 new, 10 repeated inside
    result = service.ingest_events("credit", mixed)
    assert (result.n_rows, result.n_new, result.n_duplicates) == (160, 50, 110)
    table = service.read_events("credit", with_labels=False)
    assert table.num_rows == 150
    assert len(set(table.column("event_id").to_pylist())) == 150
    assert service.read_window_profile("credit").n == 150


def test_bad_rows_are_quarantined_with_row_field_expected_and_good_rows_kept(
    service: IngestService,
) -> None:
    records = [
        {
            "event_id": "a",
            "timestamp": "2026-03-01T00:00:00Z",
            "income": 10,
            "age": 30,
            "region": "north",
            "member": True,
            "prediction": 1,
            "probability": 0.9,
        },
        {
            "event_id": "b",
            "timestamp": "2026-03-01T00:00:01Z",
            "income": -5,
            "age": 30,
            "region": "north",
            "member": False,
            "prediction": 0,
            "probability": 0.2,
        },
        {
            "event_id": "c",
            "timestamp": "yesterday",
            "income": "lots",
            "age": None,
            "region": "mars",
            "member": "maybe",
            "prediction": 1,
            "probability": 1.5,
        },
        {
            "event_id": "d",
            "timestamp": "2026-03-01T00:00:02Z",
            "income": 1,
            "age": 44,
            "region": None,
            "member": None,
            "prediction": 1,
            "probability": 0.5,
        },
    ]
    result = service.ingest_events("credit", records)
    assert (result.n_new, result.n_quarantined, result.n_duplicates) == (2, 2, 0)
    got = {(p.row, p.field) for p in result.problems}
    assert got == {
        (2, "income"),
        (3, "timestamp"),
        (3, "income"),
        (3, "age"),
        (3, "region"),
        (3, "member"),
        (3, "probability"),
    }
    by_field = {(p.row, p.field): p for p in result.problems}
    assert by_field[(2, "income")].expected == ">= 0"
    assert by_field[(3, "region")].expected == "one of east, north, south, west"
    assert by_field[(3, "income")].got == "'lots'"
    with service.store.session(read_only=True) as s:
        rows = s.execute(select(QuarantinedRow.row_no, QuarantinedRow.field)).all()
    assert {(r, f) for r, f in rows} == got
    assert sorted(service.read_events("credit").column("event_id").to_pylist()) == ["a", "d"]
    rejected = [p for p, _ in service.log.files("quarantine", "credit")]
    assert len(rejected) == 1  # the bad rows themselves are kept, not only the report


def test_missing_event_id_column_rejects_the_batch_naming_the_field(
    service: IngestService,
) -> None:
    with pytest.raises(InputError) as err:
        service.ingest_events("credit", events(3).drop_columns(["event_id"]), source="x.csv")
    assert err.value.field == "event_id" and err.value.file == "x.csv"
    assert "missing column 'event_id'" in str(err.value)


def test_unknown_model_names_the_known_ones(service: IngestService) -> None:
    with pytest.raises(Exception, match="credit"):
        service.ingest_events("nope", events(1))


def test_every_batch_appends_one_audit_entry_and_the_chain_verifies(
    service: IngestService,
) -> None:
    service.ingest_events("credit", events(10))
    service.ingest_events("credit", events(10))
    service.ingest_events("credit", [{"event_id": "x", "age": 1}])
    with service.store.session(read_only=True) as s:
        entries = list_entries(s)
        assert verify(s).ok
    actions = [e.action for e in entries]
    assert actions.count("ingest.batch") == 2 and actions.count("ingest.quarantine") == 1
    assert entries[-1].details["new"] == 10 if entries[-1].action == "ingest.batch" else True


def test_hourly_windows_align_to_the_epoch_and_merge_on_read(service: IngestService, clock) -> None:
    # 3 hours of events, one per 6 s, sent in 4 uneven batches.
    table = events(1800, spacing_s=6.0)
    for a, b in ((0, 100), (100, 700), (700, 701), (701, 1800)):
        service.ingest_events("credit", table.slice(a, b - a))
    windows = service.list_windows("credit")
    assert [w.start for w in windows] == [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    assert [w.n for w in windows] == [600, 600, 600]
    assert all(w.closed for w in windows)  # the clock is a day later
    profile = service.read_window_profile("credit", T0, T0 + timedelta(hours=1))
    first_hour = table.slice(0, 600)
    income = first_hour.column("income").to_numpy()
    assert profile.n == 600
    assert profile.features["income"].count == 600
    assert profile.features["income"].mean == pytest.approx(income.mean())
    assert profile.features["income"].min == income.min()
    regions = dict(
        zip(*np.unique(first_hour.column("region").to_numpy(), return_counts=True), strict=True)
    )
    assert profile.features["region"].counts() == regions
    assert profile.segments["region"].counts() == regions
    assert profile.latency is not None and profile.latency.count == 600
    assert profile.confidence is not None and profile.confidence.max <= 1.0
    assert profile.prediction is not None and sum(profile.prediction.counts().values()) == 600


def test_count_windows_number_only_new_events(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service("events: 100")
    service.ingest_events("credit", events(150))
    service.ingest_events("credit", events(120, start=100))  # 50 duplicates, 70 new
    windows = service.list_windows("credit")
    assert [(w.index, w.n, w.closed) for w in windows] == [
        (0, 100, True),
        (1, 100, True),
        (2, 20, False),
    ]
    assert service.read_window_profile("credit", index=1).n == 100


def test_labels_join_by_event_id_and_fill_the_events_window(service: IngestService) -> None:
    service.ingest_events("credit", events(50))
    labels = [{"event_id": f"e{i}", "label": i % 2} for i in range(40)]
    labels.append({"event_id": "never-sent", "label": 1})
    result = service.ingest_labels("credit", labels)
    assert (result.n_new, result.n_quarantined) == (40, 1)
    assert result.problems[0].field == "event_id" and result.problems[0].row == 41
    again = service.ingest_labels("credit", labels[:40])
    assert again.summary() == "0 new, 40 duplicates"
    joined = service.read_events("credit", with_labels=True)
    assert joined.num_rows == 50
    assert joined.column("label").null_count == 10
    profile = service.read_window_profile("credit")
    assert profile.label is not None and profile.label.counts() == {"0": 20, "1": 20}
    assert service.list_windows("credit")[0].n_labels == 40


def test_retention_purges_old_days_keeps_profiles_and_audits(service: IngestService, clock) -> None:
    service.ingest_events("credit", events(10))  # 2026-03-01
    clock.advance(timedelta(days=40))
    service.ingest_events("credit", events(10, start=10, t0=clock.now() - timedelta(hours=2)))
    purge = service.purge_expired("credit")
    assert (purge.files, purge.events) == (1, 10)
    assert service.read_events("credit").column("event_id").to_pylist() == [
        f"e{i}" for i in range(10, 20)
    ]
    assert [p for p, _ in service.log.files("events", "credit")] and len(
        list(service.log.files("events", "credit"))
    ) == 1
    assert service.read_window_profile("credit").n == 20  # profiles outlive raw events
    with service.store.session(read_only=True) as s:
        assert any(e.action == "ingest.retention_purge" for e in list_entries(s))


def test_orphan_files_are_never_read_and_get_cleaned(service: IngestService) -> None:
    service.ingest_events("credit", events(10))
    orphan = service.log.root / "events" / "credit" / "2026-03-01" / "b_ORPHAN.parquet"
    orphan.write_bytes(b"half a file from a crash")
    assert service.read_events("credit").num_rows == 10
    assert service.clean_orphans("credit", older_than_s=-1) == [
        "events/credit/2026-03-01/b_ORPHAN.parquet"
    ]
    assert not orphan.exists()
    assert service.read_events("credit").num_rows == 10


def test_reference_profile_is_built_once_and_reused(service: IngestService) -> None:
    first = service.reference_profile("credit")
    assert first.n == 500
    assert first.label is not None and first.label.counts() == {"false": 333, "true": 167}
    again = service.reference_profile("credit")
    assert (
        again.features["income"].quantiles([0.1, 0.5]).tolist()
        == first.features["income"].quantiles([0.1, 0.5]).tolist()
    )
    assert again.features["region"].counts() == first.features["region"].counts()
    # A stored profile is read, not rebuilt: break the builder and read again.
    import watchkeeper.ingest.service as svc

    original = svc.build_reference_profile
    svc.build_reference_profile = None  # type: ignore[assignment]
    try:
        assert service.reference_profile("credit").n == 500
    finally:
        svc.build_reference_profile = original


def test_compaction_merges_closed_windows_without_changing_them(
    service: IngestService,
) -> None:
    table = events(600, spacing_s=12.0)  # two hours
    for start in range(0, 600, 50):
        service.ingest_events("credit", table.slice(start, 50))
    before = service.list_windows("credit")
    assert [w.parts for w in before] == [6, 6]
    profiles = [service.read_window_profile("credit", w.start, w.end) for w in before]
    assert service.compact_profiles("credit") == 10
    after = service.list_windows("credit")
    assert [(w.start, w.n, w.parts) for w in after] == [(w.start, w.n, 1) for w in before]
    for w, old in zip(after, profiles, strict=True):
        new = service.read_window_profile("credit", w.start, w.end)
        assert new.features["income"].mean == pytest.approx(old.features["income"].mean)
        assert new.features["region"].counts() == old.features["region"].counts()


def test_events_older_than_the_retention_are_quarantined_not_double_counted(
    service: IngestService, clock
) -> None:
    service.ingest_events("credit", events(10))  # 2026-03-01, one day old
    clock.advance(timedelta(days=40))  # retention is 30 days in the test policy
    service.purge_expired("credit")
    again = service.ingest_events("credit", events(10))
    assert (again.n_new, again.n_quarantined) == (0, 10)
    assert again.problems[0].field == "timestamp"
    assert again.problems[0].expected.startswith("a time within the event retention (30 days")
    assert service.read_window_profile("credit").n == 10


def test_events_out_of_time_order_land_in_their_windows(service: IngestService) -> None:
    table = events(1800, spacing_s=6.0)
    shuffled = table.take(np.random.default_rng(1).permutation(1800))
    service.ingest_events("credit", shuffled)
    windows = service.list_windows("credit")
    assert [w.n for w in windows] == [600, 600, 600]
    last = service.read_window_profile("credit", windows[2].start, windows[2].end)
    assert last.features["age"].mean == pytest.approx(
        table.slice(1200, 600).column("age").to_numpy().mean()
    )
