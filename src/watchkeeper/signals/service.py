"""The signals service: gathers one closed window's inputs, runs `compute_signals`, and stores
the result in the `signals` table (the only module of this stage that touches the store).

Re-running a window replaces its rows in one transaction, so a window that grew after a late
batch ends with one consistent set of signals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, func, select

from watchkeeper.core.clock import SYSTEM_CLOCK, Clock, ensure_utc
from watchkeeper.core.enums import FeatureType, SignalKind, Task
from watchkeeper.core.errors import InputError
from watchkeeper.core.records import Signal, WindowKey
from watchkeeper.detectors.multivariate import DEFAULT_MAX_ROWS
from watchkeeper.detectors.performance import CBPE, classification_metrics, regression_metrics
from watchkeeper.ingest import IngestService
from watchkeeper.ingest.sources.files import read_chunks
from watchkeeper.profiles import WindowProfile, content_fingerprint
from watchkeeper.signals.compute import Rows, WindowInputs, compute_signals
from watchkeeper.signals.convert import finite, json_safe
from watchkeeper.signals.performance import Labelled, ReferenceBaseline, binary_targets
from watchkeeper.store import Store
from watchkeeper.store.tables.ingest import IngestBatch, IngestState
from watchkeeper.store.tables.signals import SignalRow

log = logging.getLogger(__name__)

# Columns of the event log (see ingest.spec); the score is stored as "score", reference files
# may call it "probability".
_SCORE_NAMES = ("score", "probability")
# How far back labels arriving in a window are matched to their events (in windows).
LABEL_LOOKBACK_WINDOWS = 48
# Reference rows read to fit CBPE and the baseline metric: more adds nothing to an isotonic fit.
REFERENCE_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class StoredSignal:
    """A signal as stored, with its window."""

    window: WindowKey
    signal: Signal
    created_at: datetime


class SignalService:
    def __init__(
        self, store: Store, policy: Any, ingest: IngestService, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.store = store
        self.policy = policy
        self.ingest = ingest
        self.clock = clock
        self._references: dict[tuple[str, str], _Reference] = {}

    # -- running ------------------------------------------------------------------------------
    def run(
        self, model: str, start: datetime, end: datetime, *, index: int | None = None
    ) -> list[Signal]:
        """Compute, store and return the signals of one window ([start, end), or count window
        `index` spanning that time)."""
        window = WindowKey(model, ensure_utc(start), ensure_utc(end))
        inputs = self._gather(window, index)
        signals = self._compute(window, inputs)
        labels = inputs.current.label.n if inputs.current.label is not None else 0
        self._save(window, signals, (inputs.current.n, labels))
        return signals

    def compute(self, window: WindowKey, *, index: int | None = None) -> list[Signal]:
        """Gather the inputs and compute, without storing."""
        return self._compute(window, self._gather(window, index))

    def run_closed(self, model: str) -> dict[WindowKey, list[Signal]]:
        """Run every closed window of `model` not judged yet, or judged when it held fewer
        events or labels than now (a late batch, labels joined), oldest first."""
        done = self._judged(model)
        out = {}
        for w in self.ingest.list_windows(model):
            if w.closed and done.get((w.start, w.end)) != (w.n, w.n_labels):
                key = WindowKey(model, w.start, w.end)
                out[key] = self.run(model, w.start, w.end, index=w.index)
        return out

    # -- reading ------------------------------------------------------------------------------
    def stored(
        self, model: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[StoredSignal]:
        """Stored signals of `model` whose window starts in [start, end), oldest first."""
        q = select(SignalRow).where(SignalRow.model == model)
        if start is not None:
            q = q.where(SignalRow.window_start >= ensure_utc(start))
        if end is not None:
            q = q.where(SignalRow.window_start < ensure_utc(end))
        with self.store.session(read_only=True) as session:
            rows = session.execute(q.order_by(SignalRow.window_start, SignalRow.id)).scalars()
            return [_from_row(r) for r in rows]

    # -- inputs -------------------------------------------------------------------------------
    def _compute(self, window: WindowKey, inputs: WindowInputs) -> list[Signal]:
        mp = self.policy.model(window.model)
        return compute_signals(window, mp, self.policy.signals_for(window.model), inputs)

    def _gather(self, window: WindowKey, index: int | None) -> WindowInputs:
        mp = self.policy.model(window.model)
        settings = self.policy.signals_for(window.model)
        model = window.model
        current = self.ingest.read_window_profile(
            model, None if index is not None else window.start,
            None if index is not None else window.end, index=index,
        )
        try:
            reference = self.ingest.reference_profile(model)
        except (InputError, OSError):  # no reference, or unreadable: only freshness is judged
            reference = WindowProfile()
        history = self._history(window, settings.quality.stuck_windows - 1)
        reference_data = self._reference(model, mp)
        names = _numeric_features(mp)
        need_events = (
            (current.label is not None and current.label.n > 0)
            or mp.label_delay is not None
            or (len(names) >= 2 and reference_data.rows is not None)
        )
        events = self.ingest.read_events(model, window.start, window.end) if need_events else None
        rows = None
        if events is not None and reference_data.rows is not None and len(names) >= 2:
            cur = _matrix(events, names)
            if cur is not None:
                rows = Rows(reference_data.rows, cur, tuple(names))
        now = self.clock.now()
        try:
            labelled = self._labels_arrived(model, mp, window)
        except InputError as exc:  # e.g. a label that is neither class: judge the rest
            log.warning("%s: realised performance skipped: %s", window, exc)
            labelled = None
        event_times: list[datetime] = []
        label_times: list[datetime | None] = []
        if events is not None and mp.label_delay is not None and events.num_rows:
            event_times = events.column("timestamp").to_pylist()
            label_times = events.column("label_timestamp").to_pylist()
        received, duplicates = self._batches(model, window)
        return WindowInputs(
            current=current, reference=reference, history=history, labelled=labelled,
            baseline=reference_data.baseline, last_event_at=self._watermark(model), now=now,
            event_times=event_times, label_times=label_times, received=received,
            duplicates=duplicates, rows=rows,
        )

    def _labels_arrived(self, model: str, mp: Any, window: WindowKey) -> Labelled | None:
        """The window's own labelled events, plus the earlier events whose labels arrived
        during this window: realised performance is judged when the truth comes in, not only
        when a window is judged after its labels. Events older than the model's label delay
        (at most LABEL_LOOKBACK_WINDOWS windows) are not looked for."""
        if not self._has_labels(model):  # most windows of an unlabelled model: no reads
            return None
        span = window.end - window.start
        lookback = LABEL_LOOKBACK_WINDOWS * span
        if mp.label_delay is not None:
            lookback = min(lookback, max(span, mp.label_delay))
        events = self.ingest.read_events(model, window.start - lookback, window.end)
        if "label_timestamp" not in events.column_names or events.num_rows == 0:
            return None
        def within(column: str) -> pa.ChunkedArray:
            values = events.column(column)
            return pc.and_(pc.greater_equal(values, pa.scalar(window.start, values.type)),
                           pc.less(values, pa.scalar(window.end, values.type)))

        mask = pc.or_(within("timestamp"), within("label_timestamp"))
        return _labelled(mp, events.filter(pc.fill_null(mask, False)))

    def _has_labels(self, model: str) -> bool:
        with self.store.session(read_only=True) as session:
            return session.execute(
                select(IngestBatch.id).where(IngestBatch.model == model,
                                             IngestBatch.kind == "labels",
                                             IngestBatch.n_new > 0).limit(1)
            ).first() is not None

    def _history(self, window: WindowKey, count: int) -> list[WindowProfile]:
        if count <= 0:
            return []
        earlier = [w for w in self.ingest.list_windows(window.model) if w.end <= window.start]
        return [
            self.ingest.read_window_profile(
                window.model, None if w.index is not None else w.start,
                None if w.index is not None else w.end, index=w.index)
            for w in earlier[-count:]
        ]

    def _watermark(self, model: str) -> datetime | None:
        with self.store.session(read_only=True) as session:
            us = session.execute(
                select(IngestState.watermark_us).where(IngestState.model == model)
            ).scalar_one_or_none()
        return None if us is None else datetime.fromtimestamp(us / 1_000_000, UTC)

    def _batches(self, model: str, window: WindowKey) -> tuple[int, int]:
        """Events received (by arrival time) during the window and how many were repeats."""
        with self.store.session(read_only=True) as session:
            rows, dups = session.execute(
                select(func.coalesce(func.sum(IngestBatch.n_rows), 0),
                       func.coalesce(func.sum(IngestBatch.n_duplicates), 0))
                .where(IngestBatch.model == model, IngestBatch.kind == "events",
                       IngestBatch.received_at >= window.start,
                       IngestBatch.received_at < window.end)
            ).one()
        return int(rows), int(dups)

    def _reference(self, model: str, mp: Any) -> _Reference:
        """What the reference file gives beyond its profile (a fitted CBPE, the primary
        realised metric, numeric rows for PCA), read once per reference content."""
        path = Path(self.policy.reference_path(model))
        try:
            key = (model, content_fingerprint(path))
        except OSError:
            return _Reference(None, None)
        if key not in self._references:
            self._references[key] = _read_reference(mp, path)
        return self._references[key]

    # -- storing ------------------------------------------------------------------------------
    def _judged(self, model: str) -> dict[tuple[datetime, datetime], tuple[int, int]]:
        """Judged windows and their (events, labels) at the time."""
        with self.store.session(read_only=True) as session:
            rows = session.execute(
                select(SignalRow.window_start, SignalRow.window_end, SignalRow.window_n,
                       SignalRow.window_labels)
                .where(SignalRow.model == model).distinct()
            ).all()
        return {(ensure_utc(a), ensure_utc(b)): (int(n), int(k)) for a, b, n, k in rows}

    def _save(self, window: WindowKey, signals: list[Signal], counts: tuple[int, int]) -> None:
        now = self.clock.now()
        with self.store.session() as session:
            session.execute(delete(SignalRow).where(
                SignalRow.model == window.model, SignalRow.window_start == window.start,
                SignalRow.window_end == window.end))
            session.add_all([_to_row(window, s, now, counts) for s in signals])


# -- helpers ---------------------------------------------------------------------------------------


def _to_row(window: WindowKey, s: Signal, now: datetime, counts: tuple[int, int]) -> SignalRow:
    return SignalRow(
        model=window.model, window_start=window.start, window_end=window.end,
        window_n=counts[0], window_labels=counts[1],
        kind=s.kind.value, method=s.method[:60], feature=s.feature, segment=s.segment,
        severity=float(s.severity), statistic=finite(s.statistic), p_value=finite(s.p_value),
        effect_size=finite(s.effect_size), threshold=finite(s.threshold),
        catastrophic=bool(s.catastrophic), evidence=s.evidence, details=json_safe(s.details),
        created_at=now,
    )


def _from_row(r: SignalRow) -> StoredSignal:
    signal = Signal(
        kind=SignalKind(r.kind), method=r.method, severity=r.severity, statistic=r.statistic,
        p_value=r.p_value, effect_size=r.effect_size, threshold=r.threshold, feature=r.feature,
        segment=r.segment, catastrophic=r.catastrophic, evidence=r.evidence,
        details=dict(r.details or {}),
    )
    return StoredSignal(WindowKey(r.model, r.window_start, r.window_end), signal, r.created_at)


def _score_column(table: pa.Table) -> np.ndarray | None:
    for name in _SCORE_NAMES:
        if name in table.column_names:
            return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)
    return None


def _labelled(mp: Any, events: pa.Table) -> Labelled | None:
    if "label" not in events.column_names or events.num_rows == 0:
        return None
    has = pc.is_valid(events.column("label"))
    table = events.filter(has)
    if table.num_rows == 0:
        return None
    return _as_labelled(mp, table)


def _as_labelled(mp: Any, table: pa.Table) -> Labelled | None:
    task = Task(mp.task)
    labels = table.column("label").to_pylist()
    segments = {
        seg: np.asarray(table.column(seg).to_pylist(), dtype=object).astype(str)
        for seg in mp.data_schema.segments if seg in table.column_names
    }
    pred = (np.asarray(table.column("prediction").to_pylist(), dtype=object)
            if "prediction" in table.column_names else None)
    if task is Task.BINARY_CLASSIFICATION:
        score = _score_column(table)
        if score is None or np.isnan(score).any() or mp.data_schema.prediction != "probability":
            score = None
        classes = mp.data_schema.classes
        return Labelled(binary_targets(labels, classes), score=score, y_pred=pred,
                        segments=segments)
    if task is Task.REGRESSION:
        if pred is None:
            return None
        return Labelled(np.asarray(labels, dtype=float), y_pred=pred.astype(float),
                        segments=segments)
    return Labelled(np.asarray(labels, dtype=object).astype(str), y_pred=pred, segments=segments)


@dataclass(frozen=True, slots=True)
class _Reference:
    baseline: ReferenceBaseline | None
    rows: np.ndarray | None


def _numeric_features(mp: Any) -> list[str]:
    return [n for n, t in mp.feature_types().items() if t is FeatureType.NUMERIC]


def _matrix(table: pa.Table, names: list[str]) -> np.ndarray | None:
    if table.num_rows == 0 or any(n not in table.column_names for n in names):
        return None
    cols = [np.asarray(pc.cast(table.column(n), pa.float64()).to_numpy(zero_copy_only=False),
                       dtype=float) for n in names]
    return np.column_stack(cols)


def _read_reference(mp: Any, path: Path) -> _Reference:
    tables = []
    n = 0
    try:
        for chunk in read_chunks(path):
            tables.append(chunk.table)
            n += chunk.table.num_rows
            if n >= REFERENCE_ROWS:
                break
    except InputError:
        return _Reference(None, None)
    if not tables:
        return _Reference(None, None)
    table = pa.concat_tables(tables, promote_options="permissive")
    rows = _matrix(table, _numeric_features(mp))
    if rows is not None and len(rows) > 2 * DEFAULT_MAX_ROWS:
        keep = np.random.default_rng(0).choice(len(rows), 2 * DEFAULT_MAX_ROWS, replace=False)
        rows = rows[np.sort(keep)]
    return _Reference(_reference_baseline(mp, table), rows)


def _reference_baseline(mp: Any, table: pa.Table) -> ReferenceBaseline | None:
    """Fit CBPE and measure the primary metric on the reference's labelled rows."""
    if "label" not in table.column_names:
        return None
    table = table.filter(pc.is_valid(table.column("label")))
    if table.num_rows == 0:
        return None
    try:
        data = _as_labelled(mp, table)
    except InputError:
        return None
    if data is None:
        return None
    task = Task(mp.task)
    if task is Task.BINARY_CLASSIFICATION and data.score is not None:
        threshold = decision_threshold(data.score, data.y_pred)
        try:
            cbpe: CBPE | None = CBPE(threshold=threshold).fit(data.score, data.y_true)
        except InputError:  # too few labelled rows or one class only: no estimate, no error
            cbpe = None
        auc = classification_metrics(data.y_true, data.score).overall.roc_auc
        return ReferenceBaseline(cbpe, "roc_auc" if auc is not None else None, auc,
                                 threshold=threshold)
    if task is Task.REGRESSION and data.y_pred is not None:
        return ReferenceBaseline(None, "mae", regression_metrics(data.y_true, data.y_pred)
                                 .overall.mae)
    if data.y_pred is not None:
        hit = data.y_true == np.asarray(data.y_pred).astype(str)
        return ReferenceBaseline(None, "accuracy", float(hit.mean()))
    return None




def decision_threshold(score: np.ndarray, y_pred: np.ndarray | None) -> float:
    """The model's decision threshold as its reference rows show it: the midpoint between the
    highest score it called negative and the lowest it called positive. 0.5 when the reference
    has no 0/1 predictions to read it from (or they contradict any single threshold)."""
    if y_pred is None:
        return 0.5
    try:
        positive = np.asarray(y_pred).astype(float) >= 0.5
    except (TypeError, ValueError):
        return 0.5
    if positive.all() or not positive.any():
        return 0.5
    low, high = float(score[~positive].max()), float(score[positive].min())
    if not low <= high or not 0.0 < (low + high) / 2 < 1.0:
        return 0.5
    return (low + high) / 2
