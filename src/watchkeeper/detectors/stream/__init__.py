"""Streaming change detectors with River's protocol: ``update(x)``, ``drift_detected``,
``update_many(xs) -> indices``, ``reset()``. ``DETECTORS`` is the explicit catalogue (method id ->
class); every entry passes the shared suite in tests/detectors/stream/test_conformance.py."""

from __future__ import annotations

from watchkeeper.detectors.stream.adwin import ADWIN
from watchkeeper.detectors.stream.bocpd import BOCPD
from watchkeeper.detectors.stream.cusum import CUSUM
from watchkeeper.detectors.stream.ddm import DDM
from watchkeeper.detectors.stream.eddm import EDDM
from watchkeeper.detectors.stream.ewma import EWMA
from watchkeeper.detectors.stream.hddm_a import HDDM_A
from watchkeeper.detectors.stream.hddm_w import HDDM_W
from watchkeeper.detectors.stream.kswin import KSWIN
from watchkeeper.detectors.stream.page_hinkley import PageHinkley

DETECTORS: dict[str, type] = {
    "adwin": ADWIN,
    "pagehinkley": PageHinkley,
    "cusum": CUSUM,
    "ewma": EWMA,
    "kswin": KSWIN,
    "ddm": DDM,
    "eddm": EDDM,
    "hddma": HDDM_A,
    "hddmw": HDDM_W,
    "bocpd": BOCPD,
}

__all__ = [
    "ADWIN",
    "BOCPD",
    "CUSUM",
    "DDM",
    "DETECTORS",
    "EDDM",
    "EWMA",
    "HDDM_A",
    "HDDM_W",
    "KSWIN",
    "PageHinkley",
]
