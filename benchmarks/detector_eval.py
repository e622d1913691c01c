"""Score every streaming detector of the catalogue on streams with known change points.

    python benchmarks/detector_eval.py               # detection rate, delay, false alarms, speed
    python benchmarks/detector_eval.py --calibrate   # false alarms on stable streams (defaults)

Streams (benchmarks/stream_data.py): generated mean shifts (1 and 0.5 sd), variance doubling and
error-rate jumps; River's TCPD series with their annotators' consensus change points; River's SEA
concept drift as the errors of a frozen model; statsmodels' Nile. Detectors that take any real
value run on every stream; error-stream detectors (DDM, EDDM, HDDM_*) on the error streams.
A detection counts for a change within `max_delay` points after it (TCPD and Nile: before the
next change, 5 points early allowed, as TCPD's own evaluation margin); anything else is a false
alarm. Throughput is points per CPU-second of update_many (JIT compiled before timing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stream_data
from watchkeeper.detectors.stream import DETECTORS
from watchkeeper.evaluation.changepoints import score, vectorised

WINDOWS = {  # suite -> (max_delay, tolerance)
    "TCPD (River)": (None, 5),
    "Nile": (None, 5),
}
DEFAULT_WINDOW = (1000, 0)


def warm_up(cls: type) -> None:
    kind = cls.input_kind
    cls().update_many(np.zeros(64) if kind == "real" else np.tile([0.0, 1.0], 32))


def evaluate(seed: int) -> None:
    suites = stream_data.suites(seed)
    print(f"{'detector':12} {'streams':26} {'n':>8} {'changes':>7}  score")
    for name, cls in DETECTORS.items():
        warm_up(cls)
        kinds = ["real", "binary"] if cls.input_kind == "real" else ["binary"]
        for kind in kinds:
            for suite, streams in suites[kind].items():
                if not streams:
                    continue
                max_delay, tol = WINDOWS.get(suite, DEFAULT_WINDOW)
                s = score(vectorised(cls), streams, max_delay=max_delay, tolerance=tol)
                print(f"{name:12} {suite:26} {s.n_points:8d} {s.n_changes:7d}  {s.row()}")


def calibrate(seed: int) -> None:
    """False alarms of the defaults on streams without change (1,000,000 points per kind)."""
    head = f"{'detector':12} {'stable stream':22} {'points':>9} {'alarms':>7}"
    print(f"{head} {'FA/10k':>8} {'ARL0':>9}")
    for name, cls in DETECTORS.items():
        warm_up(cls)
        kinds = ["real", "binary"] if cls.input_kind == "real" else ["binary"]
        for kind in kinds:
            streams = stream_data.stationary(seed, kind)
            s = score(vectorised(cls), streams)
            label = "N(0,1)" if kind == "real" else "Bernoulli(0.1) errors"
            arl = s.n_points / s.n_false_alarms if s.n_false_alarms else float("inf")
            print(
                f"{name:12} {label:22} {s.n_points:9d} {s.n_false_alarms:7d} "
                f"{s.false_alarms_per_10k:8.2f} {arl:9.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="false alarms on stable data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (calibrate if args.calibrate else evaluate)(args.seed)


if __name__ == "__main__":
    main()
