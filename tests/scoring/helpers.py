from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchkeeper.core.enums import SignalKind
from watchkeeper.core.records import Signal, WindowKey

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def sig(kind: SignalKind = SignalKind.DATA_DRIFT, severity: float = 0.5, feature: str | None = None,
        **kw) -> Signal:
    return Signal(kind=kind, method=kw.pop("method", "psi"), severity=severity, feature=feature,
                  **kw)


def window(i: int, model: str = "m", hours: int = 1) -> WindowKey:
    start = T0 + timedelta(hours=hours * i)
    return WindowKey(model, start, start + timedelta(hours=hours))
