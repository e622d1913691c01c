"""Calibration: fit the scoring configuration to incident history. Pure (numpy, scikit-learn).

Three steps, each answering one question:

1. **Floors** - what does each kind of detector say when nothing is wrong? The floor of a kind
   is a high quantile (99% by default, kept in 0.05..0.5) of its severities in windows that
   were not part of a confirmed incident. Evidence only starts above it, so each part of the
   score is measured against its own false-alarm rate.
2. **Weights** - how much does each kind tell us about real incidents? A logistic regression
   of "window is inside a confirmed incident" on the per-kind evidence E_k, with balanced
   classes, weights bounded below by a small positive value (no kind is ever silenced) and an
   L2 penalty that shrinks the weights towards their common mean. The shrinkage matters:
   kinds that move together (an AUC drop and a calibration gap under concept drift) make an
   unpenalised fit hand the weight to either one arbitrarily, which would scramble the
   explanations; shrunk, they share it. Fitted with scipy's L-BFGS-B (scikit-learn's
   LogisticRegression has neither bounds nor a penalty towards a common value). The
   coefficients become hazard weights, scaled so that the regression's even-odds boundary
   sits at score 50; kinds never seen in the history keep their weight.
3. **Bands** - where should T2 start? Among the T2 thresholds whose *alert-level* precision
   (after persistence, as `backtest` counts it) reaches the target, those within 0.005 of the
   best F1 form a plateau; T2 is its centre, the threshold furthest from both missing
   incidents and raising false alarms. T1 is half of T2 and T3 halfway from T2 to 100.

Responder feedback enters as data: windows of incidents dismissed as false positive or not
actionable are negatives with `feedback_weight` (3 by default), so the next fit learns most
from the alarms that wasted somebody's time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from scipy import optimize, special

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.errors import InputError
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.scoring import seasonality
from watchkeeper.scoring.backtest import Incident, Report, WindowOutcome, evaluate
from watchkeeper.scoring.config import ScoringConfig, TierBands
from watchkeeper.scoring.fusion import fuse, kind_evidence
from watchkeeper.scoring.persistence import PersistenceState, step

KINDS = tuple(SignalKind)
# A floor above 0.5 would ignore effects at the detector's own threshold.
MIN_FLOOR, MAX_FLOOR = 0.05, 0.5


@dataclass(frozen=True, slots=True)
class LabelledWindow:
    window: WindowKey
    signals: tuple[Signal, ...]  # after seasonal adjustment
    label: int  # 1: inside a confirmed incident
    weight: float = 1.0
    importance: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    config: ScoringConfig
    before: Report
    after: Report
    coefficients: dict[str, float]
    intercept: float
    windows: int
    positives: int
    feedback_negatives: int
    notes: list[str] = field(default_factory=list)


def label_windows(
    windows: Iterable[tuple[WindowKey, Sequence[Signal]]],
    incidents: Sequence[Incident],
    config: ScoringConfig,
    *,
    importance: Mapping[str, Mapping[str, float]] | None = None,
    feedback_weight: float = 3.0,
    since: datetime | None = None,
) -> list[LabelledWindow]:
    """Label each window by the incidents it overlaps, with seasonal adjustment applied as the
    live scorer would (baselines learn only from windows outside confirmed incidents).
    Windows before `since` only warm the seasonal baselines up and are not returned: a first
    week without a baseline would otherwise teach the fit that a weekly cycle is noise."""
    by_model: dict[str, list[Incident]] = defaultdict(list)
    for inc in incidents:
        by_model[inc.model].append(inc)
    states: dict[str, seasonality.SeasonalState] = defaultdict(seasonality.SeasonalState)
    out: list[LabelledWindow] = []
    for key, signals in sorted(windows, key=lambda ks: (ks[0].model, ks[0].start)):
        hits = [i for i in by_model.get(key.model, ()) if key.start < i.end and key.end > i.start]
        positive = any(i.confirmed for i in hits)
        dismissed = not positive and bool(hits)
        state = states[key.model]
        adjusted = seasonality.adjust(signals, key.start, state, config.seasonality)
        seasonality.learn(signals, key.start, state, config.seasonality, alerting=positive)
        if since is not None and key.start < since:
            continue
        out.append(LabelledWindow(
            key, tuple(adjusted), int(positive), feedback_weight if dismissed else 1.0,
            (importance or {}).get(key.model),
        ))
    return out


def outcomes(
    history: Sequence[LabelledWindow], config: ScoringConfig, *, since: datetime | None = None
) -> list[WindowOutcome]:
    """Score and tier every window in order per model (persistence included), as backtests
    need them; windows before `since` run through persistence but are not returned."""
    out: list[WindowOutcome] = []
    states: dict[str, PersistenceState] = {}
    for lw in sorted(history, key=lambda x: (x.window.model, x.window.start)):
        f = fuse(lw.signals, config, importance=lw.importance)
        state = states.get(lw.window.model, PersistenceState())
        decision, states[lw.window.model] = step(
            state, f.value, config.bands, config.persistence, catastrophic=f.catastrophic)
        if since is not None and lw.window.start < since:
            continue
        top = f.parts[0].signal if f.parts else None
        out.append(WindowOutcome(
            lw.window.model, lw.window.start, lw.window.end, int(decision.tier), f.value,
            top.kind.value if top else None, top.feature if top else None))
    return out


def _floors(history: Sequence[LabelledWindow], base: ScoringConfig, quantile: float
            ) -> dict[SignalKind, float]:
    values: dict[SignalKind, list[float]] = defaultdict(list)
    for lw in history:
        if lw.label == 0:
            for s in lw.signals:
                if not s.catastrophic:
                    values[s.kind].append(s.severity)
    floors = dict(base.floors)
    for kind, vals in values.items():
        floors[kind] = float(np.clip(np.quantile(vals, quantile), MIN_FLOOR, MAX_FLOOR))
    return floors


def _best_t2(values: dict[str, list[tuple[WindowOutcome, bool]]], incidents: list[Incident],
             config: ScoringConfig, target: float) -> tuple[float, Report]:
    results: dict[float, Report] = {}
    for t2 in np.arange(10.0, 96.0, 2.5):
        bands = bands_for(float(t2))
        tiers = []
        for series in values.values():
            state = PersistenceState()
            for w, cat in series:
                d, state = step(state, w.value, bands, config.persistence, catastrophic=cat)
                tiers.append(replace(w, tier=int(d.tier)))
        results[float(t2)] = evaluate(tiers, incidents)
    good = {t: r for t, r in results.items() if r.precision >= target}
    if not good:
        t = max(results, key=lambda k: (results[k].precision, -k))
        return t, results[t]
    # The centre of the plateau of best F1: the threshold furthest from both failure modes.
    top = max(r.f1 for r in good.values())
    plateau = sorted(t for t, r in good.items() if r.f1 >= top - 0.005)
    t = plateau[len(plateau) // 2]
    return t, results[t]


MIN_COEF = 0.1


def _penalised_logistic(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, *, shrinkage: float
) -> tuple[np.ndarray, float]:
    """Balanced, bounded (w >= MIN_COEF) logistic regression with penalty
    shrinkage * sum (w_k - mean w)^2; returns (weights, intercept)."""
    n_pos = max(1, int(y.sum()))
    n_neg = max(1, len(y) - n_pos)
    a = sample_weight * np.where(y == 1, len(y) / (2 * n_pos), len(y) / (2 * n_neg))
    a = a / a.sum()
    k = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, w = theta[0], theta[1:]
        z = b + x @ w
        nll = float(np.sum(a * (np.logaddexp(0.0, z) - y * z)))
        r = a * (special.expit(z) - y)
        dev = w - w.mean()
        value = nll + shrinkage * float(dev @ dev)
        grad = np.concatenate(([r.sum()], x.T @ r + 2 * shrinkage * dev))
        return value, grad

    start = np.concatenate(([-1.0], np.ones(k)))
    bounds = [(None, None)] + [(MIN_COEF, None)] * k
    res = optimize.minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return res.x[1:], float(res.x[0])


def bands_for(t2: float) -> TierBands:
    return TierBands(t1=round(t2 / 2, 1), t2=round(t2, 1), t3=round(t2 + (100 - t2) / 2, 1))


def fit(
    history: Sequence[LabelledWindow],
    incidents: Sequence[Incident],
    base: ScoringConfig,
    *,
    target_precision: float = 0.95,
    floor_quantile: float = 0.99,
    shrinkage: float = 1e-4,
    label: str = "calibrated",
) -> CalibrationResult:
    """Fit floors, weights and bands on `history`; report before/after on the same history
    (evaluate on held-out history to judge generalisation; the benchmark does)."""
    if not 0 < target_precision <= 1:
        raise InputError(f"{target_precision}", field="target_precision", expected="in (0, 1]")
    positives = sum(lw.label for lw in history)
    if positives == 0 or positives == len(history):
        raise InputError(
            f"the history has {positives} incident windows out of {len(history)}",
            field="incidents", expected="windows both inside and outside confirmed incidents",
        )
    notes: list[str] = []
    floors = _floors(history, base, floor_quantile)
    staged = replace(base, floors=floors)
    x = np.zeros((len(history), len(KINDS)))
    for i, lw in enumerate(history):
        for kind, e in kind_evidence(lw.signals, staged, lw.importance).items():
            x[i, KINDS.index(kind)] = e
    y = np.array([lw.label for lw in history])
    sw = np.array([lw.weight for lw in history])
    seen = x.max(axis=0) > 0
    coefs_seen, b = _penalised_logistic(x[:, seen], y, sw, shrinkage=shrinkage)
    coefs = np.zeros(len(KINDS))
    coefs[seen] = coefs_seen
    scale = math.log(2.0) / -b if b < 0 else 1.0
    if b >= 0:
        notes.append("intercept >= 0: healthy windows are rare in this history; weights unscaled")
    weights = dict(base.weights)
    for k, kind in enumerate(KINDS):
        if seen[k]:
            weights[kind] = round(float(coefs[k]) * scale, 4)
    weighted = replace(staged, weights=weights)
    # Bands: scores do not depend on them, so score once and replay persistence per threshold.
    series: dict[str, list[tuple[WindowOutcome, bool]]] = defaultdict(list)
    for lw in sorted(history, key=lambda h: (h.window.model, h.window.start)):
        f = fuse(lw.signals, weighted, importance=lw.importance)
        series[lw.window.model].append(
            (WindowOutcome(lw.window.model, lw.window.start, lw.window.end, 0, f.value),
             f.catastrophic))
    t2, _ = _best_t2(series, list(incidents), weighted, target_precision)
    new = replace(weighted, bands=bands_for(t2), label=label)
    before = evaluate(outcomes(history, base), incidents)
    after = evaluate(outcomes(history, new), incidents)
    if after.precision < target_precision:
        notes.append(f"no T2 threshold reaches precision {target_precision:.2f} on this history;"
                     " chose the most precise one")
    return CalibrationResult(
        config=new, before=before, after=after,
        coefficients={kind.value: float(coefs[k]) for k, kind in enumerate(KINDS) if seen[k]},
        intercept=b, windows=len(history), positives=positives,
        feedback_negatives=sum(1 for lw in history if lw.weight != 1.0), notes=notes,
    )
