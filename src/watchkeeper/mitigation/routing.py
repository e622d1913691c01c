"""Which model version serves a request, from the live routing state. Pure.

Order of precedence: an active kill switch sends everything to the fallback (a version, a
rule, or a refusal); otherwise a canary takes its share of requests, chosen by a stable hash of
the request key so a customer stays on one side; the champion serves the rest. A shadow
version receives a copy of each request, and its answer is logged, never returned.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from watchkeeper.core.clock import ensure_utc

Role = Literal["champion", "canary", "fallback", "rule", "reject"]


@dataclass(frozen=True, slots=True)
class KillSwitch:
    active: bool = False
    fallback: str = "previous_version"  # previous_version | reject | rule:<import.path>
    reason: str = ""
    thrown_by: str = ""
    thrown_at: datetime | None = None
    expires_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.active and (self.expires_at is None or ensure_utc(now) < self.expires_at)


@dataclass(frozen=True, slots=True)
class RoutingState:
    model: str
    champion: int | None = None
    fallback_version: int | None = None  # what previous_version resolves to
    canary: int | None = None
    canary_share: float = 0.0  # 0..1
    shadow: int | None = None
    kill_switch: KillSwitch = KillSwitch()
    revision: int = 0  # increases with every change; routers compare it to refresh cheaply

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        ks = d["kill_switch"]
        for key in ("thrown_at", "expires_at"):
            ks[key] = ks[key].isoformat() if ks[key] else None
        return d


@dataclass(frozen=True, slots=True)
class RouteDecision:
    model: str
    version: int | None  # None for reject / rule
    role: Role
    shadow: int | None = None
    rule: str | None = None  # import path when role == "rule"
    revision: int = 0
    reason: str = ""


def bucket(key: str) -> float:
    """A stable position in [0, 1) for a request key (same key, same side of the split)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def route(state: RoutingState, key: str, now: datetime) -> RouteDecision:
    ks = state.kill_switch
    if ks.in_force(now):
        why = f"kill switch: {ks.reason}"
        if ks.fallback == "reject":
            return RouteDecision(state.model, None, "reject", revision=state.revision, reason=why)
        if ks.fallback.startswith("rule:"):
            return RouteDecision(state.model, None, "rule", rule=ks.fallback.removeprefix("rule:"),
                                 revision=state.revision, reason=why)
        if state.fallback_version is None:
            return RouteDecision(state.model, None, "reject", revision=state.revision,
                                 reason=why + " (no previous version to fall back to)")
        return RouteDecision(state.model, state.fallback_version, "fallback",
                             revision=state.revision, reason=why)
    if state.champion is None and state.canary is None:
        return RouteDecision(state.model, None, "reject", revision=state.revision,
                             reason="no version is serving")
    if state.canary is not None and bucket(key) < state.canary_share:
        return RouteDecision(state.model, state.canary, "canary", shadow=state.shadow,
                             revision=state.revision)
    return RouteDecision(state.model, state.champion, "champion", shadow=state.shadow,
                         revision=state.revision)
