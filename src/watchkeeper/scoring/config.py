"""The scoring configuration: every knob of fusion, context, seasonality, tiers and persistence.

One frozen value, serialisable to JSON and identified by a version id, so that every stored
score can say which configuration produced it (`Score.config_version`). Calibration produces a
new `ScoringConfig`; the policy's `scoring:` section overrides the defaults written here.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.errors import InputError

# Hazard weight per kind: one signal of evidence 1 contributes `weight` to the hazard, so a
# weight of 2.5 alone yields 100 * (1 - e^-2.5) = 92 (T3); see docs/scoring.md.
DEFAULT_WEIGHT = 2.5
# Severity below which a signal is taken as noise. Detectors map "effect at the threshold" to
# severity 0.5 (detectors/severity.py), so 0.2 is "clearly below the threshold".
DEFAULT_FLOOR = 0.2


def _all_kinds(value: float) -> dict[SignalKind, float]:
    return {kind: value for kind in SignalKind}


@dataclass(frozen=True, slots=True)
class TierBands:
    """Scores at which a window enters T1, T2, T3 (0 < T1 < T2 < T3 <= 100)."""

    t1: float = 30.0
    t2: float = 60.0
    t3: float = 85.0

    def __post_init__(self) -> None:
        if not 0.0 < self.t1 < self.t2 < self.t3 <= 100.0:
            raise InputError(
                f"tier bands T1={self.t1}, T2={self.t2}, T3={self.t3} are not increasing",
                field="scoring.tiers",
                expected="0 < T1 < T2 < T3 <= 100",
            )

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.t1, self.t2, self.t3)


@dataclass(frozen=True, slots=True)
class PersistenceConfig:
    """k-of-n confirmation, hysteresis and flapping hold (see scoring/persistence.py)."""

    windows: int = 3  # n: how many recent windows are looked at
    required: int = 2  # k: how many of them must reach a tier to enter it
    hysteresis: float = 10.0  # a tier is left only below (enter threshold - hysteresis)
    clear: int | None = None  # windows below the leave threshold to step down; None: n - k + 1
    flap_window: int = 12  # windows over which re-entries are counted
    flap_reentries: int = 2  # re-entries within flap_window that make a model "flapping"

    def __post_init__(self) -> None:
        if self.windows < 1 or not 1 <= self.required <= self.windows:
            raise InputError(
                f"persistence needs 1 <= required <= windows, got {self.required} of "
                f"{self.windows}",
                field="scoring.persistence",
                expected="windows >= 1 and 1 <= required <= windows",
            )
        if self.hysteresis < 0 or (self.clear is not None and self.clear < 1):
            raise InputError(
                "hysteresis must be >= 0 and clear >= 1",
                field="scoring.persistence",
                expected="hysteresis >= 0, clear >= 1",
            )
        if self.flap_window < 1 or self.flap_reentries < 1:
            raise InputError(
                "flap_window and flap_reentries must be >= 1",
                field="scoring.persistence",
                expected="positive integers",
            )

    @property
    def clear_windows(self) -> int:
        return self.clear if self.clear is not None else self.windows - self.required + 1


SLOTS = ("hour_of_week", "day_of_week", "hour_of_day")


@dataclass(frozen=True, slots=True)
class SeasonalityConfig:
    """Compare each signal with the same slot (e.g. hour of week) in past weeks."""

    enabled: bool = False
    slot: str = "hour_of_week"
    history: int = 4  # how many past same-slot values are kept (weeks for weekly slots)

    def __post_init__(self) -> None:
        if self.slot not in SLOTS:
            raise InputError(
                f"unknown seasonality slot {self.slot!r}",
                field="scoring.seasonality.slot",
                expected=", ".join(SLOTS),
            )
        if self.history < 1:
            raise InputError(
                "history must be >= 1", field="scoring.seasonality.history", expected=">= 1"
            )


@dataclass(frozen=True, slots=True)
class ContextFactors:
    """Multipliers of the fused hazard from the model's business context (context.py)."""

    criticality: dict[str, float] = field(
        default_factory=lambda: {"low": 0.8, "medium": 1.0, "high": 1.25}
    )
    regulatory: float = 1.15
    customer_impact: dict[str, float] = field(
        default_factory=lambda: {"none": 0.9, "low": 0.9, "medium": 1.0, "high": 1.15}
    )
    young_model_days: float = 14.0  # a model younger than this is still unproven...
    young_model: float = 1.1  # ...so its alarms weigh a little more


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Everything that turns a window's signals into a score, a tier and an explanation."""

    weights: dict[SignalKind, float] = field(default_factory=lambda: _all_kinds(DEFAULT_WEIGHT))
    floors: dict[SignalKind, float] = field(default_factory=lambda: _all_kinds(DEFAULT_FLOOR))
    softmax_power: float = 4.0  # p of the p-norm that combines signals of one kind
    bands: TierBands = field(default_factory=TierBands)
    persistence: PersistenceConfig = field(default_factory=PersistenceConfig)
    seasonality: SeasonalityConfig = field(default_factory=SeasonalityConfig)
    context: ContextFactors = field(default_factory=ContextFactors)
    top_contributors: int = 5
    label: str = "default"  # human name; the version id is derived from the content
    _version: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, table in (("weights", self.weights), ("floors", self.floors)):
            for kind, value in table.items():
                if not isinstance(kind, SignalKind):
                    raise InputError(
                        f"unknown signal kind {kind!r}",
                        field=f"scoring.{name}",
                        expected=", ".join(k.value for k in SignalKind),
                    )
                if not math.isfinite(value) or value < 0:
                    raise InputError(
                        f"{kind.value} = {value}",
                        field=f"scoring.{name}.{kind.value}",
                        expected="a finite number >= 0",
                    )
        if any(v >= 1 for v in self.floors.values()):
            raise InputError(
                "a floor of 1 or more silences the kind", field="scoring.floors", expected="< 1"
            )
        if self.softmax_power < 1:
            raise InputError(
                f"softmax_power {self.softmax_power}", field="scoring.softmax_power",
                expected=">= 1",
            )
        body = json.dumps(self.to_dict(include_version=False), sort_keys=True)
        digest = hashlib.sha256(body.encode()).hexdigest()[:10]
        object.__setattr__(self, "_version", f"{self.label}-{digest}")

    def weight(self, kind: SignalKind) -> float:
        return self.weights.get(kind, DEFAULT_WEIGHT)

    def floor(self, kind: SignalKind) -> float:
        return self.floors.get(kind, DEFAULT_FLOOR)

    @property
    def version(self) -> str:
        """Content-derived id: the same configuration always has the same version."""
        return self._version

    def to_dict(self, *, include_version: bool = True) -> dict[str, Any]:
        d = asdict(self)
        del d["_version"]
        d["weights"] = {k.value: v for k, v in self.weights.items()}
        d["floors"] = {k.value: v for k, v in self.floors.items()}
        if include_version:
            d["version"] = self.version
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> ScoringConfig:
        """Rebuild from `to_dict` output (or a hand-written JSON/YAML mapping)."""
        if not isinstance(data, dict):
            raise InputError("a scoring config must be a mapping", file=source,
                             expected="a JSON object")
        data = {k: v for k, v in data.items() if k != "version"}
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"unknown key(s) {unknown}", file=source, field="scoring",
                expected=", ".join(sorted(known)),
            )
        try:
            kwargs: dict[str, Any] = dict(data)
            for name in ("weights", "floors"):
                if name in kwargs:
                    kwargs[name] = {_kind(k, name, source): float(v)
                                    for k, v in kwargs[name].items()}
            nested = {"bands": TierBands, "persistence": PersistenceConfig,
                      "seasonality": SeasonalityConfig, "context": ContextFactors}
            for name, klass in nested.items():
                if name in kwargs and isinstance(kwargs[name], dict):
                    kwargs[name] = klass(**kwargs[name])
            return cls(**kwargs)
        except TypeError as exc:
            raise InputError(str(exc), file=source, field="scoring",
                             expected="the keys written by ScoringConfig.to_dict") from exc

    def with_changes(self, **changes: Any) -> ScoringConfig:
        return replace(self, **changes)


def _kind(text: str, section: str, source: str | None) -> SignalKind:
    try:
        return SignalKind(text)
    except ValueError:
        raise InputError(
            f"unknown signal kind {text!r}", file=source, field=f"scoring.{section}",
            expected=", ".join(k.value for k in SignalKind),
        ) from None
