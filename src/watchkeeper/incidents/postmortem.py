"""The post-mortem template, pre-filled from what the incident already knows. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from watchkeeper.incidents.timings import IncidentTimes, human_duration

SECTIONS = ("summary", "impact", "root_cause", "what_went_well", "what_went_badly", "lessons")


def draft(
    *,
    incident: Mapping[str, Any],
    times: IncidentTimes,
    events: Sequence[Mapping[str, Any]],
    contributors: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A post-mortem body: metrics, timeline and root-cause hints filled, prose left to people."""
    hints = [
        f"{c.get('kind')}" + (f" in {c['feature']}" if c.get("feature") else "")
        + (f" ({c['share']:.0%} of the score)" if c.get("share") is not None else "")
        for c in contributors[:5]
    ]
    metrics = {
        "mttd_s": times.ttd, "mtta_s": times.tta, "mttr_s": times.ttr,
        "mttd": human_duration(times.ttd), "mtta": human_duration(times.tta),
        "mttr": human_duration(times.ttr),
    }
    return {
        "title": f"Post-mortem: {incident['title']}",
        "incident_id": incident["id"],
        "model": incident["model"],
        "tier": incident["tier"],
        "metrics": metrics,
        "timeline": [
            {"at": e["at"], "actor": e["actor"], "type": e["type"], "text": e.get("text", "")}
            for e in events
        ],
        "root_cause_hints": hints,
        **{section: "" for section in SECTIONS},
    }


def missing_for_done(body: Mapping[str, Any], open_items: int) -> list[str]:
    """What still stops a post-mortem from being marked done."""
    missing = [s for s in ("summary", "root_cause") if not str(body.get(s, "")).strip()]
    if open_items:
        missing.append(f"{open_items} action item(s) not done")
    return missing
