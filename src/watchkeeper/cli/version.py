from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print the installed watchkeeper version."""
        from importlib.metadata import version as pkg_version

        typer.echo(pkg_version("watchkeeper"))
