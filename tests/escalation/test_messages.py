"""Messages per audience and PII redaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from escalation.samples import sample_incident
from watchkeeper.core.enums import Tier
from watchkeeper.core.redact import REDACTED
from watchkeeper.core.redact import redact_everywhere as redact
from watchkeeper.escalation.config import AUDIENCES
from watchkeeper.escalation.incident import IncidentView
from watchkeeper.escalation.messages import render_message

PEOPLE = {"responsible": ["carol"], "accountable": ["frank"]}


@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_audience_gets_the_essentials(audience: str) -> None:
    m = render_message(sample_incident(), audience, dashboard_url="https://wk.example.com/",
                       pii_fields=["email"], people=PEOPLE)
    for text in (m.text, m.html):
        assert "71.5" in text  # score
        assert "T2" in text  # tier
        assert "data drift on income" in text  # top cause
        assert "82%" in text  # confidence
        assert "Retrain on the last 30 days" in text and "2026-03-03 00:00 UTC" in text
        assert "https://wk.example.com/incidents/inc_01" in text
        assert "jane@example.com" not in text
    assert m.subject and "jane@example.com" not in m.subject
    assert m.external is (audience in ("customer", "regulator", "partner"))


def test_audiences_read_differently() -> None:
    texts = {a: render_message(sample_incident(), a, people=PEOPLE).text for a in AUDIENCES}
    assert len(set(texts.values())) == len(AUDIENCES)
    assert "Incident reference: inc_01" in texts["regulator"]
    assert "Accountable officer: frank" in texts["regulator"]
    assert "Responsible: carol" in texts["oncall"]


def test_html_is_escaped() -> None:
    inc = sample_incident(causes=("<script>alert(1)</script>",), title="<b>x</b>")
    m = render_message(inc, "oncall")
    assert "<script>" not in m.html and "&lt;script&gt;" in m.html
    assert "<script>" in m.text  # plain text is not HTML


def test_unknown_audience_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="oncall, executive, customer, regulator, partner"):
        render_message(sample_incident(), "press")


def test_minimal_incident_renders_with_placeholders() -> None:
    inc = IncidentView(id="i", model="m", tier=Tier.T1, opened_at=datetime(2026, 1, 1, tzinfo=UTC))
    for audience in AUDIENCES:
        m = render_message(inc, audience)
        assert "n/a" in m.text and "/incidents/i" in m.text


def test_huge_hostile_input_is_bounded_to_the_top_causes() -> None:
    causes = tuple(f"cause {i} " + "x" * 1000 for i in range(1000))
    m = render_message(sample_incident(causes=causes), "oncall")
    assert m.text.count("cause ") == 3 and len(m.causes) == 3


def test_redact_replaces_fields_and_scrubs_their_values_everywhere() -> None:
    bundle = {
        "summary": "row of Jane Doe <jane@example.com> drifted",
        "samples": [{"email": "jane@example.com", "Name": "Jane Doe", "income": 5},
                    {"email": None, "name": "Li", "income": 7}],
        "nested": {"deep": [{"phone": "+44 20 7946 0958"}]},
        "note": "call +44 20 7946 0958",
    }
    out = redact(bundle, ["email", "name", "phone"])
    assert out["samples"][0] == {"email": REDACTED, "Name": REDACTED, "income": 5}
    assert out["samples"][1]["name"] == REDACTED and out["samples"][1]["income"] == 7
    assert out["summary"] == f"row of {REDACTED} <{REDACTED}> drifted"
    assert out["note"] == f"call {REDACTED}"
    assert out["nested"]["deep"][0]["phone"] == REDACTED
    assert bundle["samples"][0]["email"] == "jane@example.com"  # the input is not changed


def test_redact_does_not_mangle_text_with_tiny_values() -> None:
    out = redact({"samples": [{"name": "Li"}], "summary": "Lift of 2%"}, ["name"])
    assert out["summary"] == "Lift of 2%"


def test_incident_view_reads_incident_shaped_objects_and_names_missing_fields() -> None:
    from watchkeeper.core.errors import InputError

    view = IncidentView.of({"id": "i", "model": "m", "tier": 2,
                            "opened_at": datetime(2026, 1, 1), "state": "open"})
    assert view.tier == Tier.T2 and view.opened_at.tzinfo is not None
    with pytest.raises(InputError) as info:
        IncidentView.of({"id": "i", "tier": "T2", "opened_at": datetime(2026, 1, 1)})
    assert info.value.field == "model"
