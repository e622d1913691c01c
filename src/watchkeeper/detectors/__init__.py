# Streaming detectors are re-exported here (``from watchkeeper.detectors import ADWIN``), lazily:
# they load numba, which the batch detectors and the CLI's start-up should not pay for.
_STREAM = ("ADWIN", "BOCPD", "CUSUM", "DDM", "EDDM", "EWMA", "HDDM_A", "HDDM_W", "KSWIN",
           "PageHinkley")  # fmt: skip


def __getattr__(name: str) -> object:
    if name in _STREAM:
        from watchkeeper.detectors import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'watchkeeper.detectors' has no attribute {name!r}")
