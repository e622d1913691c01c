"""Labelled streams for benchmarks/stream.py and benchmarks/detector_eval.py.

Real data ships inside packages (nothing is downloaded): River's TCPD series with their annotated
change points (river.drift.datasets), River's SEA concept-drift generator (the errors of a model
frozen on the first concept), and statsmodels' Nile flow (the 1899 dam change). Generated streams
cover the textbook cases: mean shift, variance shift and error-rate jumps, plus stationary streams
for false-alarm rates. River and statsmodels are dev/bench dependencies: a source that cannot be
imported is skipped with a note.
"""

from __future__ import annotations

import collections
import itertools
import sys

import numpy as np

from watchkeeper.evaluation.changepoints import LabelledStream

# (class name in river.drift.datasets, column of a multi-column series, first date, step).
# River ships Apple and Brent unsampled, but their annotations index TCPD's sampled series: Apple
# every 3rd day; Brent from 2000 on, every 10th day (as their docstrings say).
TCPD = [
    ("AirlinePassengers", None, None, 1),
    ("Apple", "Close", None, 3),
    ("Bitcoin", None, None, 1),
    ("BrentSpotPrice", None, "2000-01-01", 10),
    ("Occupancy", "V1", None, 1),
    ("RunLog", "Pace", None, 1),
    ("UKCoalEmploy", None, None, 1),
]


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - float(np.mean(x))) / (sd if sd > 0 else 1.0)


def _consensus(annotations: dict[str, list[int]], n: int, within: int = 5) -> tuple[int, ...]:
    """Change points that more than half the annotators marked within `within` points."""
    marks = sorted((c, who) for who, cps in annotations.items() for c in cps if 0 < c < n)
    out: list[int] = []
    group: list[tuple[int, str]] = []
    for mark in [*marks, (10**12, "")]:
        if group and mark[0] - group[0][0] > within:
            if len({who for _, who in group}) * 2 > len(annotations):
                out.append(int(np.median([c for c, _ in group])))
            group = []
        group.append(mark)
    return tuple(sorted(set(out)))


def tcpd() -> list[LabelledStream]:
    """River's TCPD series, standardised, with the consensus of their annotators."""
    try:
        from river.drift import datasets
    except ImportError:
        print("note: river not installed; TCPD series skipped", file=sys.stderr)
        return []
    out = []
    for name, column, since, step in TCPD:
        ds = getattr(datasets, name)()
        rows = [
            (y if column is None else y[column])
            for x, y in ds
            if since is None or str(next(iter(x.values())).date()) >= since
        ]
        values = np.array(rows[::step], dtype=float)
        cps = _consensus(ds.annotations, len(values))
        if cps:
            out.append(LabelledStream(f"tcpd/{name}", _standardise(values), cps))
    return out


def nile() -> list[LabelledStream]:
    """Annual Nile flow 1871-1970; the Aswan dam lowered it from 1899 (index 28)."""
    try:
        import statsmodels.api as sm
    except ImportError:
        print("note: statsmodels not installed; Nile skipped", file=sys.stderr)
        return []
    flow = sm.datasets.nile.load_pandas().data["volume"].to_numpy(dtype=float)
    return [LabelledStream("nile", _standardise(flow), (28,))]


def sea_errors(seed: int, n_streams: int = 4, length: int = 20_000) -> list[LabelledStream]:
    """Errors (1 = wrong) of the SEA rule of concept 0 on River's SEA stream that switches to
    concept 3 (threshold 8 -> 9.5) at the middle: the error rate rises from about 10% to 24%."""
    try:
        from river.datasets import synth
    except ImportError:
        print("note: river not installed; SEA streams skipped", file=sys.stderr)
        return []
    out = []
    for k in range(n_streams):
        # Abrupt switch by chaining two SEA generators (ConceptDriftStream overflows at width 1).
        stream = itertools.chain(
            synth.SEA(variant=0, noise=0.1, seed=seed + k).take(length // 2),
            synth.SEA(variant=3, noise=0.1, seed=seed + 100 + k).take(length - length // 2),
        )
        errors = [float((x[0] + x[1] > 8) != y) for x, y in itertools.islice(stream, length)]
        out.append(LabelledStream(f"sea/{k}", np.array(errors), (length // 2,)))
    return out


def _segments(rng: np.random.Generator, n_changes: int, lo: int, hi: int) -> list[int]:
    return [int(v) for v in rng.integers(lo, hi, n_changes + 1)]


def mean_shifts(
    seed: int,
    delta: float,
    n_streams: int = 10,
    n_changes: int = 4,
    segment: tuple[int, int] = (2000, 4000),
) -> list[LabelledStream]:
    """N(0, 1) with the mean jumping by +/- delta (alternating) every `segment` points."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_streams):
        lengths = _segments(rng, n_changes, *segment)
        parts = [rng.normal(delta * (j % 2), 1.0, m) for j, m in enumerate(lengths)]
        cps = tuple(int(c) for c in np.cumsum(lengths)[:-1])
        out.append(LabelledStream(f"mean+{delta}/{k}", np.concatenate(parts), cps))
    return out


def variance_shifts(
    seed: int, factor: float = 2.0, n_streams: int = 10, segment: tuple[int, int] = (2000, 4000)
) -> list[LabelledStream]:
    """N(0, 1) whose standard deviation alternates between 1 and `factor` every `segment` points."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_streams):
        lengths = _segments(rng, 4, *segment)
        parts = [rng.normal(0.0, factor ** (j % 2), m) for j, m in enumerate(lengths)]
        cps = tuple(int(c) for c in np.cumsum(lengths)[:-1])
        out.append(LabelledStream(f"sd*{factor}/{k}", np.concatenate(parts), cps))
    return out


def error_rate_jumps(
    seed: int, rates: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3), n_streams: int = 10
) -> list[LabelledStream]:
    """Bernoulli errors whose rate steps up through `rates`, every 2,000-4,000 points."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_streams):
        lengths = _segments(rng, len(rates) - 1, 2000, 4000)
        parts = [(rng.random(m) < p).astype(float) for p, m in zip(rates, lengths, strict=True)]
        cps = tuple(int(c) for c in np.cumsum(lengths)[:-1])
        out.append(LabelledStream(f"errors/{k}", np.concatenate(parts), cps))
    return out


def stationary(
    seed: int, kind: str, n_streams: int = 10, length: int = 100_000
) -> list[LabelledStream]:
    """Streams without change: N(0, 1) ('real') or Bernoulli(0.1) errors ('binary')."""
    rng = np.random.default_rng(seed)
    make = (
        (lambda: rng.normal(0.0, 1.0, length))
        if kind == "real"
        else (lambda: (rng.random(length) < 0.1).astype(float))
    )
    return [LabelledStream(f"stable-{kind}/{k}", make(), ()) for k in range(n_streams)]


def suites(seed: int = 0) -> dict[str, dict[str, list[LabelledStream]]]:
    """Named groups of streams by input kind: {'real': {...}, 'binary': {...}}."""
    return {
        "real": collections.OrderedDict(
            [
                ("mean shift 1 sd", mean_shifts(seed, 1.0)),
                ("mean shift 0.5 sd", mean_shifts(seed + 1, 0.5)),
                ("variance x2", variance_shifts(seed + 2)),
                ("TCPD (River)", tcpd()),
                ("Nile", nile()),
            ]
        ),
        "binary": collections.OrderedDict(
            [
                ("error rate 5>10>20>30%", error_rate_jumps(seed + 3)),
                ("SEA drift (River)", sea_errors(seed + 4)),
            ]
        ),
    }
