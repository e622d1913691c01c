from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.core.enums import SignalKind
from watchkeeper.sim import scenarios as S
from watchkeeper.sim.traffic import SEGMENTS, TrafficSpec, generate_window


def small(name: str):
    return S.with_spec(S.get(name), events_per_window=60)


def test_the_catalogue_has_every_incident_kind_and_the_controls() -> None:
    names = [s.name for s in S.SCENARIOS]
    assert len(names) == len(set(names))
    for required in ("null_flood", "stuck_feature", "covariate_shift", "gradual_drift",
                     "concept_drift", "latency_spike", "label_delay", "calibration_decay",
                     "control_noise", "control_seasonal", "control_heavy_tails",
                     "control_growth"):
        assert required in names
    with pytest.raises(KeyError, match="known: null_flood"):
        S.get("meteor_strike")


def test_same_seed_same_traffic_and_truth_other_seed_differs() -> None:
    a, b, c = (small("covariate_shift").run(seed) for seed in (3, 3, 4))
    assert a.truth == b.truth
    wa, wb, wc = next(a.windows()), next(b.windows()), next(c.windows())
    np.testing.assert_array_equal(wa.features, wb.features)
    assert not np.array_equal(wa.features, wc.features)


@pytest.mark.parametrize("seed", range(5))
def test_incidents_start_after_the_warmup_and_end_inside_the_run(seed: int) -> None:
    for sc in S.SCENARIOS:
        truth = sc.run(seed).truth
        if sc.control:
            assert not truth.is_incident and truth.cause is None
        else:
            assert S.WARMUP < truth.start < truth.end <= sc.spec.n_windows
            assert truth.cause is not None


def test_null_flood_hits_the_named_feature_only_inside_the_incident() -> None:
    run = small("null_flood").run(1)
    j = run.spec.feature_names.index(run.truth.feature)
    rates = [np.isnan(w.features[:, j]).mean() for w in run.windows()]
    inside = rates[run.truth.start:run.truth.end]
    outside = rates[: run.truth.start] + rates[run.truth.end:]
    assert min(inside) > 0.4 and max(outside) < 0.15
    assert run.truth.cause is SignalKind.DATA_QUALITY


def test_stuck_feature_is_constant_and_concept_drift_leaves_inputs_alone() -> None:
    run = small("stuck_feature").run(2)
    j = run.spec.feature_names.index(run.truth.feature)
    w = list(run.windows())[run.truth.start]
    present = w.features[~np.isnan(w.features[:, j]), j]
    assert np.unique(present).size == 1
    concept = small("concept_drift").run(2)
    control = small("control_noise").run(2)
    for wc, wn in zip(concept.windows(), control.windows(), strict=True):
        np.testing.assert_array_equal(wc.features, wn.features)  # inputs identical...
    inside = list(concept.windows())[concept.truth.start]
    base = list(control.windows())[concept.truth.start]
    assert not np.array_equal(inside.labels, base.labels)  # ...the outcomes are not


def test_latency_spike_and_label_delay_move_what_they_say() -> None:
    spike = small("latency_spike").run(0)
    ws = list(spike.windows())
    assert np.median(ws[spike.truth.start].latency_ms) > 2.5 * np.median(ws[10].latency_ms)
    delay = small("label_delay").run(0)
    ws = list(delay.windows())
    assert ws[delay.truth.start].labelled().mean() < 0.5 * ws[10].labelled().mean()


def test_controls_carry_seasonality_heavy_tails_and_growth() -> None:
    rng = np.random.default_rng(0)
    seasonal = S.get("control_seasonal").spec
    morning, evening = (generate_window(seasonal, i, rng) for i in (1, 4))  # 04:00, 16:00
    assert np.nanmean(morning.features[:, 0]) - np.nanmean(evening.features[:, 0]) > 0.5
    heavy = S.get("control_heavy_tails").spec
    w = generate_window(heavy, 0, rng)
    assert np.nanmax(np.abs(w.features)) > 4
    growth = S.get("control_growth").spec
    assert generate_window(growth, 120, rng).n > generate_window(growth, 0, rng).n


def test_windows_carry_segments_probabilities_and_labels() -> None:
    w = generate_window(TrafficSpec(events_per_window=500), 0, np.random.default_rng(1))
    assert w.features.shape == (500, 8) and w.proba.shape == (500,)
    assert set(np.unique(w.segments)) <= set(range(len(SEGMENTS)))
    assert ((w.proba > 0) & (w.proba < 1)).all() and set(np.unique(w.labels)) <= {0, 1}
    # A calibrated model: predicted and observed rates agree on a healthy window.
    assert abs(w.proba.mean() - w.labels.mean()) < 0.08


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="n_features"):
        TrafficSpec(n_features=99)
