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
    labels: Mapping[str, str] = field(default_factory=dict)  # "feature": its top feature


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


def _healthy(inc: OpenIncident, inp: TriageInput) -> Healthy:
    count, limit = inc.healthy_windows + 1, inp.resolve_after_healthy_windows
    return Healthy(inc.id, count, resolve=limit is not None and count >= limit)


def _quiet(score: Score, inc: OpenIncident) -> bool:
    """No contributor of this window is the incident's kind of problem. For a data-quality
    incident: no quality signal, no drift of its broken input, and no moved outputs or lost
    accuracy unless another input's drift explains them."""
    family = inc.key.split("/")[1] if "/" in inc.key else ""
    if family != "data_quality":
        return all(cause_family(c.kind) != family for c in score.contributors)
    broken = inc.labels.get("feature")
    inputs = {c.feature for c in score.contributors if c.kind is SignalKind.DATA_DRIFT}
    explained = bool(inputs - {None, broken})
    for c in score.contributors:
        if c.kind is SignalKind.DATA_QUALITY or (c.kind is SignalKind.DATA_DRIFT
                                                 and c.feature == broken):
            return False
        if c.feature is None and cause_family(c.kind) == "drift" and not explained:
            return False
    return True


def _another_input(score: Score, kind: SignalKind, broken: OpenIncident) -> bool:
    """Is the top of this window a drifting input other than the data-quality incident's?"""
    feature = max(score.contributors, key=lambda c: c.share).feature
    return (kind is SignalKind.DATA_DRIFT and feature is not None
            and feature != broken.labels.get("feature", feature))


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

    if score.tier < Tier.T1:
        return [_healthy(inc, inp) for inc in mine]

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
        # data-quality incident, drift and performance signals belong to it. Not so an input
        # drifting that is not the broken one: that is a new problem, with its own remedy.
        broken = next((i for i in mine if i.key == group_key(model, "data_quality")), None)
        if broken is not None and not _another_input(score, kind, broken):
            existing = broken
    # Another open incident whose own signals are quiet in this window heals, though the model
    # as a whole is not healthy: a data-quality incident must not stay open for as long as an
    # unrelated drift lasts.
    healing = [_healthy(i, inp) for i in mine if i is not existing and _quiet(score, i)]
    if existing is not None:
        return [Update(existing.id, existing.tier, score.tier), *healing]

    recent = next((i for i in inp.recently_resolved if i.key == key), None)
    if recent is not None:
        return [Reopen(recent.id, score.tier), *healing]

    labels = labels_for(model, family, score.tier, score)
    silence = silenced_by(labels, now, inp.silences)
    if silence is not None:
        return [Suppressed(key, score.tier, f"silenced: {silence.reason}", silence_id=silence.id),
                *healing]
    critical = next((i for i in mine if i.tier == Tier.T3), None)
    if critical is not None and score.tier < Tier.T3:
        return [Suppressed(key, score.tier, f"inhibited by open T3 incident {critical.id}",
                           inhibited_by=critical.id), *healing]
    title = f"{model}: {family.replace('_', ' ')} at {score.tier}"
    if score.summary:
        title += f" — {score.summary}"
    return [Open(key, model, family, score.tier, title[:300], labels), *healing]
