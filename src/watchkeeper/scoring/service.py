"""The scoring stage's only door to the database: score a closed window and store it, keep the
persistence state per model, keep versioned scoring configurations (audited)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchkeeper.audit import append as audit_append
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import SYSTEM_CLOCK, Clock, ensure_utc
from watchkeeper.core.enums import SignalKind, Tier
from watchkeeper.core.errors import ConflictError, InputError, NotFoundError
from watchkeeper.core.records import Contributor, Score, Signal, WindowKey
from watchkeeper.scoring.backtest import Incident, WindowOutcome
from watchkeeper.scoring.config import ScoringConfig
from watchkeeper.scoring.context import ModelContext
from watchkeeper.scoring.scorer import ModelState, Scored, score_window
from watchkeeper.store import Store
from watchkeeper.store.tables.scoring import ScoreRow, ScoringConfigRow, ScoringState


def contributor_to_dict(c: Contributor) -> dict[str, Any]:
    return {
        "kind": c.kind.value, "share": c.share, "severity": c.severity, "feature": c.feature,
        "method": c.method, "effect_size": c.effect_size,
        "interval": list(c.interval) if c.interval else None, "text": c.text,
    }


def contributor_from_dict(d: Mapping[str, Any]) -> Contributor:
    interval = d.get("interval")
    return Contributor(
        kind=SignalKind(d["kind"]), share=float(d["share"]), severity=float(d["severity"]),
        feature=d.get("feature"), method=d.get("method"), effect_size=d.get("effect_size"),
        interval=(float(interval[0]), float(interval[1])) if interval else None,
        text=d.get("text", ""),
    )


def _score_of(row: ScoreRow) -> Score:
    return Score(
        window=WindowKey(row.model, row.window_start, row.window_end), value=row.value,
        tier=Tier(row.tier), raw_tier=Tier(row.raw_tier),
        contributors=tuple(contributor_from_dict(c) for c in row.contributors),
        config_version=row.config_version, summary=row.summary,
    )


class ScoringService:
    def __init__(self, store: Store, *, clock: Clock = SYSTEM_CLOCK,
                 default: ScoringConfig | None = None) -> None:
        self.store = store
        self.clock = clock
        self.default = default or ScoringConfig()  # until a configuration is saved

    # -- configurations ------------------------------------------------------------------

    def save_config(
        self, config: ScoringConfig, *, actor: str, comment: str = "",
        metrics: Mapping[str, Any] | None = None, activate: bool = True,
    ) -> str:
        """Store `config` under its version (idempotent) and make it the active one; audited."""
        with self.store.session() as s:
            row = s.get(ScoringConfigRow, config.version)
            previous = self._active_row(s)
            if row is None:
                row = ScoringConfigRow(
                    version=config.version, body=config.to_dict(), active=False,
                    created_at=self.clock.now(), created_by=actor, comment=comment,
                    metrics=dict(metrics or {}),
                )
                s.add(row)
                s.flush()
            if activate and not row.active:
                s.execute(update(ScoringConfigRow).values(active=False))
                row.active = True
            audit_append(
                s, actor=actor, action=AuditAction.SCORING_CONFIG, subject=config.version,
                details={"activated": activate,
                         "previous": previous.version if previous else None,
                         "comment": comment, "metrics": dict(metrics or {})},
            )
        return config.version

    def active_config(self) -> ScoringConfig:
        with self.store.session(read_only=True) as s:
            row = self._active_row(s)
            return ScoringConfig.from_dict(row.body) if row else self.default

    def config(self, version: str) -> ScoringConfig:
        with self.store.session(read_only=True) as s:
            row = s.get(ScoringConfigRow, version)
            if row is None:
                known = s.scalars(select(ScoringConfigRow.version)).all()
                raise NotFoundError(f"no scoring config {version!r}; known: {', '.join(known)}")
            return ScoringConfig.from_dict(row.body)

    @staticmethod
    def _active_row(s: Session) -> ScoringConfigRow | None:
        return s.scalars(select(ScoringConfigRow).where(ScoringConfigRow.active)).first()

    # -- scoring -------------------------------------------------------------------------

    def score(
        self, window: WindowKey, signals: Sequence[Signal], *,
        importance: Mapping[str, float] | None = None, context: ModelContext | None = None,
        config: ScoringConfig | None = None,
    ) -> Score:
        """Score one closed window, apply and store the model's persistence state, store the
        score. Idempotent: a window already scored returns the stored score unchanged. Windows
        must arrive in order per model (an older window than the last one is a conflict)."""
        start, end = ensure_utc(window.start), ensure_utc(window.end)
        if end <= start:
            raise InputError(f"window ends {end} before it starts {start}", field="window",
                             expected="start < end")
        window = WindowKey(window.model, start, end)
        cfg = config or self.active_config()
        try:
            return self._score(window, signals, cfg, importance, context)
        except IntegrityError:
            # A concurrent scorer stored this window (or the model's first state) first; its
            # result stands, and the state was stepped exactly once.
            stored = self.scores(window.model, since=start, until=end)
            if stored and stored[0].window.start == start:
                return stored[0]
            raise

    def _score(self, window: WindowKey, signals: Sequence[Signal], cfg: ScoringConfig,
               importance: Mapping[str, float] | None, context: ModelContext | None) -> Score:
        start, end = window.start, window.end
        with self.store.session() as s:
            state_row = s.get(ScoringState, window.model, with_for_update=True)
            existing = s.scalars(select(ScoreRow).where(
                ScoreRow.model == window.model, ScoreRow.window_start == start)).first()
            if existing is not None:
                return _score_of(existing)
            if state_row is not None and start < state_row.last_window_end:
                raise ConflictError(
                    f"{window.model}: window starting {start} is older than the last scored "
                    f"window (ended {state_row.last_window_end}); windows are scored in order")
            state = ModelState.from_dict(state_row.state if state_row else None)
            previous_tier = Tier(state.persistence.tier)
            scored, state = score_window(window, signals, cfg, state, importance=importance,
                                         context=context)
            now = self.clock.now()
            s.add(self._row(scored, now))
            if state_row is None:
                s.add(ScoringState(model=window.model, state=state.to_dict(),
                                   last_window_end=end, updated_at=now))
            else:
                state_row.state = state.to_dict()
                state_row.last_window_end = end
                state_row.updated_at = now
            if scored.score.tier != previous_tier:  # a decision: the model's tier changed
                audit_append(
                    s, actor="scoring", action=AuditAction.WINDOW_SCORED, subject=window.model,
                    details={"window_start": start.isoformat(), "value": scored.score.value,
                             "tier": str(scored.score.tier), "previous_tier": str(previous_tier),
                             "config_version": cfg.version, "summary": scored.score.summary},
                )
        return scored.score

    def score_stored(
        self, window: WindowKey, *, importance: Mapping[str, float] | None = None,
        context: ModelContext | None = None, config: ScoringConfig | None = None,
    ) -> Score:
        """Score a closed window from the signals the signals stage stored for it (a window
        without stored signals scores 0: no detector found anything)."""
        start = ensure_utc(window.start)
        stored = stored_signal_windows(self.store, models=[window.model], since=start)
        signals = next((sig for key, sig in stored if key.start == start), [])
        return self.score(window, signals, importance=importance, context=context,
                          config=config)

    @staticmethod
    def _row(scored: Scored, now: datetime) -> ScoreRow:
        sc, d = scored.score, scored.decision
        return ScoreRow(
            model=sc.window.model, window_start=sc.window.start, window_end=sc.window.end,
            value=sc.value, tier=int(sc.tier), raw_tier=int(sc.raw_tier),
            config_version=sc.config_version,
            contributors=[contributor_to_dict(c) for c in sc.contributors], summary=sc.summary,
            flags={"bypassed": d.bypassed, "flapping": d.flapping, "held": d.held,
                   "catastrophic": scored.fusion.catastrophic,
                   "context_multiplier": scored.fusion.multiplier},
            scored_at=now,
        )

    # -- reading ---------------------------------------------------------------------------

    def scores(self, model: str | None = None, *, since: datetime | None = None,
               until: datetime | None = None) -> list[Score]:
        with self.store.session(read_only=True) as s:
            q = select(ScoreRow).order_by(ScoreRow.model, ScoreRow.window_start)
            if model is not None:
                q = q.where(ScoreRow.model == model)
            if since is not None:
                q = q.where(ScoreRow.window_start >= ensure_utc(since))
            if until is not None:
                q = q.where(ScoreRow.window_end <= ensure_utc(until))
            return [_score_of(r) for r in s.scalars(q)]

    def state(self, model: str) -> ModelState:
        with self.store.session(read_only=True) as s:
            row = s.get(ScoringState, model)
            return ModelState.from_dict(row.state if row else None)

    def outcomes(self, models: Sequence[str] | None = None) -> list[WindowOutcome]:
        """Stored tiers as the backtest reads them."""
        out = []
        for sc in self.scores():
            if models and sc.window.model not in models:
                continue
            top = sc.contributors[0] if sc.contributors else None
            out.append(WindowOutcome(sc.window.model, sc.window.start, sc.window.end,
                                     int(sc.tier), sc.value, top.kind.value if top else None,
                                     top.feature if top else None))
        return out


def stored_signal_windows(
    store: Store, *, models: Sequence[str] | None = None, since: datetime | None = None,
) -> list[tuple[WindowKey, list[Signal]]]:
    """Signals the signals stage stored, grouped by window, in order (for backtests)."""
    from watchkeeper.store.tables.signals import SignalRow

    with store.session(read_only=True) as s:
        q = select(SignalRow).order_by(SignalRow.model, SignalRow.window_start, SignalRow.id)
        if models:
            q = q.where(SignalRow.model.in_(list(models)))
        if since is not None:
            q = q.where(SignalRow.window_start >= ensure_utc(since))
        groups: dict[tuple[str, datetime], tuple[WindowKey, list[Signal]]] = {}
        for r in s.scalars(q):
            key = (r.model, r.window_start)
            if key not in groups:
                groups[key] = (WindowKey(r.model, r.window_start, r.window_end), [])
            groups[key][1].append(Signal(
                kind=SignalKind(r.kind), method=r.method, severity=r.severity,
                statistic=r.statistic, p_value=r.p_value, effect_size=r.effect_size,
                threshold=r.threshold, feature=r.feature, segment=r.segment,
                catastrophic=r.catastrophic, evidence=r.evidence, details=dict(r.details),
            ))
    return list(groups.values())


def stored_incidents(store: Store) -> list[Incident]:
    """Responder verdicts from the incidents stage: dismissed incidents become labelled
    negatives (their reason is the verdict); acknowledged, mitigated or resolved ones count
    as confirmed; incidents still open have no verdict yet and are left out."""
    from watchkeeper.store.tables.incidents import Incident as IncidentRow

    out = []
    with store.session(read_only=True) as s:
        for r in s.scalars(select(IncidentRow).where(IncidentRow.state != "open")):
            start = r.change_point_at or r.opened_at
            end = r.resolved_at or r.dismissed_at or r.last_window_end or r.updated_at
            if end <= start:
                continue
            verdict = r.dismiss_reason if r.state == "dismissed" else "confirmed"
            out.append(Incident(r.model, start, end, f"T{r.max_tier}",
                                verdict or "false_positive"))
    return out
