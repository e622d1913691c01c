"""Helpers shared by commands: the store session, the actor, times and durations."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from watchkeeper.cli.options import resolve_db_url
from watchkeeper.core.clock import ensure_utc
from watchkeeper.core.errors import WatchkeeperError
from watchkeeper.store import Store

console = Console(stderr=True)
ActorOption = typer.Option(None, "--actor", help="Who does this (default: $WATCHKEEPER_ACTOR or "
                           "the login name); recorded in the audit trail.")


def actor_name(actor: str | None) -> str:
    return actor or os.environ.get("WATCHKEEPER_ACTOR") or getpass.getuser()


@contextmanager
def session_for(db: str | None) -> Iterator[Session]:
    """Open the store, run the block in one transaction, and turn errors into exit code 1."""
    try:
        with Store.open(resolve_db_url(db)) as store, store.session() as s:
            yield s
    except WatchkeeperError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def parse_time(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        console.print(f"[red]error:[/red] {field}: cannot read {text!r}; expected ISO 8601, "
                      "e.g. 2026-11-26T09:00:00+00:00")
        raise typer.Exit(1) from None


def parse_duration_option(text: str, field: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        return timedelta(seconds=float(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError, IndexError):
        console.print(f"[red]error:[/red] {field}: cannot read {text!r}; expected e.g. 30m, 2h, 7d")
        raise typer.Exit(1) from None


