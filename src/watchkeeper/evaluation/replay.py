"""Simulated traffic -> Signals, window by window, without a database.

Until the signals/ stage runs the whole policy on stored profiles, backtests need signals for
the scenario library. This module computes them straight from the sim's arrays: the data-
quality checks of `watchkeeper.detectors.quality` (missing rate, constant feature); the PSI
term of `detectors.drift.psi` for input and prediction drift, applied to every feature in one
numpy pass, with a chi-square p-value added here; and vectorised AUC, calibration-in-the-large,
p99 latency and label coverage statistics (tens of thousands of windows must replay in
minutes). All map to severities with the detectors' documented `detectors.severity`, so 0.5
means "at the threshold" as it does for every detector.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import special

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.detectors.drift.psi import FLOOR as PSI_FLOOR
from watchkeeper.detectors.drift.psi import term as psi_term
from watchkeeper.detectors.quality import constant_feature, missing_rate_change
from watchkeeper.detectors.severity import severity, severity_over_budget
from watchkeeper.sim.scenarios import Run
from watchkeeper.sim.traffic import WindowData

BINS = 10
PSI_MIN = 0.1  # the customary "moderate shift" PSI
AUC_MIN_DROP = 0.05
CITL_MIN = 0.05  # five points between observed and predicted rate
COVERAGE_MIN_DROP = 0.3  # relative drop in labels arrived by window end
LATENCY_BUDGET = 1.5  # x the reference p99
MIN_LABELS = 30
SKIP_MISSING_BELOW = 0.01


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the reference sample says, computed once per run."""

    names: tuple[str, ...]
    edges: np.ndarray  # (d, BINS - 1) inner quantile edges per feature
    ref_props: np.ndarray  # (d, BINS)
    ref_missing: np.ndarray  # (d,)
    ref_total: int
    ref_distinct: np.ndarray  # (d,)
    proba_edges: np.ndarray
    proba_props: np.ndarray
    auc: float
    latency_p99: float
    coverage: float

    @classmethod
    def of(cls, ref: WindowData, names: tuple[str, ...]) -> Baseline:
        qs = np.linspace(0, 1, BINS + 1)[1:-1]
        x = ref.features
        edges = np.stack([np.nanquantile(x[:, j], qs) for j in range(x.shape[1])])
        props = np.stack([_props(x[:, j], edges[j]) for j in range(x.shape[1])])
        p_edges = np.quantile(ref.proba, qs)
        hours = (ref.end - ref.start).total_seconds() / 3600.0 / max(1, ref.n // 400)
        rng = np.random.default_rng(0)
        coverage = float(np.mean(ref.label_delay_h <= rng.uniform(0, hours, ref.n)))
        return cls(
            names=names, edges=edges, ref_props=props,
            ref_missing=np.isnan(x).sum(axis=0), ref_total=x.shape[0],
            ref_distinct=np.array([len(np.unique(x[~np.isnan(x[:, j]), j]))
                                   for j in range(x.shape[1])]),
            proba_edges=p_edges, proba_props=_props(ref.proba, p_edges),
            auc=_auc(ref.proba, ref.labels)[0],
            latency_p99=float(np.quantile(ref.latency_ms, 0.99)), coverage=coverage,
        )


def _props(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    v = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, v), minlength=len(edges) + 1)
    return counts / max(1, counts.sum())


def _psi_many(ref_props: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PSI per row and the chi-square goodness-of-fit p-value of the current counts against the
    reference shares; rows are features (or one row for predictions)."""
    n = counts.sum(axis=-1, keepdims=True)
    # The catalogue's own PSI term (same 1e-4 floor), applied to every feature at once.
    psi = np.sum(psi_term(ref_props, counts / np.maximum(n, 1)), axis=-1)
    expected = np.maximum(ref_props, PSI_FLOOR) * n
    chi2 = np.sum((counts - expected) ** 2 / np.maximum(expected, 1e-12), axis=-1)
    p = special.chdtrc(counts.shape[-1] - 1, chi2)
    empty = n[..., 0] == 0
    return np.where(empty, 0.0, psi), np.where(empty, 1.0, p)


def _auc(proba: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mann-Whitney AUC and its Hanley-McNeil standard error."""
    pos, neg = int(labels.sum()), int(len(labels) - labels.sum())
    if pos == 0 or neg == 0:
        return math.nan, math.inf
    ranks = np.empty(len(proba))
    ranks[np.argsort(proba, kind="stable")] = np.arange(1, len(proba) + 1)  # ties: measure 0
    auc = (ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (pos - 1) * (q1 - auc**2) + (neg - 1) * (q2 - auc**2)) / (pos * neg)
    return float(auc), math.sqrt(max(var, 1e-12))


def _citl(proba: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Calibration-in-the-large (Cox's first calibration measure): observed minus predicted
    rate, with its two-sided p-value under the model's own Bernoulli variance. Unlike a binned
    ECE it does not move when only discrimination is lost, so it names calibration decay and
    not concept drift."""
    gap = float(labels.mean() - proba.mean())
    se = math.sqrt(max(float(np.sum(proba * (1 - proba))), 1e-12)) / len(proba)
    return gap, float(2 * special.ndtr(-abs(gap) / se))


def window_signals(w: WindowData, base: Baseline) -> list[Signal]:
    out: list[Signal] = []
    x = w.features
    missing = np.isnan(x)
    counts = np.stack([
        np.bincount(np.searchsorted(base.edges[j], x[~missing[:, j], j]), minlength=BINS)
        for j in range(len(base.names))
    ])
    psis, ps = _psi_many(base.ref_props, counts)
    for j, name in enumerate(base.names):
        present = x[~missing[:, j], j]
        psi, p = float(psis[j]), float(ps[j])
        out.append(Signal(SignalKind.DATA_DRIFT, "psi", severity(psi, PSI_MIN, p),
                          statistic=psi, p_value=p, effect_size=psi, threshold=PSI_MIN,
                          feature=name, evidence=f"{name}: PSI {psi:.3f} (p={p:.2g})"))
        # Skipped checks would say (nearly) nothing: an increase in nulls below 1 point maps to
        # severity < 0.04, under every floor calibration can choose; more than one value.
        n_missing = int(missing[:, j].sum())
        if n_missing / w.n - base.ref_missing[j] / base.ref_total >= SKIP_MISSING_BELOW:
            miss = missing_rate_change(int(base.ref_missing[j]), base.ref_total, n_missing, w.n,
                                       feature=name)
            out.append(_from_quality(miss))
        if len(present) > 1 and present.min() == present.max():
            const = constant_feature(int(base.ref_distinct[j]), 1, len(present), feature=name,
                                     current_value=float(present[0]))
            out.append(_from_quality(const))
    counts = np.bincount(np.searchsorted(base.proba_edges, w.proba), minlength=BINS)
    psi_arr, p_arr = _psi_many(base.proba_props, counts)
    psi, p = float(psi_arr), float(p_arr)
    out.append(Signal(SignalKind.PREDICTION_DRIFT, "psi", severity(psi, PSI_MIN, p),
                      statistic=psi, p_value=p, effect_size=psi, threshold=PSI_MIN,
                      evidence=f"predictions: PSI {psi:.3f}"))
    labelled = w.labelled()
    n_lab = int(labelled.sum())
    cov = n_lab / w.n
    drop = (base.coverage - cov) / base.coverage if base.coverage > 0 else 0.0
    se = math.sqrt(max(base.coverage * (1 - base.coverage) / w.n, 1e-12))
    p_cov = float(special.ndtr(-(base.coverage - cov) / se))
    out.append(Signal(SignalKind.LABEL_DELAY, "coverage", severity(drop, COVERAGE_MIN_DROP, p_cov),
                      statistic=cov, p_value=p_cov, effect_size=drop,
                      threshold=COVERAGE_MIN_DROP,
                      evidence=f"{cov:.0%} of labels arrived (reference {base.coverage:.0%})"))
    if n_lab >= MIN_LABELS:
        proba, labels = w.proba[labelled], w.labels[labelled]
        auc, se_auc = _auc(proba, labels)
        if math.isfinite(auc):
            eff = base.auc - auc
            p_auc = float(special.ndtr(-eff / se_auc))
            out.append(Signal(SignalKind.PERFORMANCE, "auc",
                              severity(eff, AUC_MIN_DROP, p_auc), statistic=auc,
                              p_value=p_auc, effect_size=eff, threshold=AUC_MIN_DROP,
                              evidence=f"AUC {auc:.3f} vs {base.auc:.3f} in reference"))
        gap, p_gap = _citl(proba, labels)
        out.append(Signal(SignalKind.CALIBRATION, "citl", severity(abs(gap), CITL_MIN, p_gap),
                          statistic=gap, p_value=p_gap, effect_size=abs(gap),
                          threshold=CITL_MIN,
                          evidence=f"observed rate {labels.mean():.1%} vs predicted "
                                   f"{proba.mean():.1%}"))
    p99 = float(np.quantile(w.latency_ms, 0.99))
    budget = base.latency_p99 * LATENCY_BUDGET
    out.append(Signal(SignalKind.LATENCY, "p99", severity_over_budget(p99, budget),
                      statistic=p99, effect_size=p99 / budget - 1, threshold=budget,
                      evidence=f"p99 latency {p99:.0f} ms vs budget {budget:.0f} ms"))
    return out


def _from_quality(r) -> Signal:
    return Signal(SignalKind.DATA_QUALITY, r.method, r.severity, statistic=r.statistic,
                  p_value=r.p_value, effect_size=r.effect_size, threshold=r.threshold,
                  feature=r.feature, catastrophic=r.catastrophic, evidence=r.evidence)


def replay(run: Run) -> Iterator[tuple[WindowKey, list[Signal], WindowData]]:
    """Every window of a simulated run with its signals."""
    base = Baseline.of(run.reference(), run.spec.feature_names)
    for w in run.windows():
        yield WindowKey(run.model, w.start, w.end), window_signals(w, base), w
