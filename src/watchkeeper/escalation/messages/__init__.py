"""Messages per audience: on-call engineer, executive, customer, regulator, partner.

Every message carries a concise summary, score and tier, top causes, confidence, recommended
next steps with deadlines, and a link to the incident's dashboard page. PII named in the policy
is removed before rendering. Messages to external audiences start as drafts until approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from watchkeeper.core.redact import pii_values
from watchkeeper.core.redact import redact_everywhere as redact
from watchkeeper.escalation.config import AUDIENCES, EXTERNAL_AUDIENCES, RACI_ROLES
from watchkeeper.escalation.incident import IncidentView

TEMPLATES = Path(__file__).with_name("templates")
EVENT_WORDS = {"trigger": "New incident", "escalate": "Escalated", "remind": "Reminder",
               "deputy": "Deputy page", "acknowledge": "Acknowledged", "resolve": "Resolved"}

_text_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                               undefined=jinja2.StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=False)
_html_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=jinja2.StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True)


@dataclass(frozen=True, slots=True)
class Message:
    audience: str
    event: str
    subject: str
    text: str
    html: str
    summary: str
    tier: str
    score: float | None
    causes: tuple[str, ...]
    confidence: float | None
    next_steps: tuple[dict[str, Any], ...]
    link: str
    external: bool
    facts: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d["causes"] = list(self.causes)
        d["next_steps"] = [dict(s) for s in self.next_steps]
        d["facts"] = dict(self.facts)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Message:
        return cls(**{**d, "causes": tuple(d.get("causes", ())),
                      "next_steps": tuple(d.get("next_steps", ())),
                      "facts": dict(d.get("facts", {}))})


def incident_link(dashboard_url: str, incident_id: str) -> str:
    return f"{dashboard_url.rstrip('/')}/incidents/{incident_id}"


def render_message(
    incident: IncidentView,
    audience: str,
    *,
    event: str = "trigger",
    dashboard_url: str = "http://127.0.0.1:8000",
    pii_fields: Iterable[str] = (),
    people: Mapping[str, list[str]] | None = None,
    timings: Mapping[str, Any] | None = None,
    max_causes: int = 3,
) -> Message:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")
    pii = tuple(pii_fields)
    # Values under PII keys anywhere in the incident (sample rows, labels) are also scrubbed
    # from free text such as the summary, where a detector may have quoted them.
    leaked = pii_values({"details": dict(incident.details), "labels": dict(incident.labels)}, pii)
    steps = [{"text": s.text, "due": s.due.isoformat() if s.due else None, "owner": s.owner}
             for s in incident.next_steps]
    context = redact({
        "event": event,
        "event_word": EVENT_WORDS.get(event, event.title()),
        "id": incident.id,
        "model": incident.model,
        "tier": str(incident.tier),
        "score": None if incident.score is None else round(float(incident.score), 1),
        "state": incident.state,
        "opened_at": incident.opened_at.strftime("%Y-%m-%d %H:%M UTC"),
        "title": incident.title or f"{incident.model}: {incident.tier} incident",
        "summary": incident.summary or incident.title or f"Model {incident.model} needs attention.",
        "causes": list(incident.causes[:max_causes]),
        "confidence": incident.confidence,
        "confidence_pct": None if incident.confidence is None
        else f"{round(100 * incident.confidence)}%",
        "next_steps": steps,
        "people": {**{r: [] for r in RACI_ROLES}, **dict(people or {})},
        "timings": {"ack_deadline": None, "next_escalation": None, "next_reminder": None,
                    **dict(timings or {})},
        "link": incident_link(dashboard_url, incident.id),
    }, pii, leaked)
    ctx = {**context, "fmt_time": _fmt_time}
    text = _text_env.get_template(f"{audience}.txt.j2").render(ctx).strip() + "\n"
    html = _html_env.get_template(f"{audience}.html.j2").render(ctx)
    subject = _text_env.get_template("subject.txt.j2").render({**ctx, "audience": audience})
    facts = {"Model": context["model"], "Tier": context["tier"],
             "Score": "n/a" if context["score"] is None else str(context["score"]),
             "Confidence": context["confidence_pct"] or "n/a"}
    return Message(audience=audience, event=event, subject=subject.strip(), text=text, html=html,
                   summary=context["summary"], tier=context["tier"], score=context["score"],
                   causes=tuple(context["causes"]), confidence=incident.confidence,
                   next_steps=tuple(context["next_steps"]), link=context["link"],
                   external=audience in EXTERNAL_AUDIENCES, facts=facts)


def _fmt_time(value: str | None) -> str:
    if not value:
        return "none"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
