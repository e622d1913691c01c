"""A simulated credit model served through the router: policy, data and helpers for the
mitigation tests. Events carry the serving version's real predictions."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import Task
from watchkeeper.ingest import IngestService
from watchkeeper.mitigation import data as mdata
from watchkeeper.mitigation import metrics
from watchkeeper.mitigation.routing import RoutingState, route
from watchkeeper.policy import Policy, load_policy
from watchkeeper.sim.credit import CreditShift, generate_credit

FEATURES = ("income", "age", "debt_ratio", "credit_lines", "late_payments", "loan_amount",
            "region", "employment")

POLICY = """\
version: 1
people:
  ana: {{email: ana@example.com}}
  carol: {{email: carol@example.com}}
  dave: {{email: dave@example.com}}
  mallory: {{email: mallory@example.com}}
roles:
  model_owner: ana
  risk_officer: [carol, dave]
  mlops_oncall: dave
raci:
  T1: {{responsible: [model_owner], accountable: model_owner}}
  T2: {{responsible: [model_owner], accountable: risk_officer}}
  T3: {{responsible: [mlops_oncall], accountable: risk_officer}}
models:
  - name: credit
    task: binary_classification
    owner: ana
    criticality: {criticality}
    regulatory: {regulatory}
    reference: reference.parquet
    schema:
      features:
        income: {{type: numeric, min: 0}}
        age: {{type: numeric}}
        debt_ratio: {{type: numeric}}
        credit_lines: {{type: numeric}}
        late_payments: {{type: numeric}}
        loan_amount: {{type: numeric}}
        region: {{type: categorical, categories: [north, south, east, west]}}
        employment: {{type: categorical}}
      prediction: probability
      label: binary
      segments: [region]
    window: {{every: 1h}}
    kpis: [{{metric: f1, min: 0.3}}]
    fallback: previous_version
    retrain: {{template: {template}, history: {history}, hpo_budget: {budget}, timeout: {timeout},
               memory_mb: {memory}}}
playbooks:
  T1: [retrain]
  T2: [retrain, human_review]
  T3: [kill_switch, page]
mitigation:
  kill_switch_roles: [mlops_oncall]
  two_person_rule: true
  sign_off: {{roles: [risk_officer]}}
  gates:
    beat_champion: {{margin: 0.0}}
    calibration: {{max_ece: 0.08}}
    fairness: {{attribute: region, max_gap: 0.25}}
    prediction_sanity: {{max_prediction_shift: {max_shift}}}
    ood: {{max_ood_share: 0.1}}
  rollout: {{steps: [25, 100], dwell: 1h, max_kpi_drop: 0.05, max_error_rate: 0.05}}
"""


def write_policy(folder: Path, *, criticality: str = "medium", regulatory: bool = False,
                 template: str = "sklearn.logistic", budget: int = 2, timeout: str = "5m",
                 memory: int = 1024, history: str = "1d", max_shift: float = 0.5) -> Policy:
    folder.mkdir(parents=True, exist_ok=True)
    ref = generate_credit(2000, seed=1)
    pq.write_table(pa.table({k: ref[k] for k in (*FEATURES, "label", "probability")}),
                   folder / "reference.parquet")
    path = folder / "watchkeeper.yaml"
    path.write_text(POLICY.format(criticality=criticality, regulatory=str(regulatory).lower(),
                                  template=template, budget=budget, timeout=timeout,
                                  memory=memory, history=history, max_shift=max_shift))
    return load_policy(path)


def columns() -> mdata.Columns:
    return mdata.Columns(FEATURES[:6], FEATURES[6:])


def population(n: int, seed: int, concept: float = 0.0) -> dict[str, np.ndarray]:
    return generate_credit(n, seed=seed, shift=CreditShift(concept_shift=concept))


def matrix(pop: dict[str, np.ndarray]) -> np.ndarray:
    return mdata.to_matrix(pa.table({k: pop[k] for k in FEATURES}), columns())


def fit_champion(seed: int = 1, n: int = 3000) -> Any:
    """The first production model: the logistic template fitted on pre-drift data."""
    from watchkeeper.mitigation.templates import TEMPLATES

    pop = population(n, seed)
    t = TEMPLATES["sklearn.logistic"]
    return t.build(dict(t.defaults), columns(), Task.BINARY_CLASSIFICATION).fit(
        matrix(pop), pop["label"])


def serve(svc: IngestService, clock: ManualClock, state: RoutingState,
          models: dict[int, tuple[Any, float]], *, n: int, seed: int, concept: float,
          start: datetime, minutes: int = 60, label: bool = True,
          error_version: int | None = None) -> dict[str, Any]:
    """`n` requests over `minutes` from `start`, each answered by the version the routing state
    picks; events and (optionally) labels are ingested. Returns per-version F1 figures."""
    pop = population(n, seed, concept)
    x = matrix(pop)
    ids = [f"s{seed}-{i}" for i in range(n)]
    decisions = [route(state, key, start) for key in ids]
    versions = np.array([d.version if d.version is not None else -1 for d in decisions])
    score = np.full(n, np.nan)
    for v in np.unique(versions):
        if v in models:
            est, _ = models[int(v)]
            mask = versions == v
            score[mask] = metrics.outputs(est, x[mask], Task.BINARY_CLASSIFICATION)
    thr = np.array([models[int(v)][1] if v in models else 0.5 for v in versions])
    if error_version is not None:
        score[versions == error_version] = np.nan
    ts = [start + timedelta(seconds=i * minutes * 60 / n) for i in range(n)]
    ok = ~np.isnan(score)
    events = pa.table({
        "event_id": ids, "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "model_version": [str(v) for v in versions],
        **{k: pop[k] for k in FEATURES},
        "prediction": pa.array(np.where(ok, (np.nan_to_num(score) >= thr).astype(int), 0),
                               mask=~ok),
        "probability": pa.array(np.nan_to_num(score), mask=~ok),
        "latency_ms": np.full(n, 5.0),
    })
    clock.set(start + timedelta(minutes=minutes))
    svc.ingest_events("credit", events)
    if label:
        svc.ingest_labels("credit", pa.table({"event_id": ids, "label": pop["label"]}))
    pred = (np.nan_to_num(score) >= thr).astype(int)
    from sklearn.metrics import f1_score

    return {"f1": float(f1_score(pop["label"][ok], pred[ok])), "versions": versions}
