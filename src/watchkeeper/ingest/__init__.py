"""Layer 4: ingestion. Validate against the model's schema, dedupe on (model, event_id), keep raw
events in a durable columnar log, and fold every batch into mergeable window profiles.

Entry points: `IngestService(store, policy, data_dir)` with `ingest_events`, `ingest_labels`,
`ingest_file`, `read_events`, `reference_profile`, `purge_expired`; and, for other stages'
own transactions, `read_window_profile(session, model, start, end)` and
`list_windows(session, spec, now=)`.
"""

from watchkeeper.ingest.service import (
    BatchResult,
    IngestService,
    PurgeResult,
    WindowInfo,
    list_windows,
    read_window_profile,
)
from watchkeeper.ingest.spec import ModelSpec
from watchkeeper.ingest.validate import Problem

__all__ = [
    "BatchResult",
    "IngestService",
    "ModelSpec",
    "Problem",
    "PurgeResult",
    "WindowInfo",
    "list_windows",
    "read_window_profile",
]
