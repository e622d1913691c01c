"""Streaming detectors: watchkeeper's update_many vs River's update loop, side by side, one run.

    python benchmarks/stream.py [--points 2000000] [--seed 0]

For each method River also implements, with River's default parameters given to both:
1. speed: updates per CPU-second on a stable stream (N(0, 1), or Bernoulli(0.1) errors for the
   error-rate detectors) -- ours through update_many on the whole stream, River's through its
   update/drift_detected loop on a prefix sized to take about a second; the bar is >= 10x;
2. quality on the same labelled streams (mean shift 1 sd and variance doubling, or error-rate
   jumps and River's SEA drift): detection rate, mean/median delay, false alarms per 10,000
   points; the bar is "no worse than River".
JIT compilation happens before timing (numba caches it on disk; the first run compiles).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from river import drift
from river.drift import binary

import stream_data
from watchkeeper.detectors import stream as ours
from watchkeeper.evaluation.changepoints import one_at_a_time, score, vectorised

# name, our class, River's class, River's defaults spelled out (so both run the same method),
# input kind, River points to time (its Python loops are slow; a prefix is timed)
PAIRS = [
    ("ADWIN", ours.ADWIN, drift.ADWIN, {}, "real", 500_000),
    ("PageHinkley", ours.PageHinkley, drift.PageHinkley, {"delta": 0.005}, "real", 300_000),
    ("KSWIN", ours.KSWIN, drift.KSWIN,
     {"alpha": 0.005, "window_size": 100, "stat_size": 30, "seed": 1}, "real", 20_000),
    ("DDM", ours.DDM, binary.DDM, {}, "binary", 300_000),
    ("EDDM", ours.EDDM, binary.EDDM, {"warm_start": 30}, "binary", 300_000),
    ("HDDM_A", ours.HDDM_A, binary.HDDMA, {}, "binary", 200_000),
    ("HDDM_W", ours.HDDM_W, binary.HDDMW, {}, "binary", 100_000),
]  # fmt: skip


def rate(fn, values: np.ndarray) -> float:
    t0 = time.process_time()
    fn(values)
    return len(values) / (time.process_time() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    stable = {
        "real": rng.normal(0.0, 1.0, args.points),
        "binary": (rng.random(args.points) < 0.1).astype(float),
    }
    quality = {
        "real": stream_data.mean_shifts(args.seed + 1, 1.0, n_streams=4)
        + stream_data.variance_shifts(args.seed + 2, n_streams=4),
        "binary": stream_data.error_rate_jumps(args.seed + 3, n_streams=6)
        + stream_data.sea_errors(args.seed + 4, n_streams=2),
        # River's KSWIN runs a scipy test per point (about 1,000 points/s): shorter segments give
        # it more changes per second of waiting.
        "kswin": stream_data.mean_shifts(args.seed + 5, 1.0, n_streams=12, segment=(500, 1000))
        + stream_data.variance_shifts(args.seed + 6, n_streams=12, segment=(500, 1000)),
    }
    head = f"{'method':12} {'ours M/s':>9} {'River M/s':>10} {'ratio':>7}"
    print(f"{head}   quality on the same streams (River's parameters for both)")
    worst = np.inf
    for name, mine, theirs, params, kind, n_river in PAIRS:
        mine_detect = vectorised(lambda mine=mine, params=params: mine(**params))
        convert = float if kind == "real" else int
        river_detect = one_at_a_time(lambda theirs=theirs, p=params: theirs(**p), convert)
        mine_detect(stable[kind][:1000])  # compile (or load the cached machine code)
        r_ours = rate(mine_detect, stable[kind])
        r_river = rate(river_detect, stable[kind][:n_river])
        worst = min(worst, r_ours / r_river)
        streams = quality["kswin" if name == "KSWIN" else kind]
        q_ours = score(mine_detect, streams, max_delay=500)
        q_river = score(river_detect, streams, max_delay=500)
        q_default = score(vectorised(mine), streams, max_delay=500)
        print(f"{name:12} {r_ours / 1e6:9.2f} {r_river / 1e6:10.3f} {r_ours / r_river:6.1f}x   "
              f"ours : {q_ours.row()}")  # fmt: skip
        print(f"{'':42}River: {q_river.row()}")
        print(f"{'':33}ours, own defaults: {q_default.row()}")
        if name == "KSWIN":  # random sampling: show how much one seed's result varies
            spread = [
                score(
                    vectorised(lambda k=k, c=mine, p=params: c(**{**p, "seed": k})),
                    streams,
                    max_delay=500,
                )
                for k in range(10)
            ]
            rates = [q.detection_rate for q in spread]
            fas = [q.false_alarms_per_10k for q in spread]
            print(
                f"{'':27}ours, River's params, seeds 0-9: rate {min(rates):.1%}-{max(rates):.1%}"
                f" (mean {np.mean(rates):.1%}), FA/10k {min(fas):.2f}-{max(fas):.2f}"
            )
    print(f"slowest ratio: {worst:.1f}x (bar: >= 10x)")


if __name__ == "__main__":
    main()
