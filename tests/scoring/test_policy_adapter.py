from __future__ import annotations

from watchkeeper.core.enums import SignalKind as K
from watchkeeper.policy.scoring import ScoringPolicy
from watchkeeper.scoring.config import ScoringConfig
from watchkeeper.scoring.policy import config_from_policy


def test_default_policy_section_gives_the_default_config() -> None:
    cfg = config_from_policy(ScoringPolicy(), label="default")
    assert cfg == ScoringConfig()


def test_policy_values_reach_the_scoring_config() -> None:
    sp = ScoringPolicy.model_validate({
        "weights": {"latency": 1.0}, "floors": {"data_drift": 0.3},
        "persistence": {"windows": 4, "required": 3, "hysteresis": 5},
        "tiers": {"T1": 20, "T2": 50, "T3": 80},
        "seasonality": {"period": "1d", "history": 3},
    })
    cfg = config_from_policy(sp)
    assert cfg.weights[K.LATENCY] == 1.0 and cfg.floors[K.DATA_DRIFT] == 0.3
    assert (cfg.persistence.windows, cfg.persistence.required) == (4, 3)
    assert cfg.bands.as_tuple() == (20, 50, 80)
    assert cfg.seasonality.enabled and cfg.seasonality.slot == "hour_of_day"
    assert cfg.seasonality.history == 3


def test_model_entries_give_importance_scaled_to_the_top_feature_and_context() -> None:
    from types import SimpleNamespace as NS

    from watchkeeper.core.enums import Criticality
    from watchkeeper.scoring.policy import context_of, importance_of

    feats = {"income": NS(importance=0.5), "age": NS(importance=0.25), "zip": NS(importance=None)}
    model = NS(data_schema=NS(features=feats), criticality=Criticality.HIGH, regulatory=True,
               customer_impact="low")
    assert importance_of(model) == {"income": 1.0, "age": 0.5}
    unset = NS(data_schema=NS(features={"zip": NS(importance=None)}))
    assert importance_of(unset) is None
    ctx = context_of(model, age_days=3)
    assert (ctx.criticality, ctx.regulatory, ctx.customer_impact) == ("high", True, "low")
