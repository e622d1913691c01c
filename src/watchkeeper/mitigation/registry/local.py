"""The default registry: version rows in the store, artifacts as files under the data dir.

Artifacts are pickled with joblib (what scikit-learn recommends for its estimators) and
checked against their sha256 on load, so a swapped or damaged file is refused.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.core.errors import InputError, NotFoundError
from watchkeeper.mitigation.registry.base import Lineage, VersionInfo, check_alias
from watchkeeper.store.tables.mitigation import ModelAlias, ModelVersion

STATUSES = ("candidate", "validated", "rejected", "serving", "retired")


class LocalRegistry:
    """Registry on one session (the caller's transaction) and a directory for artifacts."""

    def __init__(self, session: Session, data_dir: Path) -> None:
        self.session = session
        self.root = Path(data_dir) / "models"

    def register(self, model: str, estimator: Any, *, lineage: Lineage, actor: str,
                 now: datetime) -> VersionInfo:
        latest = self.session.scalar(
            select(func.max(ModelVersion.version)).where(ModelVersion.model == model))
        version = (latest or 0) + 1
        path = self.root / model / f"v{version}.joblib"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(estimator, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(path)
        row = ModelVersion(model=model, version=version, created_at=now, created_by=actor,
                           artifact_path=str(path), artifact_sha256=_sha256(path),
                           lineage=asdict(lineage), status="candidate")
        self.session.add(row)
        self.session.flush()
        return _info(row)

    def _row(self, model: str, version: int) -> ModelVersion:
        row = self.session.scalars(select(ModelVersion).where(
            ModelVersion.model == model, ModelVersion.version == version)).first()
        if row is None:
            known = [v.version for v in self.versions(model)]
            raise NotFoundError(f"model {model!r} has no version {version}; known: "
                                f"{', '.join(map(str, known)) or 'none'}")
        return row

    def get(self, model: str, version: int) -> VersionInfo:
        return _info(self._row(model, version))

    def versions(self, model: str) -> list[VersionInfo]:
        q = select(ModelVersion).where(ModelVersion.model == model).order_by(ModelVersion.version)
        return [_info(r) for r in self.session.scalars(q)]

    def load(self, model: str, version: int) -> Any:
        row = self._row(model, version)
        path = Path(row.artifact_path)
        if not path.exists():
            raise NotFoundError(f"artifact of {model} v{version} is missing at {path}")
        if _sha256(path) != row.artifact_sha256:
            raise InputError(f"artifact of {model} v{version} does not match its checksum; "
                             "refusing to load it", file=str(path))
        return joblib.load(path)

    def set_alias(self, model: str, alias: str, version: int, *, actor: str,
                  now: datetime) -> None:
        check_alias(alias)
        self._row(model, version)
        row = self.session.get(ModelAlias, (model, alias))
        if row is None:
            self.session.add(ModelAlias(model=model, alias=alias, version=version,
                                        updated_at=now, updated_by=actor))
        else:
            row.version, row.updated_at, row.updated_by = version, now, actor

    def alias(self, model: str, alias: str) -> int | None:
        row = self.session.get(ModelAlias, (model, check_alias(alias)))
        return row.version if row else None

    def set_status(self, model: str, version: int, status: str) -> None:
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r}", field="status",
                             expected=", ".join(STATUSES))
        self._row(model, version).status = status


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _info(row: ModelVersion) -> VersionInfo:
    return VersionInfo(model=row.model, version=row.version, created_at=row.created_at,
                       created_by=row.created_by, artifact_uri=row.artifact_path,
                       artifact_sha256=row.artifact_sha256, lineage=Lineage(**row.lineage),
                       status=row.status)
