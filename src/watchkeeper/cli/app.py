"""The `watchkeeper` command. Each command group lives in its own module with a `register(app)`;
this file only assembles them, in the explicit list below."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="watchkeeper",
    help="Keep production ML models healthy: drift, scoring, escalation, mitigation, audit.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)



@app.callback()
def _root() -> None:
    """Keep production ML models healthy."""


# One entry per module in watchkeeper.cli; each defines register(app: typer.Typer) -> None.
COMMAND_MODULES: list[str] = [
    "version",
    "ingest",
    "db",
    "audit",
    "policy",
    "incidents",
    "token",
    "serve",
    "demo",
    "drift",
    "scoring",
    "drill",
]


def _assemble() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"watchkeeper.cli.{name}").register(app)


_assemble()


def main() -> None:
    app()
