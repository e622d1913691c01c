"""Options shared by several commands, defined once."""

from __future__ import annotations

import os

import typer

from watchkeeper.core.settings import DEFAULT_DB_URL

DEFAULT_POLICY = "watchkeeper.yaml"

DbOption = typer.Option(
    None, "--db", help="Database URL (default: $WATCHKEEPER_DB or sqlite:///./watchkeeper.db)."
)
PolicyOption = typer.Option(
    None, "--policy", "-p", help="Policy file (default: $WATCHKEEPER_POLICY or ./watchkeeper.yaml)."
)


def resolve_db_url(db: str | None) -> str:
    return db or os.environ.get("WATCHKEEPER_DB") or DEFAULT_DB_URL


def resolve_policy_path(policy: str | None) -> str:
    return policy or os.environ.get("WATCHKEEPER_POLICY") or DEFAULT_POLICY
