from __future__ import annotations

import json

import pytest

from watchkeeper.core.enums import SignalKind as K
from watchkeeper.core.errors import InputError
from watchkeeper.scoring.config import PersistenceConfig, ScoringConfig, TierBands


def test_config_round_trips_through_json_with_the_same_version() -> None:
    cfg = ScoringConfig(weights={**ScoringConfig().weights, K.LATENCY: 1.0},
                        bands=TierBands(20, 50, 80), label="x")
    again = ScoringConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.version == cfg.version


def test_version_changes_with_content_and_not_otherwise() -> None:
    a, b = ScoringConfig(), ScoringConfig()
    assert a.version == b.version
    assert ScoringConfig(bands=TierBands(31, 60, 85)).version != a.version


@pytest.mark.parametrize("bad, match", [
    ({"weights": {"drfit": 1}}, "data_drift"),
    ({"bands": {"t1": 50, "t2": 40, "t3": 90}}, "T1 < T2"),
    ({"floors": {"latency": 1.0}}, "< 1"),
    ({"weights": {"latency": -1}}, ">= 0"),
    ({"persistance": {}}, "persistence"),
])
def test_bad_configs_name_the_field_and_what_was_expected(bad: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        ScoringConfig.from_dict(bad, source="cfg.json")


def test_persistence_refuses_required_above_windows() -> None:
    with pytest.raises(InputError, match="required <= windows"):
        PersistenceConfig(windows=2, required=3)
