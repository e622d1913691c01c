"""`watchkeeper demo`: the whole loop, live, on simulated traffic with scripted incidents.

A credit-risk classifier (scikit-learn, trained on generated applicants) serves requests
through the routing state (champion, canary, kill-switch fallback); every request is logged as
a prediction event and its label arrives one window later. Time is simulated: one window is an
hour of traffic, played in `speed`-compressed real time. Each window the engine ticks:
signals -> score -> incidents -> escalation and mitigation, and the script's incidents play out:

  pipeline break    a feature stops capturing data   -> data-quality incident, quarantine
  covariate drift   the applicant population moves   -> retraining, canary, sign-off
  concept drift     the default rule itself changes  -> KPI drop, retraining
  latency spike     the serving path slows down      -> latency incident
  critical failure  a feature arrives empty, errors  -> T3, kill switch to the fallback

A simulated on-call person acknowledges new incidents and an approver signs off promotions,
so MTTA and the sign-off path are real. It ends with MTTD and MTTR per incident.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from watchkeeper.core.clock import ManualClock
from watchkeeper.core.enums import IncidentState, Task, Tier
from watchkeeper.engine.tick import Engine, TickReport
from watchkeeper.escalation.outbox import deliver_due
from watchkeeper.incidents import service as incidents
from watchkeeper.incidents.timings import human_duration
from watchkeeper.mitigation import data as mdata
from watchkeeper.mitigation import metrics
from watchkeeper.mitigation import service as mitigation
from watchkeeper.mitigation.authority import roles_held
from watchkeeper.mitigation.registry.base import Lineage
from watchkeeper.mitigation.routing import route
from watchkeeper.mitigation.templates import TEMPLATES
from watchkeeper.policy import Policy, load_policy, starter_policy_text
from watchkeeper.sim.credit import DECISION_THRESHOLD, CreditShift, generate_credit
from watchkeeper.store import Store

MODEL = "credit-risk"
NUMERIC = ("income", "age", "debt_ratio", "credit_lines", "late_payments", "loan_amount")
CATEGORICAL = ("region", "employment")
START = datetime(2026, 11, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
ON_CALL = "carol"  # a member of the starter policy's mlops rotation
APPROVER = "alice"  # the model owner, who may sign off
ACK_AFTER = timedelta(minutes=12)
SIGN_OFF_AFTER = timedelta(minutes=40)


@dataclass(frozen=True, slots=True)
class Scene:
    name: str
    start: int  # first window (hour) of the fault
    end: int  # first healthy window after it
    expect: str
    shift: CreditShift | None = None
    stuck: str | None = None  # a numeric feature that stopped capturing data (one value)
    empty: str | None = None  # a feature that arrives null
    latency_ms: float | None = None
    broken_model: bool = False  # the serving version answers garbage (a bad deploy)


SCRIPT: tuple[Scene, ...] = (
    Scene("feature pipeline break", 5, 9, "data-quality incident: quarantine, not retraining",
          stuck="debt_ratio"),
    Scene("covariate drift", 13, 30, "drift incident: retraining, canary, sign-off, promotion",
          shift=CreditShift(income_factor=1.15, age_shift=2.0)),
    Scene("concept drift", 34, 48, "KPI drop: retraining on the new rule",
          shift=CreditShift(concept_shift=1.3)),
    Scene("latency spike", 52, 55, "latency incident", latency_ms=480.0),
    Scene("critical failure", 59, 62, "T3: kill switch to the previous version",
          broken_model=True),
)
WINDOWS = 66


def scene_at(hour: int, script: tuple[Scene, ...] = SCRIPT) -> Scene | None:
    return next((s for s in script if s.start <= hour < s.end), None)


# --- set-up ------------------------------------------------------------------------------------


def write_policy(folder: Path) -> Policy:
    """The starter policy, with console delivery (no secrets needed) and a quicker rollout."""
    doc = yaml.safe_load(starter_policy_text())
    # The demo narrates deliveries itself; the console channel only logs.
    doc["channels"] = {"console": {"type": "console", "stream": "none"}}
    doc["routes"] = {"T1": ["console"], "T2": ["console"], "T3": ["console"]}
    for person in doc["people"].values():
        person.pop("channels", None)
    doc["scoring"].pop("seasonality", None)  # needs weeks of history
    model = doc["models"][0]
    model["retrain"] = {"template": "sklearn.logistic", "history": "8h", "hpo_budget": 2,
                        "timeout": "5m"}
    doc["playbooks"] = {"T1": ["notify"], "T2": ["retrain", "human_review"],
                        "T3": ["kill_switch", "page"]}
    doc["mitigation"]["rollout"] = {"steps": [25, 100], "dwell": "1h", "max_kpi_drop": 0.05,
                                    "max_error_rate": 0.05}
    doc["mitigation"]["gates"]["beat_champion"] = {"margin": 0.0}
    doc["mitigation"]["gates"]["fairness"]["max_gap"] = 0.3
    doc["mitigation"]["gates"]["prediction_sanity"] = {"max_prediction_shift": 0.4}
    doc["mitigation"]["gates"]["ood"] = {"max_ood_share": 0.3}
    doc["mitigation"]["gates"]["calibration"] = {"max_ece": 0.1}
    # One demo model, not a fleet: plain weights, and a medium-stakes (still regulated, so
    # promotions need sign-off) model keep single-cause incidents out of T3.
    model["criticality"] = "medium"
    model["customer_impact"] = "medium"
    doc["scoring"]["weights"] = dict.fromkeys(doc["scoring"]["weights"], 1.0)
    path = folder / "watchkeeper.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_policy(path)


def write_reference(folder: Path, champion: Any) -> None:
    """What "normal" looked like: the training population, scored by the serving model."""
    pop = generate_credit(4000, seed=1)
    x = mdata.to_matrix(pa.table({k: pop[k] for k in NUMERIC + CATEGORICAL}), columns())
    pop["probability"] = metrics.outputs(champion, x, Task.BINARY_CLASSIFICATION)
    pop["prediction"] = (pop["probability"] >= DECISION_THRESHOLD).astype(int)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(pop), folder / "data" / "credit_reference.parquet")


def columns() -> mdata.Columns:
    return mdata.Columns(NUMERIC, CATEGORICAL)


def train(template: str, seed: int) -> Any:
    pop = generate_credit(4000, seed=seed)
    t = TEMPLATES[template]
    x = mdata.to_matrix(pa.table({k: pop[k] for k in NUMERIC + CATEGORICAL}), columns())
    return t.build(dict(t.defaults), columns(), Task.BINARY_CLASSIFICATION).fit(x, pop["label"])


def register_versions(store: Store, data_dir: Path, now: datetime,
                      models: list[Any]) -> None:
    """v1 (last quarter's model) is the fallback; v2 (this quarter's) is the champion."""
    with store.session() as s:
        reg = mitigation.registry(s, data_dir)
        for est, note in zip(models, ("last quarter", "this quarter"), strict=True):
            reg.register(MODEL, est, actor="demo", now=now,
                         lineage=Lineage(template="sklearn.logistic", template_version="1",
                                         params={"threshold": DECISION_THRESHOLD, "note": note}))
        mitigation.set_champion(s, MODEL, 1, actor="demo", now=now, data_dir=data_dir)
        mitigation.set_champion(s, MODEL, 2, actor="demo", now=now, data_dir=data_dir)


# --- traffic -----------------------------------------------------------------------------------


@dataclass
class Traffic:
    store: Store
    engine: Engine
    data_dir: Path
    n: int
    models: dict[int, tuple[Any, float]] = field(default_factory=dict)
    pending_labels: pa.Table | None = None

    def _model(self, version: int) -> tuple[Any, float]:
        if version not in self.models:
            with self.store.session(read_only=True) as s:
                reg = mitigation.registry(s, self.data_dir)
                info = reg.get(MODEL, version)
                self.models[version] = (reg.load(MODEL, version),
                                        float(info.lineage.params.get("threshold", 0.5)))
        return self.models[version]

    def serve_window(self, hour: int, scene: Scene | None) -> dict[str, int]:
        """One hour of requests, each answered by the version the routing state picks."""
        start = START + hour * HOUR
        pop = generate_credit(self.n, seed=1000 + hour, shift=scene.shift if scene else None)
        if scene and scene.stuck:
            pop[scene.stuck] = np.full(self.n, pop[scene.stuck][0])
        with self.store.session(read_only=True) as s:
            state = mitigation.routing_state(s, MODEL)
        ids = [f"h{hour:03d}-{i:05d}" for i in range(self.n)]
        decisions = [route(state, key, start) for key in ids]
        versions = np.array([d.version if d.version is not None else -1 for d in decisions])
        x = mdata.to_matrix(pa.table({k: pop[k] for k in NUMERIC + CATEGORICAL}), columns())
        score = np.full(self.n, np.nan)
        threshold = np.full(self.n, 0.5)
        latency = np.zeros(self.n)
        for v in np.unique(versions):
            if v < 0:
                continue
            est, thr = self._model(int(v))
            mask = versions == v
            t0 = time.perf_counter()
            score[mask] = metrics.outputs(est, x[mask], Task.BINARY_CLASSIFICATION)
            latency[mask] = (time.perf_counter() - t0) * 1000 / max(1, int(mask.sum())) + 8.0
            threshold[mask] = thr
        rng = np.random.default_rng(hour)
        latency += rng.gamma(2.0, 3.0, self.n)
        if scene and scene.latency_ms:
            latency += rng.normal(scene.latency_ms, 60.0, self.n).clip(0)
        if scene and scene.broken_model:  # the bad deploy hit the newest serving version
            hit = versions == versions.max()
            score[hit] = rng.uniform(0.9, 1.0, int(hit.sum()))
        ok = ~np.isnan(score)
        table: dict[str, Any] = {
            "event_id": ids,
            "timestamp": pa.array([start + timedelta(seconds=i * 3600 / self.n)
                                   for i in range(self.n)], pa.timestamp("us", tz="UTC")),
            "model_version": [str(v) if v > 0 else "none" for v in versions],
            **{k: pop[k] for k in NUMERIC + CATEGORICAL},
            "email": pop["email"],
            "prediction": pa.array(np.where(ok, np.nan_to_num(score) >= threshold, 0)
                                   .astype(int), mask=~ok),
            "probability": pa.array(np.nan_to_num(score), mask=~ok),
            "latency_ms": latency.round(2),
        }
        if scene and scene.empty:
            table[scene.empty] = pa.nulls(self.n, pa.float64())
        self.engine.ingest.ingest_events(MODEL, pa.table(table))
        if self.pending_labels is not None:  # yesterday's labels arrive now
            self.engine.ingest.ingest_labels(MODEL, self.pending_labels)
        self.pending_labels = pa.table({"event_id": ids, "label": pop["label"]})
        counts = {str(v): int((versions == v).sum()) for v in np.unique(versions)}
        return counts


# --- the people in the loop --------------------------------------------------------------------


def people_act(store: Store, policy: Policy, now: datetime, say: Callable[[str], None]) -> None:
    """The on-call person acknowledges new incidents; the approver signs off waiting rollouts."""
    with store.session() as s:
        for row in incidents.active_incidents(s, MODEL):
            if row.acknowledged_at is None and now - row.opened_at >= ACK_AFTER:
                incidents.transition(s, row.id, IncidentState.ACKNOWLEDGED, actor=ON_CALL,
                                     now=now, rationale="on it")
                say(f"  [cyan]{ON_CALL}[/cyan] acknowledges {row.id}")
        state = mitigation.routing_state(s, MODEL)
        critical = [r for r in incidents.active_incidents(s, MODEL) if r.tier == Tier.T3]
        if state.kill_switch.in_force(now) and not critical:
            held = roles_held(policy, ON_CALL, MODEL)
            mitigation.restore(s, MODEL, actor=ON_CALL, actor_roles=held,
                               allowed_roles=policy.mitigation.kill_switch_roles,
                               reason="critical incident resolved; serving restored", now=now)
            say(f"  [cyan]{ON_CALL}[/cyan] restores serving after the kill switch")
        rollout = mitigation.active_rollout(s, MODEL)
        if (rollout is not None and rollout.state == "awaiting_sign_off"
                and rollout.signed_off_by is None
                and now - rollout.step_started_at >= SIGN_OFF_AFTER - HOUR):
            mitigation.sign_off(s, policy, rollout.id, approver=APPROVER, now=now)
            say(f"  [cyan]{APPROVER}[/cyan] signs off v{rollout.candidate} for promotion")


# --- narration ---------------------------------------------------------------------------------


def narrate(report: TickReport, say: Callable[[str], None]) -> None:
    for w in report.windows:
        sc = w.score
        colour = ("green", "yellow", "dark_orange", "red")[int(sc.tier)]
        top = sc.contributors[0].text if sc.contributors else "no signal above noise"
        say(f"  score [{colour}]{sc.value:5.1f} {sc.tier}[/{colour}]  {top}")
        for c in w.changes:
            say(f"  incident {c.incident_id} [bold]{c.what}[/bold] at {c.tier}: {c.detail[:90]}")
        for m in w.mitigations:
            for r in m.results:
                say(f"  mitigation [magenta]{r.action}[/magenta]: {r.status} — {r.summary[:100]}")
    for r in report.retrains:
        say(f"  retraining {r.run_id}: [bold]{r.status}[/bold] — {r.summary[:110]}")
    for c in report.rollouts:
        if c.action != "hold":
            say(f"  rollout {c.rollout_id}: [bold]{c.action}[/bold] ({c.share:.0%}) — "
                f"{c.reason[:90]}")
    if report.notifications_queued:
        say(f"  {report.notifications_queued} notification(s) queued")
    for e in report.errors:
        say(f"  [red]error[/red] {e}")


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    id: str
    title: str
    tier: str
    state: str
    mttd: str
    mtta: str
    mttr: str
    mttd_s: float | None
    mttr_s: float | None


def summary(store: Store) -> list[IncidentSummary]:
    with store.session(read_only=True) as s:
        rows = sorted(incidents.list_incidents(s, model=MODEL, states=None, limit=1000),
                      key=lambda r: r.opened_at)
        out = []
        for r in rows:
            t = incidents.times(r)
            out.append(IncidentSummary(r.id, r.title, str(Tier(r.max_tier)), r.state,
                                       human_duration(t.ttd), human_duration(t.tta),
                                       human_duration(t.ttr), t.ttd, t.ttr))
        return out


# --- the run -----------------------------------------------------------------------------------


@dataclass
class DemoResult:
    folder: Path
    db_url: str
    incidents: list[IncidentSummary]
    reports: list[TickReport]


# Called once the demo's store is ready; returns the dashboard URL (the CLI starts the
# server: evaluation sits below the web layer and must not import it).
ServerHook = Callable[[Store, Policy, Path, ManualClock], str]


def run(
    *,
    folder: Path | None = None,
    windows: int = WINDOWS,
    requests: int = 1500,
    speed: float = 3600.0,
    start_server: ServerHook | None = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Play the script. `speed` is simulated seconds per real second (0: as fast as possible)."""
    # The demo narrates; stage loggers (e.g. the console channel) stay out of the terminal.
    logging.getLogger("watchkeeper").addHandler(logging.NullHandler())
    folder = Path(folder or tempfile.mkdtemp(prefix="watchkeeper-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    models = [train("sklearn.logistic", seed) for seed in (11, 12)]
    write_reference(folder, models[-1])
    policy = write_policy(folder)
    db_url = f"sqlite:///{folder / 'watchkeeper.db'}"
    data_dir = folder / "watchkeeper-data"
    store = Store.open(db_url)
    clock = ManualClock(START)
    register_versions(store, data_dir, clock.now(), models)
    engine = Engine(store, policy, data_dir, clock=clock)
    traffic = Traffic(store, engine, data_dir, requests)
    url = start_server(store, policy, data_dir, clock) if start_server else None
    if url is not None:
        say(f"dashboard: [bold]{url}[/bold]  (API docs at {url}docs; authentication is off "
            "for this local demo)")
    say(f"policy and data in {folder}; database {db_url}")
    reports = []
    try:
        for hour in range(windows):
            scene = scene_at(hour)
            if scene is not None and hour == scene.start:
                say(f"\n[bold]>>> {scene.name}[/bold] from hour {hour}: expect {scene.expect}")
            started = time.monotonic()
            counts = traffic.serve_window(hour, scene)
            clock.set(START + (hour + 1) * HOUR + timedelta(minutes=2))
            say(f"hour {hour:3d}  served {sum(counts.values())} requests by version "
                + ", ".join(f"v{k}: {v}" for k, v in sorted(counts.items())))
            report = engine.tick()
            reports.append(report)
            narrate(report, say)
            for minutes in (15, 45):  # people react within the hour
                clock.set(START + (hour + 1) * HOUR + timedelta(minutes=minutes))
                people_act(store, policy, clock.now(), say)
            delivered = deliver_due(store, clock.now(), env={})
            if delivered.delivered:
                say(f"  {delivered.delivered} notification(s) delivered to the console channel")
            if speed > 0:
                time.sleep(max(0.0, 3600 / speed - (time.monotonic() - started)))
        result = DemoResult(folder, db_url, summary(store), reports)
        say("\n[bold]Incidents[/bold]")
        for inc in result.incidents:
            say(f"  {inc.id}  {inc.tier}  {inc.state:16s} MTTD {inc.mttd:>6s}  MTTA {inc.mtta:>6s}"
                f"  MTTR {inc.mttr:>6s}  {inc.title[:70]}")
        if url is not None:
            say(f"\nopen {url} to look around")
        return result
    finally:
        if url is None:
            store.close()
