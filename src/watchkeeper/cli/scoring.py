"""`watchkeeper backtest` and `watchkeeper calibrate`: replay signals against verified
incidents, and fit a new versioned scoring configuration from incident history."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.common import ActorOption, actor_name, console, parse_time
from watchkeeper.cli.options import DbOption
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError, WatchkeeperError

out = Console(highlight=False, soft_wrap=True)

SignalsOption = typer.Option(None, "--signals", help="JSON Lines of signals (model, "
                             "window_start, window_end, kind, method, severity, ...).")
IncidentsOption = typer.Option(None, "--incidents", help="Verified incidents, CSV or JSON: "
                               "model, start, end[, severity, verdict].")
ConfigOption = typer.Option(None, "--config", help="Scoring config JSON (default: the active "
                            "one in --db, else the built-in default).")
SinceOption = typer.Option(None, "--since", help="Only judge windows from this time on "
                           "(earlier ones warm up persistence and seasonal baselines).")


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2 if isinstance(exc, InputError) else 1)


def _inputs(signals: Path | None, incidents: Path | None, db: str | None,
            config: Path | None) -> tuple[list, list, Any, Any]:
    """(windows, incidents, config, store or None) from files and/or the database."""
    from watchkeeper.scoring.config import ScoringConfig
    from watchkeeper.scoring.io import read_incidents, read_signals
    from watchkeeper.scoring.service import (
        ScoringService,
        stored_incidents,
        stored_signal_windows,
    )
    from watchkeeper.store import Store

    if signals is None and db is None:
        raise InputError("say where the signals are", field="--signals",
                         expected="--signals FILE or --db URL")
    if incidents is None and db is None:
        raise InputError("say where the verified incidents are", field="--incidents",
                         expected="--incidents FILE (or --db URL to use responders' verdicts)")
    store = Store.open(db) if db else None
    windows = read_signals(signals) if signals else stored_signal_windows(store)
    if not windows:
        raise InputError("no stored signals in the database", field="--db",
                         expected="a database the signals stage has written to")
    incs = read_incidents(incidents) if incidents else stored_incidents(store)
    if config is not None:
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", file=str(config),
                             expected="a scoring config JSON file") from None
        cfg = ScoringConfig.from_dict(data, source=str(config))
    elif store is not None:
        cfg = ScoringService(store).active_config()
    else:
        cfg = ScoringConfig()
    return windows, incs, cfg, store


def _metrics_table(title: str, reports: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    for name in reports:
        table.add_column(name, justify="right")
    keys = next(iter(reports.values())).as_dict().keys()
    for key in keys:
        values = [r.as_dict()[key] for r in reports.values()]
        table.add_row(key.replace("_", " "), *(
            "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
            for v in values))
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        signals: Path | None = SignalsOption,
        incidents: Path | None = IncidentsOption,
        db: str | None = DbOption,
        config: Path | None = ConfigOption,
        html: Path | None = typer.Option(None, "--html", help="Write an HTML report here."),
        min_tier: str = typer.Option("T2", "--min-tier", help="Tier that counts as an alert."),
        since: str | None = SinceOption,
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    ) -> None:
        """Replay signals against verified incidents: precision, recall, F1, detection delay,
        false alarms per week and a NAB-style timeliness score."""
        from watchkeeper.scoring.backtest import evaluate
        from watchkeeper.scoring.scorer import rescore
        from watchkeeper.scoring.tiers import threshold

        try:
            tier = Tier.parse(min_tier)
            windows, incs, cfg, store = _inputs(signals, incidents, db, config)
            start = parse_time(since, "--since")
            outcomes = rescore(windows, cfg, since=start)
            report = evaluate(outcomes, incs, min_tier=int(tier))
            if store is not None:
                store.close()
        except (WatchkeeperError, ValueError) as exc:
            raise _fail(exc) from None
        if as_json:
            out.print_json(json.dumps({**report.as_dict(), "config_version": cfg.version}))
        else:
            out.print(_metrics_table(f"backtest, alerts at {tier}+, config {cfg.version}",
                                     {"value": report}))
        if html is not None:
            from watchkeeper.evaluation.backtest_report import render

            html.write_text(render(report, outcomes, incs, t2=threshold(tier, cfg.bands),
                                   config_version=cfg.version), encoding="utf-8")
            console.print(f"wrote {html}")

    @app.command()
    def calibrate(
        signals: Path | None = SignalsOption,
        incidents: Path | None = IncidentsOption,
        db: str | None = DbOption,
        config: Path | None = ConfigOption,
        target_precision: float = typer.Option(0.95, "--target-precision",
                                               help="Alert precision the T2 band must reach."),
        since: str | None = SinceOption,
        out_file: Path | None = typer.Option(None, "--out", help="Write the new config JSON."),
        label: str = typer.Option("calibrated", "--label", help="Name part of the version."),
        actor: str | None = ActorOption,
    ) -> None:
        """Fit noise floors, weights and tier bands from incident history (dismissed incidents
        count as labelled negatives) and write a new versioned scoring config; with --db it
        becomes the active one (audited). Prints old vs new metrics on the history."""
        from watchkeeper.scoring.calibration import fit, label_windows
        from watchkeeper.scoring.service import ScoringService

        try:
            windows, incs, cfg, store = _inputs(signals, incidents, db, config)
            start: datetime | None = parse_time(since, "--since")
            history = label_windows(windows, incs, cfg, since=start)
            result = fit(history, incs, cfg, target_precision=target_precision, label=label)
            new = result.config
            metrics = {"before": result.before.as_dict(), "after": result.after.as_dict(),
                       "previous_version": cfg.version, "windows": result.windows,
                       "incident_windows": result.positives,
                       "feedback_windows": result.feedback_negatives}
            if out_file is not None:
                out_file.write_text(json.dumps(new.to_dict(), indent=2), encoding="utf-8")
            if store is not None:
                ScoringService(store).save_config(
                    new, actor=actor_name(actor), metrics=metrics,
                    comment=f"calibrated on {result.windows} windows, target precision "
                            f"{target_precision}")
                store.close()
        except (WatchkeeperError, ValueError) as exc:
            raise _fail(exc) from None
        out.print(_metrics_table(
            f"on the history ({result.windows} windows, {result.positives} in incidents, "
            f"{result.feedback_negatives} dismissed by responders)",
            {cfg.version: result.before, new.version: result.after}))
        out.print(f"bands T1/T2/T3: {cfg.bands.as_tuple()} -> {new.bands.as_tuple()}")
        out.print("weights: " + ", ".join(f"{k.value} {v:g}" for k, v in new.weights.items()))
        out.print("floors:  " + ", ".join(f"{k.value} {v:.2f}" for k, v in new.floors.items()))
        for note in result.notes:
            out.print(f"note: {note}")
        out.print("metrics are measured on the same history the fit used; judge a new config "
                  "on other data with `watchkeeper backtest --config`.")
        if out_file is not None:
            out.print(f"wrote {out_file} (version {new.version})")
        if db is not None:
            out.print(f"saved and activated scoring config {new.version}")
