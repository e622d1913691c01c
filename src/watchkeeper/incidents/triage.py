"""Triage: what a scored window means for the model's incidents. Pure; the service applies it.

A window at T1 or above opens an incident for its cause family or updates the open one (tier
upgrades and downgrades are recorded); a healthy window counts towards automatic resolution
where the policy asks for it. Silences and inhibition suppress opening, and say why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from watchkeeper.core.enums import SignalKind, Tier
from watchkeeper.core.records import Score
from watchkeeper.incidents.grouping import cause_family, group_key
from watchkeeper.incidents.silences import Silence, silenced_by


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """What triage needs to know about an active incident."""

    id: str
    key: str
    model: str
    tier: Tier
    healthy_windows: int = 0


@dataclass(frozen=True, slots=True)
class Open:
    key: str
    model: str
    family: str
    tier: Tier
    title: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Update:
    incident_id: str
    old_tier: Tier
    new_tier: Tier

    @property
    def direction(self) -> str:
        if self.new_tier > self.old_tier:
            return "upgrade"
        return "downgrade" if self.new_tier < self.old_tier else "same"


@dataclass(frozen=True, slots=True)
class Reopen:
    """The same problem came back soon after it was resolved: reopen, do not re-fire."""

    incident_id: str
    tier: Tier


@dataclass(frozen=True, slots=True)
class Healthy:
    incident_id: str
    healthy_windows: int
    resolve: bool


@dataclass(frozen=True, slots=True)
class Suppressed:
    key: str
    tier: Tier
    reason: str
    silence_id: str | None = None
    inhibited_by: str | None = None


Decision = Open | Update | Reopen | Healthy | Suppressed


@dataclass(frozen=True, slots=True)
class TriageInput:
    score: Score
    active: Sequence[OpenIncident]
    silences: Sequence[Silence] = field(default=())
    resolve_after_healthy_windows: int | None = None
    now: datetime | None = None
    # Incidents resolved within the policy's `group_within`: the same key reopens them.
    recently_resolved: Sequence[OpenIncident] = field(default=())


def top_kind(score: Score) -> SignalKind | None:
    if not score.contributors:
        return None
    return max(score.contributors, key=lambda c: c.share).kind


def labels_for(model: str, family: str, tier: Tier, score: Score) -> dict[str, str]:
    labels = {"model": model, "kind": family, "tier": str(tier)}
    top = max(score.contributors, key=lambda c: c.share) if score.contributors else None
    if top is not None and top.feature:
        labels["feature"] = top.feature
    return labels


def triage(inp: TriageInput) -> list[Decision]:
    score = inp.score
    model = score.window.model
    now = inp.now or score.window.end
    mine = [i for i in inp.active if i.model == model]
    decisions: list[Decision] = []

    if score.tier < Tier.T1:
        for inc in mine:
            count = inc.healthy_windows + 1
            limit = inp.resolve_after_healthy_windows
            decisions.append(Healthy(inc.id, count, resolve=limit is not None and count >= limit))
        return decisions

    # A tier held by persistence (this window alone says T0) is the same problem going on:
    # whatever weak signal tops this window must not open a new incident.
    kind = top_kind(score) if score.raw_tier >= Tier.T1 else None
    if kind is None:
        # The tier is held by persistence with no signal this window: the same problem goes
        # on. Keep the worst open incident current; without one there is nothing to open.
        if not mine:
            return []
        worst = max(mine, key=lambda i: i.tier)
        return [Update(worst.id, worst.tier, score.tier)]
    family = cause_family(kind)
    key = group_key(model, family)
    existing = next((i for i in mine if i.key == key), None)
    if existing is None and family == "drift":
        # Broken inputs explain moved outputs and lost accuracy: while the model has an open
        # data-quality incident, drift and performance signals belong to it.
        existing = next((i for i in mine if i.key == group_key(model, "data_quality")), None)
    if existing is not None:
        decisions.append(Update(existing.id, existing.tier, score.tier))
        return decisions

    recent = next((i for i in inp.recently_resolved if i.key == key), None)
    if recent is not None:
        return [Reopen(recent.id, score.tier)]

    labels = labels_for(model, family, score.tier, score)
    silence = silenced_by(labels, now, inp.silences)
    if silence is not None:
        return [Suppressed(key, score.tier, f"silenced: {silence.reason}", silence_id=silence.id)]
    critical = next((i for i in mine if i.tier == Tier.T3), None)
    if critical is not None and score.tier < Tier.T3:
        return [Suppressed(key, score.tier, f"inhibited by open T3 incident {critical.id}",
                           inhibited_by=critical.id)]
    title = f"{model}: {family.replace('_', ' ')} at {score.tier}"
    if score.summary:
        title += f" — {score.summary}"
    decisions.append(Open(key, model, family, score.tier, title[:300], labels))
    return decisions
