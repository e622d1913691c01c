"""Every stage's tables, imported explicitly so `Base.metadata` is complete for Alembic and
for the migration tests. Each stage adds exactly one line here for its own module."""

from __future__ import annotations

from watchkeeper.store.tables import escalation  # noqa: F401
from watchkeeper.store.tables import foundation  # noqa: F401
from watchkeeper.store.tables import incidents  # noqa: F401
from watchkeeper.store.tables import ingest  # noqa: F401
from watchkeeper.store.tables import mitigation  # noqa: F401
from watchkeeper.store.tables import scoring  # noqa: F401
from watchkeeper.store.tables import service  # noqa: F401
from watchkeeper.store.tables import signals  # noqa: F401
