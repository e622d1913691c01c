from __future__ import annotations

import pytest

from watchkeeper.core.errors import InputError
from watchkeeper.scoring.fairness import alert_concentration

TRAFFIC = {"north": 4000, "south": 3000, "east": 2000, "west": 1000}


def test_alerts_proportional_to_traffic_are_not_flagged() -> None:
    r = alert_concentration({"north": 41, "south": 29, "east": 20, "west": 10}, TRAFFIC)
    assert not r.concentrated
    assert {s.segment: round(s.ratio, 2) for s in r.segments}["west"] == 1.0
    assert "follow traffic" in r.summary()


def test_alerts_piling_up_in_a_small_segment_are_flagged() -> None:
    r = alert_concentration({"north": 20, "south": 15, "east": 10, "west": 55}, TRAFFIC)
    west = next(s for s in r.segments if s.segment == "west")
    assert r.concentrated and west.concentrated and west.ratio == pytest.approx(5.5)
    assert r.chi2_p_value < 1e-6 and "west" in r.summary()


def test_no_alerts_is_fair_and_unknown_segments_are_refused() -> None:
    assert not alert_concentration({}, TRAFFIC).concentrated
    with pytest.raises(InputError, match="without traffic"):
        alert_concentration({"mars": 3}, TRAFFIC)
