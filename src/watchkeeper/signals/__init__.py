"""Layer 5: the only place that knows both profiles and detectors. A closed window's profiles
(and labelled events) go in, `Signal`s come out and are stored.

    from watchkeeper.signals import SignalService, compute_signals, WindowInputs
"""

from watchkeeper.signals.compute import Rows, WindowInputs, compute_signals
from watchkeeper.signals.performance import Labelled, ReferenceBaseline
from watchkeeper.signals.service import SignalService, StoredSignal

__all__ = [
    "Labelled",
    "ReferenceBaseline",
    "Rows",
    "SignalService",
    "StoredSignal",
    "WindowInputs",
    "compute_signals",
]
