"""A self-contained HTML page for a backtest: the metrics, and per model the score over time
with the verified incidents shaded, the T2 threshold and the alerts marked (plotly, with
plotly.js inlined so the file opens anywhere without a network)."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence

from watchkeeper.scoring.backtest import Incident, Report, WindowOutcome

MAX_MODELS = 12  # the page shows the models with the most incidents and alerts first


def render(
    report: Report, outcomes: Sequence[WindowOutcome], incidents: Sequence[Incident], *,
    t2: float, title: str = "watchkeeper backtest", config_version: str = "",
) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    by_model: dict[str, list[WindowOutcome]] = defaultdict(list)
    for o in outcomes:
        by_model[o.model].append(o)
    busy = defaultdict(int)
    for inc in incidents:
        busy[inc.model] += 2
    for a in report.alert_list:
        busy[a.model] += 1
    models = sorted(by_model, key=lambda m: (-busy[m], m))[:MAX_MODELS]
    fig = make_subplots(rows=max(1, len(models)), cols=1, shared_xaxes=False,
                        subplot_titles=models or ["no windows"], vertical_spacing=0.04)
    for i, model in enumerate(models, start=1):
        series = sorted(by_model[model], key=lambda o: o.start)
        fig.add_trace(go.Scatter(
            x=[o.end for o in series], y=[o.value for o in series], mode="lines",
            name=model, line={"width": 1.5}, showlegend=False,
            hovertext=[f"tier T{o.tier}; top: {o.top_kind or '-'} {o.top_feature or ''}"
                       for o in series]), row=i, col=1)
        fig.add_hline(y=t2, line={"dash": "dot", "color": "orange"}, row=i, col=1)
        for inc in incidents:
            if inc.model == model:
                color = "rgba(220,50,50,0.15)" if inc.confirmed else "rgba(120,120,120,0.15)"
                fig.add_vrect(x0=inc.start, x1=inc.end, fillcolor=color, line_width=0,
                              row=i, col=1)
        alerts = [a for a in report.alert_list if a.model == model]
        if alerts:
            fig.add_trace(go.Scatter(
                x=[a.raised_at for a in alerts], y=[100] * len(alerts), mode="markers",
                marker={"symbol": "triangle-down", "size": 10,
                        "color": ["green" if a.incident else "red" for a in alerts]},
                showlegend=False, hovertext=["true alert" if a.incident else "false alarm"
                                             for a in alerts]), row=i, col=1)
        fig.update_yaxes(range=[0, 105], row=i, col=1)
    fig.update_layout(height=220 * max(1, len(models)) + 80, margin={"t": 40, "b": 20},
                      template="plotly_white")
    rows = "".join(
        f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{_fmt(v)}</td></tr>"
        for k, v in report.as_dict().items())
    plot = fig.to_html(include_plotlyjs=True, full_html=False)
    shown = f"{len(models)} of {len(by_model)} models" if by_model else "no models"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em}"
        "table{border-collapse:collapse}th,td{padding:2px 10px;text-align:left}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        f"<p>Scoring config <code>{html.escape(config_version)}</code>; alerts are windows at"
        f" T2 or above (threshold {t2:g}). Red bands: confirmed incidents; grey: dismissed."
        f" Markers: green = true alert, red = false alarm. Showing {shown}.</p>"
        f"<table>{rows}</table>{plot}</body></html>"
    )


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))
