"""`watchkeeper token create|list|revoke`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.common import ActorOption, actor_name, session_for
from watchkeeper.cli.options import DbOption
from watchkeeper.core.clock import SYSTEM_CLOCK
from watchkeeper.core.enums import Role
from watchkeeper.engine import access

console = Console()


def register(app: typer.Typer) -> None:
    token = typer.Typer(help="API tokens for the REST API and the dashboard.",
                        no_args_is_help=True)
    app.add_typer(token, name="token")

    @token.command("create")
    def create(
        name: str = typer.Option(..., "--name", help="The person (as in the policy's people:) "
                                 "or system using the token."),
        role: str = typer.Option(..., "--role", help=", ".join(r.value for r in Role)),
        models: str = typer.Option("*", "--models", help="Comma-separated models, or * for all."),
        db: str | None = DbOption,
        actor: str | None = ActorOption,
    ) -> None:
        """Create a token; it is printed once and only its hash is stored."""
        with session_for(db) as s:
            secret, row = access.create_token(s, name=name, role=role,
                                              models=models.split(","),
                                              created_by=actor_name(actor),
                                              now=SYSTEM_CLOCK.now())
        console.print(f"token [bold]{row.id}[/bold] for {row.name} ({row.role}, models "
                      f"{', '.join(row.models)}); keep it secret, it is not shown again:")
        typer.echo(secret)

    @token.command("list")
    def list_(db: str | None = DbOption) -> None:
        """Tokens (never their secrets)."""
        with session_for(db) as s:
            table = Table("id", "name", "role", "models", "created", "last used", "revoked")
            for t in access.list_tokens(s):
                table.add_row(t.id, t.name, t.role, ",".join(t.models),
                              f"{t.created_at:%Y-%m-%d}",
                              f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "—",
                              f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "")
            console.print(table)

    @token.command("revoke")
    def revoke(token_id: str, db: str | None = DbOption, actor: str | None = ActorOption) -> None:
        """Revoke a token at once."""
        with session_for(db) as s:
            access.revoke_token(s, token_id, actor=actor_name(actor), now=SYSTEM_CLOCK.now())
        console.print(f"token {token_id} revoked")
