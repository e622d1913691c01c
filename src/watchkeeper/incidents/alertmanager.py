"""Incidents from outside: the payload Prometheus Alertmanager's webhook receiver posts.

Each alert must carry a `model` label naming a watchkeeper model; its tier comes from a `tier`
label (T1..T3) or else from `severity` (critical -> T3, warning/error -> T2, info -> T1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError
from watchkeeper.incidents.grouping import group_key

SEVERITY_TIERS = {"critical": Tier.T3, "page": Tier.T3, "error": Tier.T2, "warning": Tier.T2,
                  "info": Tier.T1, "none": Tier.T1}


@dataclass(frozen=True, slots=True)
class ExternalAlert:
    model: str
    alertname: str
    tier: Tier
    firing: bool
    starts_at: datetime | None
    ends_at: datetime | None
    labels: Mapping[str, str]
    summary: str
    fingerprint: str

    @property
    def key(self) -> str:
        return group_key(self.model, "external", self.alertname)


def parse_webhook(payload: Any) -> list[ExternalAlert]:
    """Read an Alertmanager webhook body (version 4); errors name the alert and the field."""
    if not isinstance(payload, Mapping):
        raise InputError("the body must be a JSON object", expected="Alertmanager webhook v4")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise InputError("missing or non-list 'alerts'", field="alerts",
                         expected="a list of alerts")
    out = []
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]"
        if not isinstance(alert, Mapping):
            raise InputError("each alert must be an object", field=where)
        labels = alert.get("labels") or {}
        if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
            raise InputError("labels must be an object of strings", field=f"{where}.labels")
        model = labels.get("model") or labels.get("watchkeeper_model")
        if not model:
            raise InputError("the alert has no 'model' label", field=f"{where}.labels.model",
                             expected="the name of a watchkeeper model")
        tier = _tier(labels, f"{where}.labels")
        annotations = alert.get("annotations") or {}
        status = alert.get("status", payload.get("status", "firing"))
        if status not in ("firing", "resolved"):
            raise InputError(f"unknown status {status!r}", field=f"{where}.status",
                             expected="firing or resolved")
        out.append(ExternalAlert(
            model=model,
            alertname=labels.get("alertname", "external"),
            tier=tier,
            firing=status == "firing",
            starts_at=_time(alert.get("startsAt"), f"{where}.startsAt"),
            ends_at=_time(alert.get("endsAt"), f"{where}.endsAt"),
            labels=dict(labels),
            summary=str(annotations.get("summary") or annotations.get("description") or "")[:500],
            fingerprint=str(alert.get("fingerprint") or ""),
        ))
    return out


def _tier(labels: Mapping[str, str], where: str) -> Tier:
    if "tier" in labels:
        try:
            tier = Tier.parse(labels["tier"])
        except ValueError as exc:
            raise InputError(str(exc), field=f"{where}.tier") from None
        if tier == Tier.T0:
            raise InputError("an alert cannot be T0", field=f"{where}.tier", expected="T1..T3")
        return tier
    severity = labels.get("severity", "warning").lower()
    if severity not in SEVERITY_TIERS:
        raise InputError(f"unknown severity {severity!r}", field=f"{where}.severity",
                         expected=", ".join(SEVERITY_TIERS))
    return SEVERITY_TIERS[severity]


def _time(value: Any, where: str) -> datetime | None:
    if value in (None, "", "0001-01-01T00:00:00Z"):
        return None
    try:
        return ensure_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise InputError(f"cannot read time {value!r}", field=where,
                         expected="RFC 3339, e.g. 2026-01-01T00:00:00Z") from None
