"""The model registry on a real MLflow tracking server (extra `mlflow`).

Each version is an MLflow run in the experiment `watchkeeper/<model>` holding the model in
MLflow's sklearn format (so `mlflow.sklearn.load_model("models:/credit@champion")` works for
teams that serve from MLflow), registered as a version of the registered model `<model>`.
Lineage, author, status and the sha256 of the pickled model travel as version tags; aliases
are MLflow's own (champion, challenger, canary, fallback). `load` downloads the artifact,
checks its sha256 against the tag, and refuses a file that changed since registration.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchkeeper.core.errors import InputError, NotFoundError
from watchkeeper.mitigation.registry.base import Lineage, VersionInfo, check_alias
from watchkeeper.mitigation.registry.local import STATUSES

TAG = "watchkeeper."
PICKLE = "model.pkl"


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise InputError("the MLflow registry needs the mlflow package",
                         field="registry", expected='pip install "watchkeeper[mlflow]"') from None
    return mlflow


class MlflowRegistry:
    """`ModelRegistry` on the MLflow server at `tracking_uri` (http://host:port)."""

    def __init__(self, tracking_uri: str) -> None:
        mlflow = _mlflow()
        from mlflow import MlflowClient

        self.mlflow = mlflow
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    # -- writing -------------------------------------------------------------------------------

    def register(self, model: str, estimator: Any, *, lineage: Lineage, actor: str,
                 now: datetime) -> VersionInfo:
        import mlflow.sklearn
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(model)
        except MlflowException:
            self.client.create_registered_model(model, tags={TAG + "managed": "true"})
        experiment = f"watchkeeper/{model}"
        exp = self.client.get_experiment_by_name(experiment)
        exp_id = exp.experiment_id if exp else self.client.create_experiment(experiment)
        run = self.client.create_run(exp_id, tags={TAG + "created_by": actor})
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "model"
            mlflow.sklearn.save_model(estimator, str(local), serialization_format="pickle")
            sha = _sha256(local / PICKLE)
            self.client.log_artifacts(run.info.run_id, str(local), "model")
        for key, value in lineage.params.items():
            self.client.log_param(run.info.run_id, key[:250], str(value)[:6000])
        for key, value in lineage.metrics.items():
            self.client.log_metric(run.info.run_id, key[:250], float(value))
        self.client.set_terminated(run.info.run_id)
        tags = {TAG + "lineage": json.dumps(asdict(lineage), default=str),
                TAG + "created_by": actor, TAG + "created_at": now.isoformat(),
                TAG + "sha256": sha, TAG + "status": "candidate"}
        mv = self.client.create_model_version(model, f"runs:/{run.info.run_id}/model",
                                              run_id=run.info.run_id, tags=tags,
                                              description=f"{lineage.template} by {actor}",
                                              await_creation_for=0)
        return self.get(model, int(mv.version))

    def set_alias(self, model: str, alias: str, version: int, *, actor: str,
                  now: datetime) -> None:
        check_alias(alias)
        self.get(model, version)
        self.client.set_registered_model_alias(model, alias, str(version))

    def set_status(self, model: str, version: int, status: str) -> None:
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r}", field="status",
                             expected=", ".join(STATUSES))
        self.get(model, version)
        self.client.set_model_version_tag(model, str(version), TAG + "status", status)

    # -- reading -------------------------------------------------------------------------------

    def get(self, model: str, version: int) -> VersionInfo:
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version(model, str(version))
        except MlflowException:
            known = [v.version for v in self.versions(model)]
            raise NotFoundError(f"model {model!r} has no version {version} in MLflow; known: "
                                f"{', '.join(map(str, known)) or 'none'}") from None
        return _info(mv)

    def versions(self, model: str) -> list[VersionInfo]:
        found = self.client.search_model_versions(f"name = '{_quote(model)}'")
        return sorted((_info(mv) for mv in found), key=lambda v: v.version)

    def alias(self, model: str, alias: str) -> int | None:
        from mlflow.exceptions import MlflowException

        check_alias(alias)
        try:
            return int(self.client.get_model_version_by_alias(model, alias).version)
        except MlflowException:
            return None

    def load(self, model: str, version: int) -> Any:
        import mlflow.sklearn

        info = self.get(model, version)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(self.mlflow.artifacts.download_artifacts(
                artifact_uri=info.artifact_uri, dst_path=tmp, tracking_uri=self.tracking_uri))
            if _sha256(local / PICKLE) != info.artifact_sha256:
                raise InputError(f"artifact of {model} v{version} does not match its checksum; "
                                 "refusing to load it", file=info.artifact_uri)
            return mlflow.sklearn.load_model(str(local))


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _info(mv: Any) -> VersionInfo:
    tags = dict(mv.tags or {})
    lineage = json.loads(tags.get(TAG + "lineage", "{}"))
    created = tags.get(TAG + "created_at")
    return VersionInfo(
        model=mv.name, version=int(mv.version),
        created_at=(datetime.fromisoformat(created) if created
                    else datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC)),
        created_by=tags.get(TAG + "created_by", mv.user_id or ""), artifact_uri=mv.source,
        artifact_sha256=tags.get(TAG + "sha256", ""), lineage=Lineage(**lineage),
        status=tags.get(TAG + "status", "candidate"))
