"""Dashboard pages (GET). Server-rendered Jinja2; charts use the plotly.js file shipped inside
the installed `plotly` wheel (no CDN, works offline). Forms post to `web.actions`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import plotly
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from watchkeeper import audit
from watchkeeper.api.deps import allow
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.core.errors import InputError, NotFoundError
from watchkeeper.engine.access import Permission
from watchkeeper.escalation import delivery_log, list_messages, timings
from watchkeeper.incidents import service as incidents
from watchkeeper.incidents.lifecycle import ACTIVE, TRANSITIONS
from watchkeeper.incidents.postmortem import SECTIONS
from watchkeeper.ingest import IngestService
from watchkeeper.mitigation import service as mitigation
from watchkeeper.mitigation.rollout import ACTIVE_STATES as ACTIVE_ROLLOUTS
from watchkeeper.scoring.service import ScoringService
from watchkeeper.web import charts, queries
from watchkeeper.web.ui import (
    HERE,
    app_state,
    page_errors,
    render,
    require_viewer,
    secure_headers,
    viewer,
)

router = APIRouter(include_in_schema=False)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC = {"app.css": "text/css", "app.js": "text/javascript"}
Days = Annotated[int, Query(ge=1, le=365)]


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC:
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name],
                        headers={"Cache-Control": "no-cache"})


# --- live updates ------------------------------------------------------------------------------


@router.get("/ui/changes")
def ui_changes(request: Request) -> Response:
    """Change markers the pages poll; a page re-renders its live parts when one moves."""
    if viewer(request) is None:
        return JSONResponse({"signed_in": False}, status_code=401)
    with app_state(request).store.session(read_only=True) as s:
        return JSONResponse(queries.changes(s), headers={"Cache-Control": "no-store"})


# --- fleet -------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def fleet(request: Request, days: Days = 30) -> HTMLResponse:
    who = require_viewer(request)
    st = app_state(request)
    now = st.clock.now()
    since = now - timedelta(days=days)
    with st.store.session(read_only=True) as s:
        grid = queries.fleet_grid(s, since, now)
        latest = queries.latest_scores(s)
        open_counts = queries.open_by_tier(s)
        trend = queries.timing_trend(s, now)
        active = incidents.list_incidents(s, states=list(ACTIVE), limit=200)
    policy_models = [m.name for m in st.policy.models] if st.policy else []
    names = [n for n in sorted(set(grid.rows) | set(policy_models) | set(latest))
             if who.covers(n)]
    if names != grid.rows:
        keep = {n: i for i, n in enumerate(grid.rows)}
        empty: list[float | None] = [None] * len(grid.columns)
        grid = queries.Grid(names, grid.columns,
                            [grid.values[keep[n]] if n in keep else empty for n in names])
    by_tier: dict[int, int] = {}
    for (model, tier), n in open_counts.items():
        if who.covers(model):
            by_tier[tier] = by_tier.get(tier, 0) + n
    rows = [{"name": n, "latest": latest.get(n)} for n in names]
    rows.sort(key=lambda r: (-(r["latest"].tier if r["latest"] else -1),
                             -(r["latest"].value if r["latest"] else 0), r["name"]))
    return render(request, "fleet.html", {
        "title": "Fleet", "days": days, "models": rows,
        "incidents": [i for i in active if who.covers(i.model)],
        "figs": {"heatmap": charts.fleet_heatmap(grid), "tiers": charts.open_by_tier(by_tier),
                 "timings": charts.timing_trend(trend)},
    }, who=who)


# --- model -------------------------------------------------------------------------------------


@router.get("/models/{model}", response_class=HTMLResponse)
def model_page(request: Request, model: str, days: Days = 7,
               feature: str | None = None) -> HTMLResponse:
    who = require_viewer(request)
    st = app_state(request)
    with page_errors():
        allow(st, who, Permission.READ, model, "dashboard.model")
        mp = st.policy.model(model) if st.policy is not None and _in_policy(st, model) else None
        now = st.clock.now()
        since = now - timedelta(days=days)
        with st.store.session(read_only=True) as s:
            latest = queries.latest_scores(s, model).get(model)
            if mp is None and latest is None:
                raise NotFoundError(f"no model {model!r}: it is not in the policy and has "
                                    "no scores")
            series = queries.score_series(s, model, since, now)
            markers = queries.incident_markers(s, model, since)
            drift = queries.drift_grid(s, model, since, now)
            perf = queries.metric_series(s, model, since,
                                         ("performance", "estimated_performance"))
            latency = queries.metric_series(s, model, since, ("latency",))
            routing = mitigation.routing_state(s, model)
            rollouts = mitigation.list_rollouts(s, model, limit=5)
            open_incidents = incidents.list_incidents(s, model=model, states=list(ACTIVE))
    bands = ScoringService(st.store, clock=st.clock).active_config().bands.as_tuple()
    features = list(mp.data_schema.features) if mp is not None else drift.rows
    chosen = feature if feature in features else (drift.rows[0] if drift.rows else
                                                   (features[0] if features else None))
    dist, dist_note = _distributions(st, mp, chosen, latest)
    figs: dict[str, Any] = {
        "score": charts.score_timeline(series, bands, markers, since, now),
        "contributors": charts.contributors(latest.contributors if latest else []),
    }
    if drift.rows:
        figs["drift"] = charts.drift_heatmap(drift)
    if perf:
        figs["performance"] = charts.lines(perf, "metric value")
    if latency:
        figs["latency"] = charts.lines(latency, "milliseconds")
    if dist is not None:
        figs["distribution"] = dist
    return render(request, "model.html", {
        "title": model, "model": model, "mp": mp, "latest": latest, "days": days,
        "routing": routing, "rollouts": rollouts, "incidents": open_incidents,
        "features": features, "feature": chosen, "dist_note": dist_note, "figs": figs,
        "tier_name": lambda t: str(Tier(t)),
    }, who=who)


def _in_policy(st: Any, model: str) -> bool:
    try:
        st.policy.model(model)
    except NotFoundError:
        return False
    return True


def _distributions(st: Any, mp: Any, feature: str | None,
                   latest: queries.Latest | None) -> tuple[dict[str, Any] | None, str]:
    """Reference vs the latest scored window, from the stored profiles."""
    if mp is None or feature is None:
        return None, "the model is not in the loaded policy, so it has no reference profile"
    ingest = IngestService(st.store, st.policy, st.data_dir, clock=st.clock)
    try:
        reference = ingest.reference_profile(mp.name)
    except (InputError, NotFoundError, OSError) as exc:
        return None, f"no reference profile: {exc}"
    start = latest.window_start if latest else None
    end = latest.window_end if latest else None
    current = ingest.read_window_profile(mp.name, start, end)
    ref, cur = reference.features.get(feature), current.features.get(feature)
    if ref is None or cur is None or cur.count == 0:
        return None, f"no profile of {feature} in the latest window yet"
    if ref.kind == "numeric":
        return charts.numeric_distributions(ref, cur), ""
    return charts.categorical_distributions(ref.frequencies(), cur.frequencies()), ""


# --- incident ----------------------------------------------------------------------------------


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: str) -> HTMLResponse:
    who = require_viewer(request)
    st = app_state(request)
    with page_errors(), st.store.session(read_only=True) as s:
        row = incidents.get(s, incident_id)
        allow(st, who, Permission.READ, row.model, "dashboard.incident")
        events = incidents.timeline(s, incident_id)
        t = incidents.times(row)
        try:
            pm = incidents.get_postmortem(s, incident_id)
        except NotFoundError:
            pm = None
        items = incidents.action_items(s, incident_id)
        esc = timings(s, incident_id)
        deliveries = delivery_log(s, incident_id)
        messages = list_messages(s, incident_id)
        routing = mitigation.routing_state(s, row.model)
        rollouts = [r for r in mitigation.list_rollouts(s, row.model, limit=20)
                    if r.incident_id == incident_id or r.needs_sign_off]
        latest = queries.latest_scores(s, row.model).get(row.model)
        view = {"id": row.id, "title": row.title, "model": row.model, "tier": Tier(row.tier),
                "max_tier": Tier(row.max_tier), "state": row.state, "opened_at": row.opened_at,
                "acknowledged_at": row.acknowledged_at, "acknowledged_by": row.acknowledged_by,
                "resolved_at": row.resolved_at, "labels": row.labels, "family": row.family,
                "source": row.source, "dismiss_reason": row.dismiss_reason}
        timeline = [{"at": e.at, "actor": e.actor, "type": e.type, "text": e.text}
                    for e in events]
        explained = next((e for e in reversed(events) if e.details.get("contributors")), None)
        explanation = list(explained.details["contributors"]) if explained else None
        pm_view = ({"status": pm.status, "body": dict(pm.body)} if pm is not None else None)
        item_views = [{"id": i.id, "text": i.text, "owner": i.owner, "due_at": i.due_at,
                       "done_at": i.done_at, "done_by": i.done_by} for i in items]
        rollout_views = [{"id": r.id, "candidate": r.candidate, "state": r.state,
                          "needs_sign_off": r.needs_sign_off, "signed_off_by": r.signed_off_by,
                          "started_by": r.started_by,
                          "can_sign": r.state in ACTIVE_ROLLOUTS and r.needs_sign_off
                          and not r.signed_off_by} for r in rollouts]
    from_score = False
    if explanation is None and latest is not None:
        explanation, from_score = latest.contributors, True
    acked = {"by": row.acknowledged_by, "at": row.acknowledged_at}
    return render(request, "incident.html", {
        "title": view["title"], "inc": view, "timeline": timeline, "ttd": t.ttd, "tta": t.tta,
        "ttr": t.ttr, "explanation": explanation or [], "from_score": from_score,
        "summary": explained.text if explained else latest.summary if latest else "",
        "postmortem": pm_view,
        "sections": SECTIONS, "items": item_views,
        "escalation": esc, "deliveries": deliveries, "messages": messages, "routing": routing,
        "rollouts": rollout_views, "acked": acked,
        "legal": {t.value for t in TRANSITIONS[IncidentState(view["state"])]},
    }, who=who)


# --- audit -------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, action: str | None = None, subject: str | None = None,
               limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> HTMLResponse:
    who = require_viewer(request)
    st = app_state(request)
    with page_errors():
        allow(st, who, Permission.READ, None, "dashboard.audit")
        with st.store.session(read_only=True) as s:
            try:
                entries = audit.list_entries(s, action=action or None, subject=subject or None,
                                             limit=limit)
                problem = ""
            except InputError as exc:
                entries, problem = [], str(exc)
            result = audit.verify(s)
    return render(request, "audit.html", {
        "title": "Audit", "entries": entries, "verify": result, "action": action or "",
        "subject": subject or "", "problem": problem, "limit": limit,
    }, who=who)


def not_found_page(request: Request, message: str, status: int = 404) -> HTMLResponse:
    response = render(request, "error.html", {"title": "Not found" if status == 404 else
                                              "Error", "status": status, "message": message},
                      who=viewer(request), status=status)
    secure_headers(response)
    return response
