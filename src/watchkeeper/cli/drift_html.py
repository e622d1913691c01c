"""The HTML drift report: one self-contained offline file.

Plots are small inline SVG bar charts drawn here from binned histograms (40 bins or the top 15
categories), not plotly: inlining plotly.js would add about 4 MB to every report, and a
reference-vs-current histogram needs a few hundred bytes of SVG. Nothing leaves the machine and
nothing of the raw data is embedded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files

from jinja2 import Environment, select_autoescape

from watchkeeper.cli.drift import Histogram
from watchkeeper.detectors.drift import DriftReport
from watchkeeper.detectors.drift.base import CATEGORICAL_TYPES

WIDTH, HEIGHT, PAD, AXIS = 420, 120, 4, 14


def svg_histogram(h: Histogram, categorical: bool = False) -> str:
    """Reference as grey bars, current as a blue outline on the same scale; category names (or
    the numeric range's ends) under the axis."""
    n = len(h.reference)
    top = max([*h.reference, *h.current, 1e-12])
    bar = (WIDTH - 2 * PAD) / max(n, 1)

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top

    total = HEIGHT + AXIS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {total}" '
        f'width="{WIDTH}" height="{total}" role="img" font-size="10" fill="#555">'
    ]
    if categorical:
        for i, label in enumerate(h.labels):
            short = label if len(label) <= 10 else label[:9] + "…"
            parts.append(
                f'<text x="{PAD + (i + 0.5) * bar:.1f}" y="{total - 2}" '
                f'text-anchor="middle">{_esc(short)}</text>'
            )
    elif h.labels:
        parts.append(f'<text x="{PAD}" y="{total - 2}">{_esc(h.labels[0])}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{total - 2}" text-anchor="end">{_esc(h.labels[-1])}</text>'
        )
    for i, r in enumerate(h.reference):
        x = PAD + i * bar
        label = h.labels[i] if categorical else f"{h.labels[i]} to {h.labels[i + 1]}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y(r):.1f}" width="{max(bar - 1, 0.5):.1f}" '
            f'height="{HEIGHT - PAD - y(r):.1f}" fill="#bbb">'
            f"<title>{_esc(label)}: ref {r:.3%}, cur {h.current[i]:.3%}</title></rect>"
        )
    points = []
    for i, c in enumerate(h.current):
        x0, x1 = PAD + i * bar, PAD + (i + 1) * bar
        points += [f"{x0:.1f},{y(c):.1f}", f"{x1:.1f},{y(c):.1f}"]
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def render_html(
    report: DriftReport,
    histograms: dict[str, Histogram | None],
    reference_name: str,
    current_name: str,
) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["num"] = lambda v: (
        "-" if v is None else (f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}")
    )
    template = env.from_string(
        files("watchkeeper.cli").joinpath("templates/drift_report.html.j2").read_text("utf-8")
    )
    rows = []
    for f in report.features:
        h = histograms.get(f.measurement.feature)
        categorical = f.measurement.feature_type in CATEGORICAL_TYPES
        rows.append({"f": f, "m": f.measurement, "svg": svg_histogram(h, categorical) if h else ""})
    rows.sort(key=lambda r: (not r["f"].drifted, -r["m"].effect_size))
    return template.render(
        report=report,
        rows=rows,
        reference=reference_name,
        current=current_name,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
