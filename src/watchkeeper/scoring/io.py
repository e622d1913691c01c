"""Files the scoring commands read and write: signals as JSON Lines, incidents as CSV or JSON.

Signals, one JSON object per line::

    {"model": "credit-risk", "window_start": "2026-01-05T00:00:00Z",
     "window_end": "2026-01-05T04:00:00Z", "kind": "data_drift", "method": "psi",
     "severity": 0.83, "feature": "income", "effect_size": 0.41, "p_value": 1e-6, ...}

(the signal fields may also sit under a "signal" key). Incidents, CSV with a header or a JSON
list: model, start, end, severity (optional), verdict (optional: confirmed, false_positive,
not_actionable; a "status" of "dismissed" with a "reason" is read as the reason).

Every problem names the file, the line or row, the field and what was expected; nothing is
skipped silently.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.enums import SignalKind
from watchkeeper.core.errors import InputError
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.scoring.backtest import CONFIRMED, VERDICTS, Incident

MAX_LINE = 1_000_000  # characters; a longer line is not a signal
_FLOATS = ("statistic", "p_value", "effect_size", "threshold")


def _time(value: Any, *, field: str, row: int, file: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise InputError(f"got {value!r}", field=field, row=row, file=file,
                         expected="an ISO 8601 timestamp such as 2026-01-05T00:00:00Z")
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise InputError(f"got {value!r}", field=field, row=row, file=file,
                         expected="an ISO 8601 timestamp such as 2026-01-05T00:00:00Z") from None


def _number(value: Any, *, field: str, row: int, file: str, optional: bool = True
            ) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"got {value!r}", field=field, row=row, file=file,
                         expected="a finite number" + (" or null" if optional else ""))
    return float(value)


MAX_NAME = 200  # the stores' model column


def _model(value: Any, *, row: int, file: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "..."
        raise InputError(f"got {shown!r}", field="model", row=row, file=file,
                         expected=f"a model name of 1 to {MAX_NAME} characters")
    return value.strip()


def signal_from_dict(d: Any, *, row: int, file: str) -> tuple[WindowKey, Signal]:
    if not isinstance(d, dict):
        raise InputError(f"got {type(d).__name__}", row=row, file=file,
                         expected="a JSON object per line")
    body = d.get("signal", d)
    if not isinstance(body, dict):
        raise InputError("'signal' is not an object", field="signal", row=row, file=file,
                         expected="a JSON object")
    model = _model(d.get("model"), row=row, file=file)
    start = _time(d.get("window_start"), field="window_start", row=row, file=file)
    end = _time(d.get("window_end"), field="window_end", row=row, file=file)
    if end <= start:
        raise InputError(f"window ends {end} before it starts {start}", field="window_end",
                         row=row, file=file, expected="window_end after window_start")
    try:
        kind = SignalKind(body.get("kind"))
    except ValueError:
        raise InputError(f"got {body.get('kind')!r}", field="kind", row=row, file=file,
                         expected=", ".join(k.value for k in SignalKind)) from None
    sev = _number(body.get("severity"), field="severity", row=row, file=file, optional=False)
    if sev is None or not 0.0 <= sev <= 1.0:
        raise InputError(f"got {sev!r}", field="severity", row=row, file=file,
                         expected="a number in [0, 1]")
    method = body.get("method", "")
    if not isinstance(method, str):
        raise InputError(f"got {method!r}", field="method", row=row, file=file,
                         expected="a method id")
    extra = {f: _number(body.get(f), field=f, row=row, file=file) for f in _FLOATS}
    for f in ("feature", "segment", "evidence"):
        if body.get(f) is not None and not isinstance(body.get(f), str):
            raise InputError(f"got {body.get(f)!r}", field=f, row=row, file=file,
                             expected="a string")
    details = body.get("details") or {}
    if not isinstance(details, dict):
        raise InputError("details is not an object", field="details", row=row, file=file,
                         expected="a JSON object")
    signal = Signal(
        kind=kind, method=method, severity=sev, feature=body.get("feature"),
        segment=body.get("segment"), catastrophic=bool(body.get("catastrophic", False)),
        evidence=body.get("evidence") or "", details=details, **extra,
    )
    return WindowKey(model, start, end), signal


def read_signals(path: str | Path) -> list[tuple[WindowKey, list[Signal]]]:
    """Signals grouped by (model, window), ordered by model then window start."""
    file = str(path)
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file,
                         expected="a readable JSON Lines file") from None
    groups: dict[tuple[str, datetime], tuple[WindowKey, list[Signal]]] = {}
    with handle:
        for row, line in enumerate(handle, start=1):
            if len(line) > MAX_LINE:
                raise InputError(f"line of {len(line):,} characters", row=row, file=file,
                                 expected=f"at most {MAX_LINE:,} characters per signal")
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON ({exc.msg} at column {exc.colno})", row=row,
                                 file=file, expected="one JSON object per line") from None
            key, signal = signal_from_dict(data, row=row, file=file)
            slot = groups.get((key.model, key.start))
            if slot is None:
                groups[(key.model, key.start)] = (key, [signal])
            elif slot[0].end != key.end:
                raise InputError(
                    f"window {key.model}@{key.start.isoformat()} ends at {key.end.isoformat()}"
                    f" here but at {slot[0].end.isoformat()} earlier", field="window_end",
                    row=row, file=file, expected="one end per window")
            else:
                slot[1].append(signal)
    if not groups:
        raise InputError("no signals", file=file, expected="at least one signal line")
    return [groups[k] for k in sorted(groups)]


def write_signals(windows: Iterable[tuple[WindowKey, Sequence[Signal]]], path: str | Path
                  ) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        for key, signals in windows:
            for s in signals:
                d = s.to_dict()
                d.update(model=key.model, window_start=key.start.isoformat(),
                         window_end=key.end.isoformat())
                out.write(json.dumps(d, default=_jsonable) + "\n")
                n += 1
    return n


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_incidents(path: str | Path) -> list[Incident]:
    file = str(path)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file,
                         expected="a readable CSV or JSON file") from None
    if p.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON ({exc.msg} at line {exc.lineno})", file=file,
                             expected="a JSON list of incidents") from None
        if isinstance(data, dict):
            data = data.get("incidents")
        if not isinstance(data, list):
            raise InputError("no list of incidents", file=file,
                             expected='a JSON list, or {"incidents": [...]}')
        rows = list(enumerate(data, start=1))
    else:
        reader = csv.DictReader(text.splitlines())
        missing = {"model", "start", "end"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"missing column(s) {sorted(missing)}", file=file, row=1,
                             expected="a header with model, start, end[, severity, verdict]")
        rows = list(enumerate(reader, start=2))
    return [incident_from_dict(d, row=row, file=file) for row, d in rows]


def incident_from_dict(d: Any, *, row: int, file: str) -> Incident:
    if not isinstance(d, dict):
        raise InputError(f"got {type(d).__name__}", row=row, file=file,
                         expected="an object with model, start, end")
    model = _model(d.get("model"), row=row, file=file)
    start = _time(d.get("start"), field="start", row=row, file=file)
    end = _time(d.get("end"), field="end", row=row, file=file)
    if end <= start:
        raise InputError(f"incident ends {end} before it starts {start}", field="end",
                         row=row, file=file, expected="end after start")
    verdict = (d.get("verdict") or "").strip().lower() if isinstance(d.get("verdict"), str) \
        else d.get("verdict")
    if not verdict and str(d.get("status", "")).lower() == "dismissed":
        verdict = str(d.get("reason") or d.get("dismiss_reason") or "false_positive").lower()
    verdict = verdict or CONFIRMED
    if verdict not in VERDICTS:
        raise InputError(f"got {verdict!r}", field="verdict", row=row, file=file,
                         expected=", ".join(VERDICTS))
    severity = d.get("severity") or "high"
    return Incident(model, start, end, str(severity), verdict)


def group_by_model(windows: Sequence[tuple[WindowKey, list[Signal]]]
                   ) -> dict[str, list[tuple[WindowKey, list[Signal]]]]:
    out: dict[str, list[tuple[WindowKey, list[Signal]]]] = defaultdict(list)
    for key, signals in windows:
        out[key.model].append((key, signals))
    return out
