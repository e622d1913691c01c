"""Which actions an incident gets: the policy's playbook for its tier, root cause first. Pure.

A model must not be retrained on broken data. When the incident's cause is data quality (its
family is `data_quality`, or the top contributor of its latest window is a data-quality
signal: a null flood, a stuck feature, a schema change), retraining and threshold
recalibration are replaced by `quarantine` (hold the window back from training, naming the
broken feature and when it broke) and a `page` (a person must fix the pipeline). A kill switch
to the previous version is dropped too: that version reads the same broken inputs; a kill
switch to a rule or to rejection still protects customers and stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchkeeper.core.enums import SignalKind, Tier

LEARNS_FROM_DATA = ("retrain", "recalibrate_threshold")
OPERATIONAL_KINDS = (SignalKind.LATENCY.value, SignalKind.LABEL_DELAY.value,
                     SignalKind.EXTERNAL.value)


@dataclass(frozen=True, slots=True)
class RootCause:
    data_quality: bool
    kind: str | None = None  # the top contributor's signal kind
    feature: str | None = None  # the broken feature, where one is named
    since: datetime | None = None  # when it broke (the incident's change point)
    text: str = ""


def root_cause(family: str, contributors: Sequence[Mapping[str, Any]],
               change_point_at: datetime | None) -> RootCause:
    """From the incident's family and its latest window's contributors (largest share first,
    as the incident timeline stores them)."""
    top = contributors[0] if contributors else {}
    kind = top.get("kind")
    dq = family == "data_quality" or kind == SignalKind.DATA_QUALITY.value
    feature = top.get("feature")
    if dq and kind != SignalKind.DATA_QUALITY.value:  # family says data quality: find the one
        for c in contributors:
            if c.get("kind") == SignalKind.DATA_QUALITY.value:
                feature, kind = c.get("feature"), c.get("kind")
                top = c
                break
    return RootCause(dq, kind, feature, change_point_at, str(top.get("text") or ""))


def tier_actions(playbooks: Mapping[Tier, Sequence[str]], tier: Tier) -> list[str]:
    """The playbook of `tier`, or of the highest tier below it that has one."""
    for t in sorted((t for t in playbooks if t <= tier), reverse=True):
        return list(playbooks[t])
    return []


def choose(playbooks: Mapping[Tier, Sequence[str]], tier: Tier, cause: RootCause, *,
           quarantine_on_data_quality: bool = True,
           fallback: str = "previous_version") -> list[str]:
    actions = tier_actions(playbooks, tier)
    if cause.kind in OPERATIONAL_KINDS:
        # Slow responses, late labels or an outside alert are not cured by new weights.
        return [a for a in actions if a not in LEARNS_FROM_DATA]
    if not (cause.data_quality and quarantine_on_data_quality):
        return actions
    dropped = {*LEARNS_FROM_DATA, "quarantine", "page"}
    if fallback == "previous_version":
        dropped.add("kill_switch")
    kept = [a for a in actions if a not in dropped]
    return ["quarantine", *kept, "page"]
