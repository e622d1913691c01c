"""`watchkeeper incident ...`, `watchkeeper silence ...` and `watchkeeper report`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.common import (
    ActorOption,
    actor_name,
    parse_duration_option,
    parse_time,
    session_for,
)
from watchkeeper.cli.options import DbOption
from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.core.enums import IncidentState, Tier
from watchkeeper.incidents import evidence, service
from watchkeeper.incidents.lifecycle import ACTIVE
from watchkeeper.incidents.timings import human_duration

console = Console()


def register(app: typer.Typer) -> None:
    incident = typer.Typer(help="Open, inspect and move incidents through their lifecycle.",
                           no_args_is_help=True)
    silence = typer.Typer(help="Mute matching incidents once or on a weekly schedule.",
                          no_args_is_help=True)
    app.add_typer(incident, name="incident")
    app.add_typer(silence, name="silence")

    @incident.command("open")
    def open_(
        model: str = typer.Argument(..., help="Model name from the policy."),
        title: str = typer.Option(..., "--title", help="What is wrong, in one line."),
        tier: str = typer.Option("T2", "--tier", help="T1, T2 or T3."),
        rationale: str = typer.Option("", "--rationale"),
        db: str | None = DbOption,
        actor: str | None = ActorOption,
    ) -> None:
        """Open an incident by hand (e.g. a customer complaint)."""
        try:
            parsed = Tier.parse(tier)
        except ValueError as exc:
            console.print(f"[red]error:[/red] --tier: {exc}")
            raise typer.Exit(1) from None
        with session_for(db) as s:
            row = service.open_incident(s, model=model, tier=parsed, title=title,
                                        actor=actor_name(actor), now=SYSTEM_CLOCK.now(),
                                        rationale=rationale)
            console.print(f"opened [bold]{row.id}[/bold] ({parsed}) for {model}")

    @incident.command("list")
    def list_(
        model: str | None = typer.Option(None, "--model"),
        state: list[str] = typer.Option([], "--state", help="Repeatable; default: active ones."),
        all_: bool = typer.Option(False, "--all", help="Every state."),
        as_json: bool = typer.Option(False, "--json"),
        db: str | None = DbOption,
    ) -> None:
        """List incidents, newest first."""
        with session_for(db) as s:
            states = None if all_ else ([IncidentState(x) for x in state] if state else ACTIVE)
            rows = service.list_incidents(s, model=model, states=states)
            if as_json:
                typer.echo(json.dumps([service.as_dict(r) for r in rows], indent=2))
                return
            table = Table("id", "model", "tier", "state", "opened", "title")
            for r in rows:
                table.add_row(r.id, r.model, str(Tier(r.tier)), r.state,
                              r.opened_at.strftime("%Y-%m-%d %H:%M"), r.title[:70])
            console.print(table if rows else "no incidents")

    @incident.command("show")
    def show(incident_id: str, db: str | None = DbOption) -> None:
        """An incident with its timings and timeline."""
        with session_for(db) as s:
            row = service.get(s, incident_id)
            t = service.times(row)
            console.print(f"[bold]{row.title}[/bold]\n{row.id} · {row.model} · "
                          f"{Tier(row.tier)} (max {Tier(row.max_tier)}) · {row.state}")
            console.print(f"MTTD {human_duration(t.ttd)} · MTTA {human_duration(t.tta)} · "
                          f"MTTR {human_duration(t.ttr)}")
            table = Table("at", "actor", "type", "text")
            for e in service.timeline(s, incident_id):
                table.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.type, e.text[:80])
            console.print(table)

    def _move(target: IncidentState, needs_reason: bool = False) -> Callable[..., None]:
        def command(
            incident_id: str,
            rationale: str = typer.Option("", "--rationale", "-m", help="Why (audited)."),
            reason: str | None = typer.Option(
                None, "--reason", help="For dismiss: false_positive or not_actionable."
            ) if needs_reason else None,
            db: str | None = DbOption,
            actor: str | None = ActorOption,
        ) -> None:
            with session_for(db) as s:
                row = service.transition(s, incident_id, target, actor=actor_name(actor),
                                         now=SYSTEM_CLOCK.now(), rationale=rationale,
                                         reason=reason)
                console.print(f"{row.id} is now {row.state}")

        command.__doc__ = f"Move an incident to {target.value}."
        return command

    incident.command("ack")(_move(IncidentState.ACKNOWLEDGED))
    incident.command("mitigate")(_move(IncidentState.MITIGATING))
    incident.command("resolve")(_move(IncidentState.RESOLVED))
    incident.command("reopen")(_move(IncidentState.OPEN))
    incident.command("dismiss")(_move(IncidentState.DISMISSED, needs_reason=True))
    incident.command("close")(_move(IncidentState.POSTMORTEM_DONE))

    @incident.command("comment")
    def comment(incident_id: str, text: str, db: str | None = DbOption,
                actor: str | None = ActorOption) -> None:
        """Add a comment to the incident's timeline."""
        with session_for(db) as s:
            service.comment(s, incident_id, actor=actor_name(actor), text=text,
                            now=SYSTEM_CLOCK.now())
            console.print("comment added")

    @incident.command("evidence")
    def evidence_(
        incident_id: str,
        out: Path | None = typer.Option(None, "--out", help="Write here (.html or .json)."),
        pii: list[str] = typer.Option([], "--pii", help="Extra field names to redact."),
        db: str | None = DbOption,
    ) -> None:
        """Export the incident's evidence bundle as JSON or one self-contained HTML page."""
        with session_for(db) as s:
            bundle = service.evidence_bundle(s, incident_id, pii_fields=pii)
        text = evidence.to_html(bundle) if out and out.suffix == ".html" else evidence.to_json(
            bundle)
        if out:
            out.write_text(text, encoding="utf-8")
            console.print(f"wrote {out}")
        else:
            typer.echo(text)

    @incident.command("postmortem")
    def postmortem_(
        incident_id: str,
        set_: list[str] = typer.Option([], "--set", help="section=text, e.g. summary=..."),
        action: str | None = typer.Option(None, "--action", help="Add an action item."),
        owner: str | None = typer.Option(None, "--owner"),
        due: str = typer.Option("7d", "--due", help="Due in, e.g. 7d."),
        done: int | None = typer.Option(None, "--done", help="Mark action item N done."),
        db: str | None = DbOption,
        actor: str | None = ActorOption,
    ) -> None:
        """Show or edit a post-mortem and its action items."""
        who, now = actor_name(actor), SYSTEM_CLOCK.now()
        with session_for(db) as s:
            fields: dict[str, Any] = {}
            for item in set_:
                key, sep, value = item.partition("=")
                if not sep:
                    console.print(f"[red]error:[/red] --set {item!r}: expected section=text")
                    raise typer.Exit(1)
                fields[key.strip()] = value
            if fields:
                service.edit_postmortem(s, incident_id, actor=who, now=now, fields=fields)
            if action:
                service.add_action_item(s, incident_id, text=action, owner=owner or who,
                                        due_at=now + parse_duration_option(due, "--due"), actor=who,
                                        now=now)
            if done is not None:
                service.complete_action_item(s, done, actor=who, now=now)
            pm = service.get_postmortem(s, incident_id)
            console.print(f"[bold]{pm.body['title']}[/bold] ({pm.status})")
            m = pm.body["metrics"]
            console.print(f"MTTD {m['mttd']} · MTTA {m['mtta']} · MTTR {m['mttr']}")
            for hint in pm.body["root_cause_hints"]:
                console.print(f"  hint: {hint}")
            for sec in ("summary", "root_cause", "lessons"):
                console.print(f"{sec}: {pm.body.get(sec) or '[dim](empty)[/dim]'}")
            for it in service.action_items(s, incident_id):
                mark = "x" if it.done_at else " "
                console.print(f"  [{mark}] #{it.id} {it.text} — {it.owner}, due "
                              f"{it.due_at:%Y-%m-%d}")

    @silence.command("add")
    def silence_add(
        matcher: list[str] = typer.Argument(..., help="e.g. model=credit-risk kind=drift"),
        reason: str = typer.Option(..., "--reason"),
        duration: str | None = typer.Option(None, "--for", help="e.g. 2h; default: no end."),
        starts: str | None = typer.Option(None, "--starts", help="ISO time; default now."),
        weekly: list[str] = typer.Option(
            [], "--weekly", help="Recurring window DAYS@HH:MM-HH:MM[@TZ], e.g. sun@02:00-04:00"),
        db: str | None = DbOption,
        actor: str | None = ActorOption,
    ) -> None:
        """Create a silence."""
        now = SYSTEM_CLOCK.now()
        start = parse_time(starts, "--starts") or now
        schedule = []
        for item in weekly:
            parts = item.split("@")
            if len(parts) not in (2, 3) or "-" not in parts[1]:
                console.print(f"[red]error:[/red] --weekly {item!r}: expected "
                              "DAYS@HH:MM-HH:MM[@TZ], e.g. sat,sun@02:00-04:00@Europe/Berlin")
                raise typer.Exit(1)
            begin, end = parts[1].split("-", 1)
            schedule.append({"days": parts[0].split(","), "start": begin, "end": end,
                             "timezone": parts[2] if len(parts) == 3 else "UTC"})
        ends = start + parse_duration_option(duration, "--for") if duration else None
        with session_for(db) as s:
            sil = service.create_silence(s, matchers=matcher, created_by=actor_name(actor),
                                         reason=reason, now=now, starts_at=start, ends_at=ends,
                                         schedule=schedule)
            console.print(f"silence [bold]{sil.id}[/bold] created")

    @silence.command("list")
    def silence_list(all_: bool = typer.Option(False, "--all", help="Include expired."),
                     db: str | None = DbOption) -> None:
        """List silences."""
        now = SYSTEM_CLOCK.now()
        with session_for(db) as s:
            table = Table("id", "matchers", "active now", "ends", "schedule", "by", "reason")
            for sil in service.list_silences(s, include_expired=all_):
                table.add_row(sil.id, " ".join(map(str, sil.matchers)),
                              "yes" if sil.active(now) else "no",
                              f"{sil.ends_at:%Y-%m-%d %H:%M}" if sil.ends_at else "—",
                              "; ".join(f"{w.weekdays} {w.start:%H:%M}-{w.end:%H:%M} {w.timezone}"
                                        for w in sil.schedule) or "—",
                              sil.created_by, sil.reason)
            console.print(table)

    @silence.command("expire")
    def silence_expire(silence_id: str, db: str | None = DbOption,
                       actor: str | None = ActorOption) -> None:
        """End a silence now."""
        with session_for(db) as s:
            service.expire_silence(s, silence_id, actor=actor_name(actor), now=SYSTEM_CLOCK.now())
            console.print(f"silence {silence_id} expired")

    @app.command("report")
    def report(
        since: str | None = typer.Option(None, "--since", help="ISO date; default 30 days ago."),
        until: str | None = typer.Option(None, "--until"),
        model: str | None = typer.Option(None, "--model"),
        as_json: bool = typer.Option(False, "--json"),
        db: str | None = DbOption,
    ) -> None:
        """MTTD, MTTA and MTTR per model and tier over a period."""
        start = parse_time(since, "--since") or SYSTEM_CLOCK.now() - timedelta(days=30)
        with session_for(db) as s:
            rows = service.timing_report(s, since=start, until=parse_time(until, "--until"),
                                         model=model)
        if as_json:
            typer.echo(json.dumps([asdict(r) for r in rows]))
            return
        table = Table("model", "tier", "incidents", "open", "MTTD", "MTTA", "MTTR")
        for r in rows:
            table.add_row(r.model, r.tier, str(r.incidents), str(r.open),
                          human_duration(r.mttd_s), human_duration(r.mtta_s),
                          human_duration(r.mttr_s))
        console.print(table if rows else f"no incidents since {start:%Y-%m-%d}")
