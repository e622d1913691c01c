"""`watchkeeper backtest` and `watchkeeper calibrate` end to end on exported sim signals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchkeeper.cli.app import app
from watchkeeper.evaluation.replay import replay
from watchkeeper.scoring.io import write_signals
from watchkeeper.scoring.service import ScoringService
from watchkeeper.sim import scenarios as S
from watchkeeper.store import Store

runner = CliRunner()


def flat(text: str) -> str:
    """Rich wraps long error lines; compare words, not line breaks."""
    return " ".join(text.split())
RUNS = [("covariate_shift", 0), ("latency_spike", 1), ("null_flood", 2), ("control_noise", 3)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bt")
    windows, lines = [], ["model,start,end,severity,verdict"]
    for name, seed in RUNS:
        run = S.with_spec(S.get(name), events_per_window=150).run(seed)
        rows = [(key, signals) for key, signals, _ in replay(run)]
        windows += rows
        if run.truth.is_incident:
            lines.append(f"{run.model},{rows[run.truth.start][0].start.isoformat()},"
                         f"{rows[run.truth.end - 1][0].end.isoformat()},high,confirmed")
    # A responder dismissed an alarm on the control model: feedback for calibration.
    ctl = [k for k, _ in windows if k.model.startswith("control")]
    lines.append(f"{ctl[50].model},{ctl[50].start.isoformat()},{ctl[52].end.isoformat()},"
                 "low,false_positive")
    signals, incidents = root / "signals.jsonl", root / "incidents.csv"
    write_signals(windows, signals)
    incidents.write_text("\n".join(lines) + "\n")
    return signals, incidents


def test_backtest_reports_metrics_and_writes_a_self_contained_html(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    signals, incidents = files
    html = tmp_path / "bt.html"
    result = runner.invoke(app, ["backtest", "--signals", str(signals), "--incidents",
                                 str(incidents), "--html", str(html), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["incidents"] == 3 and metrics["recall"] == 1.0
    assert metrics["delay_median"] is not None and metrics["nab_score"] > 50
    page = html.read_text()
    assert "covariate_shift-0" in page and "Plotly.newPlot" in page
    assert '<script src="http' not in page and len(page) > 1_000_000  # plotly.js inlined


def test_calibrate_writes_a_versioned_config_and_activates_it_in_the_db(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    signals, incidents = files
    out, db = tmp_path / "cfg.json", f"sqlite:///{tmp_path / 'wk.db'}"
    result = runner.invoke(app, ["calibrate", "--signals", str(signals), "--incidents",
                                 str(incidents), "--out", str(out), "--db", db,
                                 "--actor", "carol"])
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert body["version"].startswith("calibrated-")
    assert "precision" in result.stdout and body["version"] in result.stdout
    with Store.open(db) as store:
        assert ScoringService(store).active_config().version == body["version"]
    again = runner.invoke(app, ["backtest", "--signals", str(signals), "--incidents",
                                str(incidents), "--config", str(out), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["config_version"] == body["version"]


@pytest.mark.parametrize("content, message", [
    ('{"model": "m", "window_start": "2026-01-01T00:00:00Z", "window_end": '
     '"2026-01-01T01:00:00Z", "kind": "data_drift", "method": "psi", "severity": 0.5}\n'
     '{not json\n', "row 2"),
    ('{"model": "m", "window_start": "2026-01-01T00:00:00Z", "window_end": '
     '"2026-01-01T01:00:00Z", "kind": "drfit", "severity": 0.5}\n', "data_drift"),
    ('{"model": "m", "window_start": "yesterday", "window_end": '
     '"2026-01-01T01:00:00Z", "kind": "latency", "severity": 0.5}\n', "ISO 8601"),
    ('{"model": "m", "window_start": "2026-01-01T00:00:00Z", "window_end": '
     '"2026-01-01T01:00:00Z", "kind": "latency", "severity": 7}\n', "[0, 1]"),
    ("", "no signals"),
    ('{"model": "' + "m" * 5000 + '", "window_start": "2026-01-01T00:00:00Z", "window_end": '
     '"2026-01-01T01:00:00Z", "kind": "latency", "severity": 0.5}\n', "1 to 200 characters"),
    ('{"model": "m", "window_start": "2026-01-01T00:00:00Z", "window_end": '
     '"2026-01-01T01:00:00Z", "kind": "latency", "severity": NaN}\n', "a finite number"),
])
def test_bad_signal_files_name_the_row_field_and_expectation(
        tmp_path: Path, files: tuple[Path, Path], content: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    result = runner.invoke(app, ["backtest", "--signals", str(bad), "--incidents",
                                 str(files[1])])
    text = flat(result.output)
    assert result.exit_code == 2
    assert message in text and "bad.jsonl" in text


@pytest.mark.parametrize("content, message", [
    ("model,start\nm,2026-01-01T00:00:00Z\n", "missing column"),
    ("model,start,end\nm,2026-01-02T00:00:00Z,2026-01-01T00:00:00Z\n", "end after start"),
    ("model,start,end,verdict\nm,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,meh\n",
     "not_actionable"),
])
def test_bad_incident_files_are_refused_clearly(
        tmp_path: Path, files: tuple[Path, Path], content: str, message: str) -> None:
    bad = tmp_path / "inc.csv"
    bad.write_text(content)
    result = runner.invoke(app, ["backtest", "--signals", str(files[0]), "--incidents",
                                 str(bad)])
    assert result.exit_code == 2 and message in flat(result.output)


def test_backtest_needs_signals_and_incidents() -> None:
    result = runner.invoke(app, ["backtest"])
    assert result.exit_code == 2 and "--signals FILE or --db URL" in flat(result.output)
