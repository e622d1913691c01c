"""One incident per problem: a model's problems are grouped by cause family, so a drift that
shows in ten features over five windows is one incident, not fifty.

Families follow what a responder does about them: `drift` (inputs, outputs or the relation
between them moved, with the performance and calibration it costs: retrain), `data_quality`
(the data is broken: quarantine, fix the pipe), `latency`, `labels` and `external`. A covariate
shift that also lowers estimated accuracy is one drift incident, not two.
"""

from __future__ import annotations

from watchkeeper.core.enums import SignalKind

_FAMILY: dict[SignalKind, str] = {
    SignalKind.DATA_QUALITY: "data_quality",
    SignalKind.DATA_DRIFT: "drift",
    SignalKind.PREDICTION_DRIFT: "drift",
    SignalKind.PERFORMANCE: "drift",
    SignalKind.ESTIMATED_PERFORMANCE: "drift",
    SignalKind.CALIBRATION: "drift",
    SignalKind.LATENCY: "latency",
    SignalKind.LABEL_DELAY: "labels",
    SignalKind.EXTERNAL: "external",
}


def cause_family(kind: SignalKind) -> str:
    return _FAMILY[kind]


def group_key(model: str, family: str, qualifier: str | None = None) -> str:
    """The deduplication key of an incident; external alerts add their alert name."""
    return f"{model}/{family}" + (f"/{qualifier}" if qualifier else "")
