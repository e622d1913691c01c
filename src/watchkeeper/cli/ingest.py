"""`watchkeeper ingest MODEL FILE... [--labels]`: load prediction events or labels from
Parquet, CSV or JSON-lines files, with a progress bar; each chunk is acknowledged once durable.

Exit codes: 0 all rows accepted or already there; 1 some rows quarantined (the good rows are
kept); 2 a file or the policy could not be used (chunks acknowledged before that are kept)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from watchkeeper.cli.common import ActorOption, actor_name
from watchkeeper.cli.options import DbOption, PolicyOption, resolve_db_url, resolve_policy_path
from watchkeeper.core.errors import WatchkeeperError
from watchkeeper.core.settings import Settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
SHOWN_PROBLEMS = 20


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        model: str = typer.Argument(..., help="Model name from the policy."),
        files: list[Path] = typer.Argument(..., help="Parquet, CSV or JSON-lines files."),
        labels: bool = typer.Option(
            False,
            "--labels",
            help="The files hold labels (event_id, label[, timestamp]), not prediction events.",
        ),
        db: str | None = DbOption,
        policy: str | None = PolicyOption,
        data_dir: Path | None = typer.Option(
            None,
            "--data-dir",
            help="Event log folder (default: $WATCHKEEPER_DATA_DIR or next to the SQLite file).",
        ),
        chunk_rows: int = typer.Option(
            250_000, "--chunk-rows", min=1, help="Rows per acknowledged batch."
        ),
        actor: str | None = ActorOption,
    ) -> None:
        """Ingest prediction events (or, with --labels, delayed labels) from files."""
        from watchkeeper.ingest import IngestService
        from watchkeeper.ingest.sources.files import file_size
        from watchkeeper.policy import load_policy
        from watchkeeper.store import Store

        settings = Settings.resolve(resolve_db_url(db), data_dir)
        try:
            loaded = load_policy(resolve_policy_path(policy))
            store = Store.open(settings.db_url)
        except WatchkeeperError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        service = IngestService(store, loaded, settings.data_dir, actor=actor_name(actor))
        quarantined = 0
        try:
            for path in files:
                try:
                    size = file_size(path)
                except OSError:
                    err.print(f"[red]error:[/red] file {path}: no such file")
                    raise typer.Exit(2) from None
                with Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TextColumn("{task.fields[rows]:,} rows"),
                    TimeRemainingColumn(),
                    console=err,
                    transient=True,
                ) as bar:
                    task = bar.add_task(path.name, total=size, rows=0)

                    def advance(result, done, bar=bar, task=task):  # type: ignore[no-untyped-def]
                        rows = bar.tasks[0].fields["rows"] + result.n_rows
                        bar.update(task, completed=done, rows=rows)

                    try:
                        result = service.ingest_file(
                            model, path, labels=labels, chunk_rows=chunk_rows, on_chunk=advance
                        )
                    except WatchkeeperError as exc:
                        err.print(f"[red]error:[/red] {exc}")
                        raise typer.Exit(2) from None
                what = "labels" if labels else "events"
                out.print(f"{path}: {result.n_rows:,} {what}: {result.summary()}")
                for warning in result.warnings:
                    out.print(f"  [yellow]warning:[/yellow] {warning}")
                for problem in result.problems[:SHOWN_PROBLEMS]:
                    out.print(f"  quarantined: {problem}")
                hidden = result.n_quarantined - min(len(result.problems), SHOWN_PROBLEMS)
                if result.n_quarantined and hidden > 0:
                    out.print(
                        f"  ... see the quarantine report for the other rows "
                        f"({result.n_quarantined:,} rows quarantined in all)"
                    )
                quarantined += result.n_quarantined
        finally:
            store.close()
        if quarantined:
            raise typer.Exit(1)
