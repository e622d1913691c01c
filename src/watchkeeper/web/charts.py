"""Plotly figures as plain dicts (`{"data": [...], "layout": {...}}`): the page embeds them as
JSON and plotly.js draws them. Building dicts rather than `plotly.graph_objects` keeps a page
render free of plotly's Python validation, which costs more than the whole query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from watchkeeper.web.queries import Grid, WeekTimes

TIER_COLOURS = {0: "#2e7d32", 1: "#f9a825", 2: "#ef6c00", 3: "#c62828"}
Figure = dict[str, Any]


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {"height": height, "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, sans-serif", "size": 12}, **extra}


def _iso(values: Sequence[datetime]) -> list[str]:
    return [v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in values]


def fleet_heatmap(grid: Grid) -> Figure:
    height = max(160, min(1400, 40 + 14 * len(grid.rows)))
    return {
        "data": [{"type": "heatmap", "z": grid.values, "x": _iso(grid.columns), "y": grid.rows,
                  "zmin": 0, "zmax": 100, "hoverongaps": False,
                  "colorscale": [[0, "#e8f5e9"], [0.3, "#fff59d"], [0.6, "#ffb74d"],
                                 [0.85, "#e53935"], [1, "#7f0000"]],
                  "colorbar": {"title": {"text": "score"}, "thickness": 12},
                  "hovertemplate": "%{y}<br>%{x}<br>worst score %{z}<extra></extra>"}],
        "layout": _layout(height, yaxis={"automargin": True, "autorange": "reversed"},
                          xaxis={"type": "date"}),
    }


def open_by_tier(counts: dict[int, int]) -> Figure:
    tiers = [1, 2, 3]
    return {
        "data": [{"type": "bar", "x": [f"T{t}" for t in tiers],
                  "y": [counts.get(t, 0) for t in tiers],
                  "marker": {"color": [TIER_COLOURS[t] for t in tiers]},
                  "hovertemplate": "%{x}: %{y} open<extra></extra>"}],
        "layout": _layout(220, yaxis={"title": {"text": "open incidents"}, "rangemode": "tozero",
                                      "dtick": 1}),
    }


def timing_trend(weeks: list[WeekTimes]) -> Figure:
    x = _iso([w.week for w in weeks])

    def minutes(values: list[float | None]) -> list[float | None]:
        return [None if v is None else round(v / 60, 1) for v in values]

    return {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "name": "MTTD (min)", "x": x,
             "y": minutes([w.mttd_s for w in weeks]), "connectgaps": True},
            {"type": "scatter", "mode": "lines+markers", "name": "MTTR (min)", "x": x,
             "y": minutes([w.mttr_s for w in weeks]), "connectgaps": True},
        ],
        "layout": _layout(220, yaxis={"title": {"text": "minutes"}, "rangemode": "tozero"},
                          legend={"orientation": "h", "y": 1.15}),
    }


def score_timeline(series: list[tuple[datetime, float, int]], bands: tuple[float, float, float],
                   markers: list[tuple[str, str, int, datetime]], since: datetime,
                   until: datetime) -> Figure:
    x0, x1 = _iso([max(since, series[0][0]) if series else since, until])
    edges = [0.0, *bands, 100.0]
    shapes = [{"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "y0": edges[i],
               "y1": edges[i + 1], "fillcolor": TIER_COLOURS[i], "opacity": 0.08,
               "line": {"width": 0}, "layer": "below"} for i in range(4)]
    shapes += [{"type": "line", "x0": t, "x1": t, "yref": "paper", "y0": 0, "y1": 1,
                "line": {"color": TIER_COLOURS[k], "width": 1, "dash": "dot"}}
               for t, k in zip(_iso([m[3] for m in markers]), [m[2] for m in markers],
                               strict=True)]
    data: list[dict[str, Any]] = [{
        "type": "scatter", "mode": "lines", "name": "score", "x": _iso([s[0] for s in series]),
        "y": [round(s[1], 1) for s in series], "line": {"color": "#37474f", "width": 1.5},
        "customdata": [f"T{s[2]}" for s in series],
        "hovertemplate": "%{x}<br>score %{y} (%{customdata})<extra></extra>"}]
    if markers:
        data.append({"type": "scatter", "mode": "markers", "name": "incidents",
                     "x": _iso([m[3] for m in markers]), "y": [98] * len(markers),
                     "text": [m[1] for m in markers],
                     "marker": {"symbol": "triangle-down", "size": 11,
                                "color": [TIER_COLOURS[m[2]] for m in markers]},
                     "hovertemplate": "%{text}<extra>incident</extra>"})
    return {"data": data, "layout": _layout(
        260, shapes=shapes, showlegend=False, xaxis={"type": "date", "range": [x0, x1]},
        yaxis={"range": [0, 100], "title": {"text": "score"}})}


def contributors(items: list[dict[str, Any]]) -> Figure:
    labels = [f"{c.get('kind')}" + (f" · {c['feature']}" if c.get("feature") else "")
              + (f" ({c['method']})" if c.get("method") else "") for c in items]
    return {
        "data": [{"type": "bar", "orientation": "h", "y": labels[::-1],
                  "x": [round(100 * float(c.get("share", 0.0)), 1) for c in items][::-1],
                  "marker": {"color": "#5c6bc0"},
                  "hovertemplate": "%{y}: %{x}% of the score<extra></extra>"}],
        "layout": _layout(max(140, 40 + 28 * len(items)), margin={"l": 220, "r": 20, "t": 10,
                                                                  "b": 40},
                          xaxis={"title": {"text": "share of score (%)"}, "range": [0, 100]}),
    }


def drift_heatmap(grid: Grid) -> Figure:
    return {
        "data": [{"type": "heatmap", "z": grid.values, "x": _iso(grid.columns), "y": grid.rows,
                  "colorscale": [[0, "#fff7ec"], [0.4, "#fdbb84"], [0.7, "#ef6548"],
                                 [1, "#7f0000"]], "zmin": 0, "hoverongaps": False,
                  "colorbar": {"title": {"text": "effect"}, "thickness": 12},
                  "hovertemplate": "%{y}<br>%{x}<br>effect size %{z:.3f}<extra></extra>"}],
        "layout": _layout(max(160, 50 + 22 * len(grid.rows)),
                          yaxis={"automargin": True}, xaxis={"type": "date"}),
    }


def lines(series: dict[str, list[tuple[datetime, float]]], y_title: str) -> Figure:
    data = [{"type": "scatter", "mode": "lines+markers", "name": name,
             "x": _iso([p[0] for p in points]), "y": [round(p[1], 4) for p in points],
             "marker": {"size": 4}} for name, points in sorted(series.items())]
    return {"data": data, "layout": _layout(240, xaxis={"type": "date"},
                                            yaxis={"title": {"text": y_title}},
                                            legend={"orientation": "h", "y": 1.2})}


def numeric_distributions(reference: Any, current: Any, bins: int = 30) -> Figure:
    """Reference vs current histograms of a numeric feature from the profiles' KLL sketches
    (densities on shared edges, so two windows of different sizes compare)."""
    lo = min(reference.min, current.min)
    hi = max(reference.max, current.max)
    if not np.isfinite([lo, hi]).all() or hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    centres = ((edges[:-1] + edges[1:]) / 2).round(6).tolist()
    data = []
    for name, prof, colour in (("reference", reference, "#90a4ae"),
                               ("current", current, "#e65100")):
        counts = np.asarray(prof.histogram(edges), dtype=float)
        total = counts.sum() or 1.0
        data.append({"type": "bar", "name": name, "x": centres,
                     "y": (counts / total).round(5).tolist(), "opacity": 0.6,
                     "marker": {"color": colour}})
    return {"data": data, "layout": _layout(240, barmode="overlay",
                                            yaxis={"title": {"text": "share"}},
                                            legend={"orientation": "h", "y": 1.15})}


def categorical_distributions(reference: dict[str, float], current: dict[str, float],
                              top: int = 20) -> Figure:
    keys = sorted(set(reference) | set(current),
                  key=lambda k: -(reference.get(k, 0) + current.get(k, 0)))[:top]
    data = [{"type": "bar", "name": name, "x": keys, "y": [round(d.get(k, 0.0), 5) for k in keys],
             "marker": {"color": colour}}
            for name, d, colour in (("reference", reference, "#90a4ae"),
                                    ("current", current, "#e65100"))]
    return {"data": data, "layout": _layout(240, barmode="group",
                                            yaxis={"title": {"text": "share"}},
                                            legend={"orientation": "h", "y": 1.15})}
