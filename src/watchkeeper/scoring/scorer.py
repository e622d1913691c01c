"""One window, start to finish, with no I/O: seasonality -> fusion x context -> persistence ->
explanation. The service (service.py) and the backtests call this same function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watchkeeper.core.enums import Tier
from watchkeeper.core.records import Score, Signal, WindowKey
from watchkeeper.scoring import seasonality
from watchkeeper.scoring.backtest import WindowOutcome
from watchkeeper.scoring.config import ScoringConfig
from watchkeeper.scoring.context import ModelContext, context_multiplier
from watchkeeper.scoring.explain import explain
from watchkeeper.scoring.fusion import Fusion, fuse
from watchkeeper.scoring.persistence import Decision, PersistenceState, step


@dataclass(slots=True)
class ModelState:
    """What scoring remembers about one model between windows."""

    persistence: PersistenceState = field(default_factory=PersistenceState)
    seasonal: seasonality.SeasonalState = field(default_factory=seasonality.SeasonalState)

    def to_dict(self) -> dict[str, Any]:
        return {"persistence": self.persistence.to_dict(), "seasonal": self.seasonal.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ModelState:
        data = data or {}
        return cls(
            persistence=PersistenceState.from_dict(data.get("persistence")),
            seasonal=seasonality.SeasonalState.from_dict(data.get("seasonal")),
        )


@dataclass(frozen=True, slots=True)
class Scored:
    score: Score
    fusion: Fusion
    decision: Decision


def score_window(
    window: WindowKey,
    signals: Sequence[Signal],
    config: ScoringConfig,
    state: ModelState,
    *,
    importance: Mapping[str, float] | None = None,
    context: ModelContext | None = None,
) -> tuple[Scored, ModelState]:
    """Score one closed window. `state` is updated in place and returned."""
    adjusted = seasonality.adjust(signals, window.start, state.seasonal, config.seasonality)
    multiplier, reasons = (
        context_multiplier(context, config.context) if context is not None else (1.0, [])
    )
    fusion = fuse(adjusted, config, importance=importance, multiplier=multiplier)
    decision, state.persistence = step(
        state.persistence, fusion.value, config.bands, config.persistence,
        catastrophic=fusion.catastrophic,
    )
    seasonality.learn(signals, window.start, state.seasonal, config.seasonality,
                      alerting=decision.tier >= Tier.T2)
    score = explain(window, fusion, decision, config.version, top=config.top_contributors,
                    context_reasons=reasons)
    return Scored(score, fusion, decision), state


def rescore(
    windows: Iterable[tuple[WindowKey, Sequence[Signal]]],
    config: ScoringConfig,
    *,
    importance: Mapping[str, Mapping[str, float]] | None = None,
    since: datetime | None = None,
) -> list[WindowOutcome]:
    """Replay windows through the live pipeline (fresh state per model, windows in order) and
    return what a backtest compares with incidents; windows before `since` only warm up."""
    by_model: dict[str, list[tuple[WindowKey, Sequence[Signal]]]] = {}
    for key, signals in windows:
        by_model.setdefault(key.model, []).append((key, signals))
    out: list[WindowOutcome] = []
    for model, items in by_model.items():
        state = ModelState()
        imp = (importance or {}).get(model)
        for key, signals in sorted(items, key=lambda ks: ks[0].start):
            scored, state = score_window(key, signals, config, state, importance=imp)
            if since is not None and key.start < since:
                continue
            top = scored.score.contributors[0] if scored.score.contributors else None
            out.append(WindowOutcome(
                model, key.start, key.end, int(scored.score.tier), scored.score.value,
                top.kind.value if top else None, top.feature if top else None))
    return out
