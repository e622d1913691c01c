"""`watchkeeper audit verify|list|export`: read and check the audit trail."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from watchkeeper import audit
from watchkeeper.cli.db import fail, open_existing, out
from watchkeeper.cli.options import DbOption
from watchkeeper.core.audit_events import AuditAction
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import WatchkeeperError


def _parse_since(text: str | None) -> int | datetime | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        raise fail(
            f"--since: cannot read {text!r}; expected a seq number or an ISO 8601 time "
            "such as 2026-11-26T09:00:00+00:00"
        ) from None


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("verify")
    def verify(
        db: str | None = DbOption,
        against: Path | None = typer.Option(
            None,
            "--against",
            help="An earlier `audit export`: also check its entries are still there unchanged.",
        ),
    ) -> None:
        """Check the hash chain; exit 1 naming the first altered, inserted or deleted entry."""
        with open_existing(db) as store, store.session(read_only=True) as s:
            if against is None:
                result = audit.verify(s)
            else:
                try:
                    with against.open(encoding="utf-8") as fh:
                        result = audit.verify_against_export(s, fh, source=str(against))
                except OSError as exc:
                    raise fail(f"--against: cannot read {against}: {exc.strerror}") from None
                except UnicodeDecodeError:
                    raise fail(f"--against: {against} is not UTF-8 text; expected the JSON "
                               "lines `watchkeeper audit export` writes") from None
                except WatchkeeperError as exc:
                    raise fail(str(exc)) from None
        if result.ok:
            out.print(str(result))
            if against is not None:
                out.print(result.reason)
            out.print(f"head hash {result.head_hash}")
            return
        out.print(
            f"[red]audit chain broken[/red] at entry {result.first_bad_seq}: "
            f"{result.reason} ({result.checked} entries intact before it)"
        )
        raise typer.Exit(1)

    @audit_app.command("list")
    def list_(
        db: str | None = DbOption,
        subject: str | None = typer.Option(None, help="Only this subject (exact)."),
        action: str | None = typer.Option(None, help="Only this action, e.g. incident.opened."),
        actor: str | None = typer.Option(None, help="Only this actor (exact)."),
        since: str | None = typer.Option(None, help="Only entries at or after this ISO time."),
        limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
        as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
    ) -> None:
        """Show the newest audit entries."""
        when = _parse_since(since)
        if isinstance(when, int):
            raise fail("--since: expected an ISO 8601 time for `audit list`")
        if action is not None and action not in {a.value for a in AuditAction}:
            known = ", ".join(a.value for a in AuditAction)
            raise fail(f"--action: unknown action {action!r}; expected one of {known}")
        with open_existing(db) as store, store.session(read_only=True) as s:
            try:
                entries = audit.list_entries(
                    s, subject=subject, action=action, actor=actor, since=when, limit=limit
                )
            except WatchkeeperError as exc:
                raise fail(str(exc)) from None
        if as_json:
            for e in entries:
                sys.stdout.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
            return
        table = Table(title=f"audit trail ({len(entries)} newest)")
        for column in ("seq", "at (UTC)", "actor", "action", "subject", "details"):
            table.add_column(column, overflow="fold")
        for e in entries:
            details = json.dumps(e.details, ensure_ascii=False, sort_keys=True)
            table.add_row(
                str(e.seq),
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                e.subject,
                details if len(details) <= 120 else details[:117] + "...",
            )
        out.print(table)

    @audit_app.command("export")
    def export(
        out_file: Path = typer.Option(..., "--out", "-o", help="JSON lines file ('-': stdout)."),
        db: str | None = DbOption,
        since: str | None = typer.Option(
            None, help="A seq (entries after it) or an ISO time (entries at or after it)."
        ),
    ) -> None:
        """Write the audit trail as JSON lines, one entry with its hashes per line."""
        when = _parse_since(since)
        with open_existing(db) as store, store.session(read_only=True) as s:
            if str(out_file) == "-":
                count = audit.export(s, sys.stdout, since=when)
                return
            # Written beside the target and renamed, so a failed export never leaves half a file.
            tmp = out_file.with_name(out_file.name + ".partial")
            try:
                with tmp.open("w", encoding="utf-8") as fh:
                    count = audit.export(s, fh, since=when)
                os.replace(tmp, out_file)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise fail(f"--out: cannot write {out_file}: {exc.strerror}") from None
        out.print(f"exported {count} entries to {out_file}")
