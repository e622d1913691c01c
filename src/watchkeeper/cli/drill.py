"""`watchkeeper drill SCENARIO`: a tabletop exercise of the policy's people and channels."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.options import PolicyOption, resolve_policy_path
from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.core.enums import Tier
from watchkeeper.core.errors import InputError, PolicyError
from watchkeeper.policy import load_policy, parse_duration


def register(app: typer.Typer) -> None:
    @app.command()
    def drill(
        scenario: str = typer.Argument(..., help="e.g. covariate_shift, null_flood, "
                                                 "latency_spike, concept_drift"),
        model: str | None = typer.Option(None, "--model", help="Default: the first model."),
        tier: str | None = typer.Option(None, "--tier", help="T1..T3 (default: the "
                                        "scenario's usual tier)."),
        ack_after: str | None = typer.Option(None, "--ack-after",
                                             help="Acknowledge after this long, e.g. 20m."),
        absent: list[str] = typer.Option([], "--absent", help="A person who is away "
                                         "(repeatable)."),
        max_ack: str | None = typer.Option(None, "--max-ack",
                                           help="Target: longest acceptable ack deadline."),
        start: str | None = typer.Option(None, "--start", help="ISO instant the incident "
                                         "opens (default: now)."),
        horizon: str = typer.Option("4h", "--horizon", help="How long to follow it."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        policy: str | None = PolicyOption,
    ) -> None:
        """Walk a simulated incident through escalation on a simulated clock: who is paged
        when, and the gaps (nobody on call, unreachable channels, slow deadlines, no approver,
        no deputy). Exit code 2 when there are gaps."""
        from watchkeeper.evaluation.drill import run_drill

        console = Console()
        try:
            loaded = load_policy(resolve_policy_path(policy))
            report = run_drill(
                loaded, scenario, model=model,
                tier=Tier[tier.upper()] if tier else None,
                start=datetime.fromisoformat(start) if start else SYSTEM_CLOCK.now(),
                ack_after=_duration(ack_after, "--ack-after"), absent=absent,
                max_ack=_duration(max_ack, "--max-ack"),
                horizon=_duration(horizon, "--horizon") or parse_duration("4h"))
        except (InputError, PolicyError, KeyError, ValueError) as exc:
            Console(stderr=True).print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            _print(console, report)
        if report.gaps:
            raise typer.Exit(2)


def _duration(text: str | None, option: str) -> object:
    if not text:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InputError(str(exc), field=option, expected="e.g. 20m, 1h") from None


def _collapsed(steps: list) -> list[tuple[object, int]]:
    """Runs of reminders at one tier print as one row (a T3 reminder every 5 m is many)."""
    out: list[tuple[object, int]] = []
    for s in steps:
        if (out and s.event == "remind" and out[-1][0].event == "remind"
                and out[-1][0].tier == s.tier):
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((s, 1))
    return out


def repeats_end(first: object, report: object) -> datetime:
    return max(s.at for s in report.steps if s.event == "remind" and s.tier == first.tier)


def _print(console: Console, report: object) -> None:
    r = report  # DrillReport
    console.print(f"[bold]Drill[/bold] {r.scenario} on {r.model}: {r.tier.name} incident opens "
                  f"{r.started:%Y-%m-%d %H:%M} UTC"
                  + (f"; absent: {', '.join(r.absent)}" if r.absent else "")
                  + (f"; acknowledged after {r.ack_after}" if r.ack_after else
                     "; nobody acknowledges"))
    table = Table(show_lines=False)
    for col in ("time", "event", "tier", "who", "channels", "ack by", "queued"):
        table.add_column(col)
    for s, repeats in _collapsed(r.steps):
        who = "; ".join(f"{k[0].upper()}: {', '.join(v)}" for k, v in s.people.items())
        if s.reasons:
            who += "\n[dim]" + "; ".join(s.reasons) + "[/dim]"
        event = s.event if repeats == 1 else f"remind x{repeats} (until {repeats_end(s, r):%H:%M})"
        table.add_row(f"+{int(s.offset.total_seconds() // 60)}m {s.at:%H:%M}", event,
                      s.tier.name, who or "[red]nobody[/red]", ", ".join(s.channels),
                      f"{s.ack_deadline:%H:%M}" if s.ack_deadline else "", str(s.queued))
    console.print(table)
    if not r.gaps:
        console.print("[green]No gaps found.[/green]")
        return
    console.print(f"[bold red]{len(r.gaps)} gap(s):[/bold red]")
    for g in r.gaps:
        console.print(f"  [red]{g.kind}[/red] {g.where}: {g.detail}")
