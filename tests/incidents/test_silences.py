from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.core.errors import InputError
from watchkeeper.incidents.silences import Matcher, Silence, WeeklyWindow, silenced_by

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # a Sunday


def silence(*matchers: str, schedule=(), ends=None, **kw) -> Silence:
    return Silence(
        id="s1", matchers=tuple(Matcher.parse(m) for m in matchers), starts_at=T0,
        ends_at=ends, created_by="alice", reason=kw.get("reason", "batch job"), schedule=schedule,
    )


@pytest.mark.parametrize(
    ("text", "labels", "hit"),
    [
        ("model=credit-risk", {"model": "credit-risk"}, True),
        ("model=credit-risk", {"model": "churn"}, False),
        ("kind!=latency", {"kind": "drift"}, True),
        ("kind!=latency", {"kind": "latency"}, False),
        ("model=~credit-.*", {"model": "credit-risk"}, True),
        ("model=~credit-.*", {"model": "xcredit-risk"}, False),
        ("alertname!~Watch.*", {"alertname": "Watchdog"}, False),
        ("feature=", {}, True),  # empty value matches an absent label, as in Alertmanager
    ],
)
def test_matcher_table(text: str, labels: dict, hit: bool) -> None:
    assert Matcher.parse(text).matches(labels) is hit


def test_matcher_errors_name_the_field() -> None:
    with pytest.raises(InputError, match=r"field .matchers.*expected name=value"):
        Matcher.parse("no operator")
    with pytest.raises(InputError, match="invalid regular expression"):
        Matcher.parse("model=~(")


def test_one_off_silence_expires() -> None:
    s = silence("model=credit-risk", ends=T0 + timedelta(hours=2))
    labels = {"model": "credit-risk"}
    assert s.matches(labels, T0 + timedelta(hours=1))
    assert not s.matches(labels, T0 + timedelta(hours=2))
    assert not s.matches(labels, T0 - timedelta(seconds=1))


def test_recurring_sunday_batch_window_in_local_time() -> None:
    window = WeeklyWindow.parse(["sunday"], "02:00", "04:00", "Europe/Berlin")
    s = silence("model=credit-risk", schedule=(window,))
    labels = {"model": "credit-risk"}
    # Berlin is UTC+1 in November: 02:00-04:00 local is 01:00-03:00 UTC.
    assert s.matches(labels, datetime(2026, 11, 1, 1, 30, tzinfo=UTC))
    assert not s.matches(labels, datetime(2026, 11, 1, 3, 30, tzinfo=UTC))
    assert s.matches(labels, datetime(2026, 11, 8, 2, 59, tzinfo=UTC))  # next Sunday
    assert not s.matches(labels, datetime(2026, 11, 2, 1, 30, tzinfo=UTC))  # Monday


def test_window_across_midnight() -> None:
    window = WeeklyWindow.parse(["sat"], "23:00", "01:00")
    assert window.active(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    assert window.active(datetime(2026, 11, 1, 0, 30, tzinfo=UTC))
    assert not window.active(datetime(2026, 11, 1, 1, 30, tzinfo=UTC))


def test_expired_silence_never_matches() -> None:
    s = silence("model=credit-risk")
    expired = Silence(**{**{f: getattr(s, f) for f in s.__slots__}, "expired": True})
    assert silenced_by({"model": "credit-risk"}, T0, [expired]) is None
    assert silenced_by({"model": "credit-risk"}, T0, [s]) is s


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"matchers": ()}, "needs at least one matcher"),
        ({"reason": "  "}, "needs a reason"),
        ({"ends_at": T0}, "must end after it starts"),
    ],
)
def test_bad_silences_are_refused(kwargs: dict, message: str) -> None:
    base = dict(id="s", matchers=(Matcher("model", "m"),), starts_at=T0, ends_at=None,
                created_by="a", reason="r")
    with pytest.raises(InputError, match=message):
        Silence(**{**base, **kwargs})


def test_bad_schedule_values() -> None:
    with pytest.raises(InputError, match="unknown weekday 'funday'"):
        WeeklyWindow.parse(["funday"], "02:00", "04:00")
    with pytest.raises(InputError, match="unknown time zone"):
        WeeklyWindow.parse(["sun"], "02:00", "04:00", "Mars/Olympus")
    with pytest.raises(InputError, match="cannot read time '25:00'"):
        WeeklyWindow.parse(["sun"], "25:00", "04:00")
