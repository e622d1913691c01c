"""Run the scenario library through the live scoring pipeline and measure it.

`replay_runs` turns simulated runs into stored-like signals (see replay.py); `score_runs`
scores them window by window with `scoring.scorer.score_window`, exactly as the service does
(seasonal baselines learn only from windows the scorer itself did not alert on - no ground
truth leaks into scoring); `incidents_of` gives the verified incidents the backtest compares
with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.scoring.backtest import Incident, WindowOutcome
from watchkeeper.scoring.config import ScoringConfig
from watchkeeper.scoring.scorer import ModelState, score_window
from watchkeeper.sim.scenarios import WARMUP, GroundTruth, Run, get
from watchkeeper.sim.traffic import SEGMENTS

FEATURE_CAUSED = ("data_quality", "data_drift")


@dataclass(frozen=True, slots=True)
class Replayed:
    scenario: str
    seed: int
    model: str
    truth: GroundTruth
    windows: tuple[tuple[WindowKey, tuple[Signal, ...]], ...]
    segment_counts: np.ndarray  # (n_windows, n_segments) events per segment
    importance: dict[str, float]


def replay_one(args: tuple[str, int]) -> Replayed:
    from watchkeeper.evaluation.replay import replay

    name, seed = args
    run: Run = get(name).run(seed)
    rows, counts = [], []
    for key, signals, w in replay(run):
        rows.append((key, tuple(signals)))
        counts.append(np.bincount(w.segments, minlength=len(SEGMENTS)))
    return Replayed(name, seed, run.model, run.truth, tuple(rows), np.array(counts),
                    run.spec.importance())


def replay_runs(names: Sequence[str], seeds: Iterable[int], *, processes: int = 1
                ) -> list[Replayed]:
    jobs = [(n, s) for n in names for s in seeds]
    if processes <= 1:
        return [replay_one(j) for j in jobs]
    with ProcessPoolExecutor(processes) as pool:
        return list(pool.map(replay_one, jobs, chunksize=4))


def incidents_of(replayed: Sequence[Replayed]) -> list[Incident]:
    out = []
    for r in replayed:
        t = r.truth
        if t.start is not None and t.end is not None:
            end_index = min(t.end, len(r.windows)) - 1
            out.append(Incident(r.model, r.windows[t.start][0].start,
                                r.windows[end_index][0].end, t.severity))
    return out


@dataclass(frozen=True, slots=True)
class Scored:
    replayed: Replayed
    outcomes: list[WindowOutcome]  # evaluation period only (after the warm-up)


def score_runs(replayed: Sequence[Replayed], config: ScoringConfig, *, warmup: int = WARMUP
               ) -> list[Scored]:
    out = []
    for r in replayed:
        state = ModelState()
        rows = []
        for i, (key, signals) in enumerate(r.windows):
            scored, state = score_window(key, signals, config, state, importance=r.importance)
            if i < warmup:
                continue
            top = scored.score.contributors[0] if scored.score.contributors else None
            rows.append(WindowOutcome(
                key.model, key.start, key.end, int(scored.score.tier), scored.score.value,
                top.kind.value if top else None, top.feature if top else None))
        out.append(Scored(r, rows))
    return out


def cause_matches(truth: GroundTruth, kind: str | None, feature: str | None) -> bool:
    """Does the top contributor name the injected cause? For a feature-level cause (a broken
    or drifting input) naming that feature through a data-quality or drift signal counts; for
    the others the kind must match."""
    if truth.cause is None or kind is None:
        return False
    if truth.feature is not None:
        return feature == truth.feature and kind in FEATURE_CAUSED
    return kind == truth.cause.value
