import pytest

from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError
from watchkeeper.incidents.alertmanager import parse_webhook


def payload(**alert) -> dict:
    base = {"status": "firing", "labels": {"alertname": "HighErrorRate", "model": "credit-risk",
                                           "severity": "critical"},
            "annotations": {"summary": "5xx above 5%"}, "startsAt": "2026-11-02T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc"}
    base.update(alert)
    return {"version": "4", "status": "firing", "receiver": "wk", "alerts": [base]}


def test_parses_a_firing_alert() -> None:
    [a] = parse_webhook(payload())
    assert (a.model, a.alertname, a.tier, a.firing) == ("credit-risk", "HighErrorRate", Tier.T3,
                                                       True)
    assert a.key == "credit-risk/external/HighErrorRate"
    assert a.ends_at is None and a.summary == "5xx above 5%"


def test_tier_label_wins_over_severity() -> None:
    [a] = parse_webhook(payload(labels={"model": "m", "tier": "T1", "severity": "critical"}))
    assert a.tier == Tier.T1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the body must be a JSON object"),
        ({"alerts": "x"}, "field 'alerts'"),
        (payload(labels={"alertname": "X"}), r"field 'alerts\[0\].labels.model'"),
        (payload(labels={"model": "m", "severity": "apocalyptic"}), "unknown severity"),
        (payload(labels={"model": "m", "tier": "T0"}), "cannot be T0"),
        (payload(status="pending"), "unknown status 'pending'"),
        (payload(startsAt="yesterday"), "cannot read time 'yesterday'"),
        (payload(labels={"model": 3}), "labels must be an object of strings"),
    ],
)
def test_bad_payloads_name_the_alert_and_field(body, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_webhook(body)
