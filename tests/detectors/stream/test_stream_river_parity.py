"""Where River implements the same method, ours flags exactly the same points (and warnings) with
the same parameters: same arithmetic, faster kernel. River is a dev dependency; skipped without it.
KSWIN samples with its own generator, so it is compared statistically in benchmarks/stream.py."""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.detectors.stream import ADWIN, DDM, EDDM, HDDM_A, HDDM_W, PageHinkley

drift = pytest.importorskip("river.drift")
binary = pytest.importorskip("river.drift.binary")

# (ours, River's, shared parameters, input kind)
PAIRS = [
    (ADWIN, drift.ADWIN, {}, "real"),
    (ADWIN, drift.ADWIN, {"delta": 0.05, "clock": 1, "min_window_length": 10}, "real"),
    (ADWIN, drift.ADWIN, {"max_buckets": 3, "grace_period": 50}, "real"),
    (PageHinkley, drift.PageHinkley, {"delta": 0.005, "threshold": 50.0}, "real"),
    (PageHinkley, drift.PageHinkley, {"delta": 0.005, "threshold": 20.0, "mode": "up"}, "real"),
    (PageHinkley, drift.PageHinkley, {"delta": 0.01, "threshold": 20.0, "mode": "down"}, "real"),
    (DDM, binary.DDM, {}, "binary"),
    (EDDM, binary.EDDM, {"warm_start": 30}, "binary"),
    (HDDM_A, binary.HDDMA, {}, "binary"),
    (HDDM_A, binary.HDDMA, {"two_sided_test": True}, "binary"),
    (HDDM_W, binary.HDDMW, {}, "binary"),
    (HDDM_W, binary.HDDMW, {"two_sided_test": True, "lambda_val": 0.1}, "binary"),
]


def _stream(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "real":
        return np.concatenate(
            [rng.normal(0, 1, 3000), rng.normal(1, 2, 3000), rng.normal(-1, 0.5, 3000)]
        )
    return np.concatenate(
        [rng.random(3000) < 0.1, rng.random(3000) < 0.3, rng.random(3000) < 0.05]
    ).astype(float)


@pytest.mark.parametrize(
    ("ours", "theirs", "params", "kind"),
    PAIRS,
    ids=[f"{o.__name__}-{i}" for i, (o, *_rest) in enumerate(PAIRS)],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_detections_and_warnings_as_river(
    ours: type, theirs: type, params: dict, kind: str, seed: int
) -> None:
    xs = _stream(kind, seed)
    expected = ours(**params).update_many(xs).tolist()
    river, mine = theirs(**params), ours(**params)
    got, warn_river, warn_mine = [], [], []
    for i, x in enumerate(xs.tolist()):
        river.update(int(x) if kind == "binary" else x)
        mine.update(x)
        if river.drift_detected:
            got.append(i)
        if hasattr(mine, "warning_detected"):
            warn_river.append(river.warning_detected)
            warn_mine.append(mine.warning_detected)
    assert got == expected
    assert warn_mine == warn_river
    assert expected, "the stream must contain detections for the comparison to mean something"
