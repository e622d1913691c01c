"""The scenario library: traffic with scripted incidents at known times, and controls.

Every scenario knows its ground truth: the incident's windows, the kind of signal that names
the injected cause, and the feature (where there is one). Runs are seeded: the same
(scenario, seed) gives the same traffic, incident time and cause feature.

Runs are three weeks of 4-hour windows. The first two weeks (`WARMUP` windows) are healthy in
every scenario so that seasonal baselines can learn; incidents start in the third week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from watchkeeper.core.enums import SignalKind
from watchkeeper.sim.traffic import (
    NO_EFFECTS,
    Effects,
    TrafficSpec,
    WindowData,
    generate,
    reference,
)

WARMUP = 84  # two weeks of 4-hour windows


@dataclass(frozen=True, slots=True)
class GroundTruth:
    start: int | None = None  # first incident window (None for controls)
    end: int | None = None  # first window after the incident
    cause: SignalKind | None = None  # the kind of signal that names the cause
    feature: str | None = None  # the feature at fault, where there is one
    abrupt: bool = False  # visible from its first window (no ramp, no label wait)
    severity: str = "high"

    @property
    def is_incident(self) -> bool:
        return self.start is not None

    def contains(self, index: int) -> bool:
        return self.start is not None and self.start <= index < (self.end or 0)


@dataclass(frozen=True, slots=True)
class Run:
    scenario: str
    seed: int
    spec: TrafficSpec
    truth: GroundTruth
    effects: Callable[[int], Effects]

    @property
    def model(self) -> str:
        return f"{self.scenario}-{self.seed}"

    def windows(self) -> Iterator[WindowData]:
        return generate(self.spec, self.seed, self.effects)

    def reference(self) -> WindowData:
        return reference(self.spec, self.seed)


# An incident script: (rng, spec) -> (effects at a window offset from the start, truth).
Script = Callable[[np.random.Generator, TrafficSpec], tuple[Callable[[int], Effects], dict]]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    spec: TrafficSpec = field(default_factory=TrafficSpec)
    script: Script | None = None  # None: a no-incident control
    duration: int = 12  # windows
    abrupt: bool = False
    stress: bool = False  # deliberately near the detectors' thresholds: where detection ends

    @property
    def control(self) -> bool:
        return self.script is None

    def run(self, seed: int) -> Run:
        if self.script is None:
            return Run(self.name, seed, self.spec, GroundTruth(), lambda _: NO_EFFECTS)
        rng = np.random.default_rng([seed, 104729])
        start = int(rng.integers(WARMUP + 4, self.spec.n_windows - self.duration - 4))
        at_offset, truth = self.script(rng, self.spec)
        end = start + self.duration

        def effects(i: int) -> Effects:
            return at_offset(i - start) if start <= i < end else NO_EFFECTS

        return Run(self.name, seed, self.spec,
                   GroundTruth(start=start, end=end, abrupt=self.abrupt, **truth), effects)


def _cause_feature(rng: np.random.Generator, spec: TrafficSpec) -> int:
    return int(rng.integers(0, min(3, spec.n_features)))  # one of the three most important


def _null_flood(rng: np.random.Generator, spec: TrafficSpec):
    j, rate = _cause_feature(rng, spec), float(rng.uniform(0.6, 0.95))
    return (lambda _k: Effects(nulls={j: rate}),
            {"cause": SignalKind.DATA_QUALITY, "feature": spec.feature_names[j]})


def _stuck(rng: np.random.Generator, spec: TrafficSpec):
    j, value = _cause_feature(rng, spec), float(rng.uniform(-0.5, 0.5))
    return (lambda _k: Effects(stuck={j: value}),
            {"cause": SignalKind.DATA_QUALITY, "feature": spec.feature_names[j]})


def _shift(rng: np.random.Generator, spec: TrafficSpec):
    j = _cause_feature(rng, spec)
    delta = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 1.5))
    return (lambda _k: Effects(shift={j: delta}),
            {"cause": SignalKind.DATA_DRIFT, "feature": spec.feature_names[j]})


GRADUAL_RAMP = 18


def _gradual(rng: np.random.Generator, spec: TrafficSpec):
    j = _cause_feature(rng, spec)
    final = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.2, 1.8))
    return (lambda k: Effects(shift={j: final * min(1.0, (k + 1) / GRADUAL_RAMP)}),
            {"cause": SignalKind.DATA_DRIFT, "feature": spec.feature_names[j]})


def _concept(rng: np.random.Generator, spec: TrafficSpec):
    strength = float(rng.uniform(0.6, 0.9))
    return lambda _k: Effects(concept=strength), {"cause": SignalKind.PERFORMANCE}


def _latency(rng: np.random.Generator, spec: TrafficSpec):
    factor = float(rng.uniform(3.0, 6.0))
    return lambda _k: Effects(latency_factor=factor), {"cause": SignalKind.LATENCY}


def _label_delay(rng: np.random.Generator, spec: TrafficSpec):
    factor = float(rng.uniform(20.0, 60.0))
    return lambda _k: Effects(label_delay_factor=factor), {"cause": SignalKind.LABEL_DELAY}


def _calibration(rng: np.random.Generator, spec: TrafficSpec):
    offset = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.9, 1.4))
    return (lambda _k: Effects(calibration_offset=offset),
            {"cause": SignalKind.CALIBRATION, "severity": "medium"})


def _subtle_shift(rng: np.random.Generator, spec: TrafficSpec):
    j = _cause_feature(rng, spec)
    delta = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.45))
    return (lambda _k: Effects(shift={j: delta}),
            {"cause": SignalKind.DATA_DRIFT, "feature": spec.feature_names[j],
             "severity": "low"})


def _partial_nulls(rng: np.random.Generator, spec: TrafficSpec):
    j, rate = _cause_feature(rng, spec), float(rng.uniform(0.08, 0.2))
    return (lambda _k: Effects(nulls={j: rate}),
            {"cause": SignalKind.DATA_QUALITY, "feature": spec.feature_names[j],
             "severity": "low"})


def _mild_latency(rng: np.random.Generator, spec: TrafficSpec):
    factor = float(rng.uniform(1.4, 2.0))
    return (lambda _k: Effects(latency_factor=factor),
            {"cause": SignalKind.LATENCY, "severity": "low"})


_SEASONAL = TrafficSpec(seasonal_amplitude=0.5, volume_amplitude=0.3)

# The catalogue: an explicit list, in the order reports show it.
SCENARIOS: list[Scenario] = [
    Scenario("null_flood", "pipeline break: most values of an important feature go missing",
             script=_null_flood, abrupt=True),
    Scenario("stuck_feature", "pipeline break: an important feature is stuck at one value",
             script=_stuck, abrupt=True),
    Scenario("covariate_shift", "abrupt shift of an important feature's distribution",
             script=_shift, abrupt=True),
    Scenario("gradual_drift", f"an important feature drifts over {GRADUAL_RAMP} windows",
             script=_gradual, duration=GRADUAL_RAMP + 6),
    Scenario("concept_drift", "the input-label relation changes while inputs stay the same",
             script=_concept),
    Scenario("latency_spike", "serving latency jumps several-fold", script=_latency,
             abrupt=True),
    Scenario("label_delay", "ground-truth labels stop arriving on time", script=_label_delay),
    Scenario("calibration_decay", "outcome rates leave the predicted ones (ranking intact)",
             script=_calibration),
    Scenario("seasonal_incident", "covariate shift on top of a daily and weekly cycle",
             spec=_SEASONAL, script=_shift, abrupt=True),
    Scenario("control_noise", "no incident: plain sampling noise"),
    Scenario("control_seasonal", "no incident: daily and weekly cycles in inputs and volume",
             spec=_SEASONAL),
    Scenario("control_heavy_tails", "no incident: heavy-tailed inputs and latency",
             spec=TrafficSpec(heavy_tails=True)),
    Scenario("control_growth", "no incident: slowly growing volume and benign mean creep",
             spec=TrafficSpec(growth_per_week=0.15, drift_per_week=0.03)),
    # Stress probes, reported apart from the quality bar: effects at or below what the
    # detectors are configured to call significant.
    Scenario("stress_subtle_shift", "an important feature shifts by only 0.25-0.45 sd",
             script=_subtle_shift, abrupt=True, stress=True),
    Scenario("stress_partial_nulls", "8-20% of an important feature's values go missing",
             script=_partial_nulls, abrupt=True, stress=True),
    Scenario("stress_mild_latency", "latency rises by only 1.4-2x", script=_mild_latency,
             abrupt=True, stress=True),
]

BY_NAME = {s.name: s for s in SCENARIOS}


def get(name: str) -> Scenario:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(BY_NAME)}") from None


def runs(seeds: range | list[int], names: list[str] | None = None) -> Iterator[Run]:
    """Every (scenario, seed) run of the library, scenario by scenario."""
    for scenario in (get(n) for n in names) if names else SCENARIOS:
        for seed in seeds:
            yield scenario.run(seed)


def with_spec(scenario: Scenario, **changes) -> Scenario:
    """A copy of a scenario with traffic parameters changed (e.g. shorter runs in tests)."""
    return replace(scenario, spec=replace(scenario.spec, **changes))
