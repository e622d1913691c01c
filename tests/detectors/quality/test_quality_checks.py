"""Data-quality checks: each flags the broken case, passes the healthy one, refuses bad input."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from watchkeeper.core.errors import InputError
from watchkeeper.detectors import quality as q

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class TestMissingRate:
    def test_a_clear_rise_is_flagged_with_its_numbers_in_the_evidence(self):
        r = q.missing_rate_change(20, 1000, 150, 1000, feature="income")
        assert r.flagged and not r.catastrophic
        assert r.statistic == pytest.approx(0.15)
        assert r.effect_size == pytest.approx(0.13)
        assert r.p_value < 1e-10
        assert "income" in r.evidence and "15.0%" in r.evidence and "2.0%" in r.evidence
        assert 0.5 < r.severity <= 1.0

    def test_p_value_matches_a_pooled_two_proportion_z_test(self):
        # scipy has no such test; cross-check via chi-square on the 2x2 table (z**2 == chi2)
        r = q.missing_rate_change(30, 800, 55, 900)
        _chi2, p_two, _, _ = stats.chi2_contingency([[30, 770], [55, 845]], correction=False)
        assert r.p_value == pytest.approx(p_two / 2, rel=1e-9)

    def test_a_significant_but_tiny_rise_on_huge_samples_is_not_an_alarm(self):
        r = q.missing_rate_change(100_000, 10_000_000, 110_000, 10_000_000)
        assert r.p_value < 1e-6
        assert not r.flagged
        assert r.severity < 0.05

    def test_a_large_rise_on_a_tiny_sample_is_not_significant(self):
        r = q.missing_rate_change(0, 10, 1, 10)
        assert r.effect_size == pytest.approx(0.1)
        assert not r.flagged

    def test_all_values_missing_is_catastrophic(self):
        r = q.missing_rate_change(5, 1000, 400, 400, feature="region")
        assert r.catastrophic and r.flagged and r.severity == 1.0
        assert "every one of 400" in r.evidence

    def test_empty_window_is_defined_not_an_error(self):
        r = q.missing_rate_change(5, 1000, 0, 0)
        assert not r.flagged and np.isnan(r.statistic)

    def test_arrays_count_none_and_nan(self):
        assert q.count_missing([1.0, np.nan, 2.0]) == (1, 3)
        assert q.count_missing(["a", None, float("nan"), "b"]) == (2, 4)
        r = q.missing_rate_change_arrays(np.ones(500), [None] * 100 + [1.0] * 100)
        assert r.flagged and r.statistic == pytest.approx(0.5)

    @pytest.mark.parametrize(
        ("args", "field"),
        [((5, 4, 0, 1), "reference_missing"), ((-1, 4, 0, 1), "reference_missing"),
         ((0, 4, 0.5, 1), "current_missing"), ((0, 4, 0, "x"), "current_total")],
    )
    def test_bad_counts_name_the_argument(self, args, field):
        with pytest.raises(InputError) as err:
            q.missing_rate_change(*args)
        assert err.value.field == field


class TestDomain:
    def test_values_outside_the_reference_range_are_counted_with_examples(self):
        ref = np.linspace(0, 100, 1001)
        cur = np.concatenate([np.linspace(10, 90, 950), [-5, -5, 150, 200, np.inf], [np.nan] * 7])
        r = q.out_of_range(cur, reference=ref, feature="age", max_share=0.005)
        assert r.details["below"] == 2 and r.details["above"] == 3
        assert r.statistic == pytest.approx(5 / 955)
        assert r.flagged
        assert r.details["examples"][:2] == [-5.0, 150.0]
        assert "[0, 100]" in r.evidence

    def test_declared_bounds_take_precedence_and_healthy_data_passes(self):
        r = q.out_of_range([1, 2, 3], low=0, high=10)
        assert not r.flagged and r.statistic == 0.0 and r.severity == 0.0

    def test_range_needs_bounds_or_reference(self):
        with pytest.raises(InputError, match="reference"):
            q.out_of_range([1.0, 2.0])
        with pytest.raises(InputError, match="numbers"):
            q.out_of_range(["a", "b"], low=0, high=1)

    def test_unseen_categories_share_and_most_frequent_examples(self):
        counts = Counter(["a"] * 90 + ["b"] * 5 + ["zz"] * 4 + ["yy"])
        r = q.unseen_categories({"a", "b", "c"}, counts, feature="region")
        assert r.statistic == pytest.approx(0.05)
        assert r.details["examples"] == ["zz", "yy"]
        assert r.flagged and "'zz'" in r.evidence

    def test_known_categories_only_do_not_flag(self):
        r = q.unseen_categories(["a", "b"], {"a": 10, "b": 3})
        assert not r.flagged and r.severity == 0.0


class TestSchema:
    def test_new_missing_and_retyped_columns_are_named(self):
        ref = {"age": "numeric", "region": "categorical", "income": "numeric"}
        cur = {"age": "categorical", "region": "categorical", "score": "numeric"}
        r = q.schema_change(ref, cur)
        assert r.details["new"] == ["score"]
        assert r.details["missing"] == ["income"]
        assert r.details["retyped"] == {"age": ["numeric", "categorical"]}
        assert r.flagged and r.statistic == 3
        assert "missing income" in r.evidence and "age (numeric -> categorical)" in r.evidence

    def test_losing_an_important_column_is_catastrophic(self):
        r = q.schema_change({"a": "numeric", "b": "numeric"}, {"a": "numeric"}, important=["b"])
        assert r.catastrophic and r.severity == 1.0

    def test_same_schema_in_another_order_is_unchanged(self):
        r = q.schema_change({"a": 1, "b": 2}, {"b": 2, "a": 1})
        assert not r.flagged and r.severity == 0.0


class TestConstantAndStuck:
    def test_a_frozen_feature_is_catastrophic(self):
        r = q.constant_feature_arrays(np.arange(100.0), [3.5] * 40 + [None], feature="x")
        assert r.flagged and r.catastrophic
        assert "all 40 values identical (3.5)" in r.evidence

    def test_a_feature_constant_in_the_reference_too_is_fine(self):
        assert not q.constant_feature_arrays([1, 1, 1], [1, 1]).flagged
        assert not q.constant_feature_arrays([1, 2], [7]).flagged  # one row says nothing

    def test_identical_windows_in_a_row_are_stuck(self):
        w = np.random.default_rng(0).normal(size=100)
        other = w + 1
        fps = [q.fingerprint(other), q.fingerprint(w), q.fingerprint(w), q.fingerprint(w)]
        r = q.stuck_feature(fps, feature="x", min_windows=3)
        assert r.flagged and r.statistic == 3
        assert not q.stuck_feature(fps[:3], min_windows=3).flagged

    def test_empty_windows_do_not_count_as_stuck(self):
        assert q.fingerprint([np.nan]) is None
        assert not q.stuck_feature([None, None, None]).flagged
        with pytest.raises(InputError, match="min_windows"):
            q.stuck_feature([1, 1], min_windows=1)


class TestDuplicates:
    def test_share_of_repeated_ids(self):
        ids = [f"e{i}" for i in range(95)] + ["e1", "e2", "e2", "e3", "e4"]
        r = q.duplicate_events(ids)
        assert r.statistic == pytest.approx(0.05)
        assert r.flagged and r.details["examples"] == ["e1", "e2", "e3", "e4"]

    def test_unique_ids_pass_and_missing_ids_are_named_by_row(self):
        assert not q.duplicate_events(["a", "b"]).flagged
        with pytest.raises(InputError) as err:
            q.duplicate_events(["a", None])
        assert err.value.row == 1


class TestFreshness:
    def test_stream_quiet_for_three_intervals_is_flagged(self):
        r = q.freshness(T0, T0 + timedelta(minutes=30), timedelta(minutes=10))
        assert r.statistic == pytest.approx(3.0)
        assert r.flagged and not r.catastrophic
        assert "30.0 min ago" in r.evidence

    def test_fresh_stream_passes_and_a_dead_one_is_catastrophic(self):
        assert not q.freshness(T0, T0 + timedelta(minutes=5), timedelta(minutes=10)).flagged
        assert q.freshness(T0, T0 + timedelta(days=1), timedelta(minutes=10)).catastrophic
        assert q.freshness(None, T0, timedelta(minutes=10)).catastrophic

    def test_naive_and_aware_times_are_refused(self):
        with pytest.raises(InputError, match="naive"):
            q.freshness(datetime(2026, 1, 1), T0, timedelta(minutes=1))


class TestLabelDelay:
    def test_overdue_share_among_events_due_a_label(self):
        events = [T0 + timedelta(hours=i) for i in range(10)]
        now = T0 + timedelta(hours=10)
        # events 0..7 are >= 2 h old (due); labels: 0..3 on time, 4 late, 5..9 none
        labels = [e + timedelta(hours=1) for e in events[:4]] + [events[4] + timedelta(hours=3)]
        labels += [None] * 5
        r = q.label_delay(events, labels, now, timedelta(hours=2))
        assert r.details["due"] == 9
        assert r.details["overdue"] == 5
        assert r.statistic == pytest.approx(5 / 9)
        assert r.details["median_delay_seconds"] == 3600
        assert r.flagged

    def test_label_before_event_is_refused_by_row(self):
        with pytest.raises(InputError) as err:
            q.label_delay([T0, T0], [None, T0 - timedelta(1)], T0, timedelta(hours=1))
        assert err.value.row == 1

    def test_lengths_must_match(self):
        with pytest.raises(InputError, match="one entry"):
            q.label_delay([T0], [], T0, timedelta(hours=1))


def test_every_catalogue_entry_returns_a_frozen_result_with_evidence():
    results = [
        q.CHECKS["missing_rate"](1, 10, 1, 10),
        q.CHECKS["out_of_range"](0, 0, 10, low=0, high=1),
        q.CHECKS["unseen_categories"](["a"], {"a": 1}),
        q.CHECKS["schema_change"]({"a": 1}, {"a": 1}),
        q.CHECKS["constant"](2, 2, 10),
        q.CHECKS["stuck"]([1, 2]),
        q.CHECKS["duplicates"](10, 0),
        q.CHECKS["freshness"](T0, T0, timedelta(minutes=1)),
        q.CHECKS["label_delay"]([], [], T0, timedelta(hours=1)),
    ]
    for r, method in zip(results, q.CHECKS, strict=True):
        assert r.method == method
        assert r.evidence.endswith(".")
        assert 0.0 <= r.severity <= 1.0
        with pytest.raises(AttributeError):
            r.severity = 0.5  # type: ignore[misc]
