"""Staged rollout as a state machine, and the canary verdict. Pure.

    shadow ──dwell──▶ canary step 0 (5%) ──dwell──▶ … ──▶ step n (100%) ──dwell──▶ promoted
       │                    │                                  │                 ▲
       └────────────────────┴──── regression: rolled_back ─────┘     awaiting_sign_off
                                                                  (criticality high / regulatory)

At every tick the canary is compared with the champion on the live events each served since
the step began (`model_version` tells them apart): the realised KPI where both sides have
enough labels, else a label-free estimate from the models' own probabilities, plus the error
rate (events with no prediction). A regression rolls back at once, without waiting for the
dwell; a healthy step advances after its dwell; an inconclusive one waits for evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from watchkeeper.core.enums import Task
from watchkeeper.mitigation import metrics as m

SHADOW = -1
ACTIVE_STATES = ("shadow", "canary", "awaiting_sign_off")
FINAL_STATES = ("promoted", "rolled_back", "aborted")
MIN_LABELLED = 30  # rows per side before a realised KPI is trusted
MIN_EVENTS = 30  # rows per side before a label-free estimate is trusted


@dataclass(frozen=True, slots=True)
class SideFigures:
    """What one version did during the current step."""

    n: int
    n_labelled: int
    errors: int
    realised: float | None  # the primary metric on labelled rows
    estimated: float | None  # label-free estimate of it

    @property
    def error_rate(self) -> float:
        return self.errors / self.n if self.n else 0.0


def side_figures(task: Task, metric: str, threshold: float, scores: np.ndarray,
                 labels: np.ndarray | None, errors: int) -> SideFigures:
    scores = np.asarray(scores, dtype=float)
    n = int(scores.size) + errors
    realised = None
    n_lab = 0
    if labels is not None:
        have = ~np.isnan(labels.astype(float))
        n_lab = int(have.sum())
        if n_lab >= MIN_LABELLED:
            realised = m.metric(metric, labels[have], scores[have], task, threshold)
    estimated = expected_metric(metric, scores, threshold) if task == \
        Task.BINARY_CLASSIFICATION and scores.size >= MIN_EVENTS else None
    return SideFigures(n, n_lab, errors, realised, estimated)


def expected_metric(metric: str, p: np.ndarray, threshold: float) -> float | None:
    """The metric's expectation if P(class 1) is calibrated (the candidate passed the ECE gate,
    the champion was validated the same way): the expected confusion matrix, as in CBPE."""
    decided = p >= threshold
    tp, fp = float(p[decided].sum()), float((1 - p[decided]).sum())
    fn, tn = float(p[~decided].sum()), float((1 - p[~decided]).sum())
    total = tp + fp + fn + tn
    values = {
        "accuracy": (tp + tn) / total if total else None,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
        "positive_rate": float(decided.mean()) if p.size else None,
    }
    return values.get(metric)


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Literal["healthy", "regression", "inconclusive"]
    reason: str
    metric: str
    basis: Literal["realised", "estimated", "none"]
    canary: float | None
    champion: float | None
    canary_error_rate: float
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.decision != "regression"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(canary: SideFigures, champion: SideFigures, *, metric: str, max_kpi_drop: float,
          max_error_rate: float, baseline: tuple[float, str] | None = None) -> Verdict:
    """Compare the canary with the champion (or, when the champion served nothing this step,
    with its last judged figure: `baseline` = (value, "realised" | "estimated"))."""
    base_value, base_basis = baseline if baseline is not None else (None, None)
    figures = {"canary": asdict(canary), "champion": asdict(champion), "baseline": base_value}
    err = canary.error_rate
    if canary.n >= MIN_EVENTS and err > max_error_rate:
        return Verdict("regression", f"canary error rate {err:.2%} is above "
                       f"{max_error_rate:.2%}", metric, "none", None, None, err, figures)
    basis: Literal["realised", "estimated", "none"] = "none"
    cv = ch = None
    if canary.realised is not None and (champion.realised is not None
                                        or base_basis == "realised"):
        basis, cv = "realised", canary.realised
        ch = champion.realised if champion.realised is not None else base_value
    elif canary.estimated is not None and (champion.estimated is not None
                                           or base_basis == "estimated"):
        basis, cv = "estimated", canary.estimated
        ch = champion.estimated if champion.estimated is not None else base_value
    if cv is None or ch is None:
        return Verdict("inconclusive", f"not enough live events yet (canary {canary.n}, "
                       f"champion {champion.n})", metric, basis, cv, ch, err, figures)
    drop = (ch - cv) if m.higher_is_better(metric) else (cv - ch)
    figures["drop"] = round(drop, 6)
    if drop > max_kpi_drop:
        return Verdict("regression", f"canary {metric} {cv:.4f} is worse than the champion's "
                       f"{ch:.4f} by {drop:.4f} (> {max_kpi_drop:g}, {basis})", metric, basis,
                       cv, ch, err, figures)
    return Verdict("healthy", f"canary {metric} {cv:.4f} vs champion {ch:.4f} ({basis}); "
                   f"error rate {err:.2%}", metric, basis, cv, ch, err, figures)


@dataclass(frozen=True, slots=True)
class Step:
    """What the service must do now."""

    action: Literal["hold", "advance", "rollback", "await_sign_off", "promote"]
    state: str
    step: int
    share: float  # canary traffic share 0..1 after the action (0 in shadow)
    reason: str


def share_of(steps: list[float], step: int) -> float:
    return 0.0 if step == SHADOW else steps[step] / 100.0


def next_step(*, state: str, step: int, step_started_at: datetime, now: datetime,
              steps: list[float], dwell: timedelta, verdict: Verdict | None,
              needs_sign_off: bool, signed_off: bool) -> Step:
    if state in FINAL_STATES:
        return Step("hold", state, step, 0.0, f"rollout is {state}")
    if verdict is not None and verdict.decision == "regression":
        return Step("rollback", "rolled_back", step, 0.0, verdict.reason)
    if state == "awaiting_sign_off":
        if signed_off:
            return Step("promote", "promoted", step, 1.0, "signed off")
        return Step("hold", state, step, share_of(steps, step), "waiting for sign-off")
    if now - step_started_at < dwell:
        left = dwell - (now - step_started_at)
        return Step("hold", state, step, share_of(steps, step), f"dwelling ({left} left)")
    if verdict is None or verdict.decision == "inconclusive":
        why = verdict.reason if verdict else "no verdict"
        return Step("hold", state, step, share_of(steps, step), f"waiting for evidence: {why}")
    if step + 1 < len(steps):
        return Step("advance", "canary", step + 1, share_of(steps, step + 1),
                    f"step {share_of(steps, step):.0%} healthy after its dwell")
    if needs_sign_off and not signed_off:
        return Step("await_sign_off", "awaiting_sign_off", step, share_of(steps, step),
                    "full traffic healthy; a person must sign off before promotion")
    return Step("promote", "promoted", step, 1.0, "every step healthy")


def needs_sign_off(criticality: str, regulatory: bool, *, criticalities: list[str],
                   regulatory_needs: bool) -> bool:
    return criticality in criticalities or (regulatory and regulatory_needs)
