"""The model registry protocol: versions with lineage, artifacts and aliases.

Two implementations: `LocalRegistry` (the store plus files under the data directory, the
default) and `MlflowRegistry` (extra `mlflow`, a real MLflow model registry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

ALIASES = ("champion", "challenger", "canary", "fallback")


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a version came from, enough to reproduce and to audit it."""

    template: str = ""
    template_version: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    data_start: str | None = None  # ISO times of the training window
    data_end: str | None = None
    data_fingerprint: str | None = None  # sha256 of the training data
    n_rows: int | None = None
    parent_version: int | None = None
    incident_id: str | None = None
    approved_by: str | None = None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    model: str
    version: int
    created_at: datetime
    created_by: str
    artifact_uri: str
    artifact_sha256: str
    lineage: Lineage
    status: str  # candidate | validated | rejected | serving | retired


class ModelRegistry(Protocol):
    def register(self, model: str, estimator: Any, *, lineage: Lineage, actor: str,
                 now: datetime) -> VersionInfo:
        """Store a new version (numbered 1, 2, ... per model) and its artifact."""
        ...

    def get(self, model: str, version: int) -> VersionInfo: ...

    def versions(self, model: str) -> list[VersionInfo]: ...

    def load(self, model: str, version: int) -> Any:
        """The estimator, verified against the stored checksum."""
        ...

    def set_alias(self, model: str, alias: str, version: int, *, actor: str,
                  now: datetime) -> None: ...

    def alias(self, model: str, alias: str) -> int | None: ...

    def set_status(self, model: str, version: int, status: str) -> None: ...


def check_alias(alias: str) -> str:
    from watchkeeper.core.errors import InputError

    if alias not in ALIASES:
        raise InputError(f"unknown alias {alias!r}", field="alias", expected=", ".join(ALIASES))
    return alias
