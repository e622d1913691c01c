"""`watchkeeper db upgrade|current|housekeep`: migrations of the database named by --db, and
its retention."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from watchkeeper.cli.options import DbOption, PolicyOption, resolve_db_url, resolve_policy_path
from watchkeeper.core.errors import WatchkeeperError
from watchkeeper.store import Store, normalise_url

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def shown(url: str) -> str:
    """The URL with any password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _cause(exc: Exception) -> str:
    # The driver's own message, without SQLAlchemy's statement echo and help link.
    return str(getattr(exc, "orig", None) or exc).strip()


def open_existing(db: str | None) -> Store:
    """Open a database that must already exist and hold watchkeeper's tables; never migrates.

    Read-only commands (verify, list, current) must not create a database by mistake, nor
    change one that an older release is still using.
    """
    url = resolve_db_url(db)
    try:
        parsed = normalise_url(url)
    except WatchkeeperError as exc:
        raise fail(str(exc)) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.exists():
            raise fail(
                f"no database at {path}; expected an existing file (check --db or $WATCHKEEPER_DB)"
            )
    try:
        store = Store.open(url, migrate=False)
        revisions = store.current_revisions()
    except Exception as exc:  # unreachable server, bad credentials, not a database file...
        raise fail(f"cannot open {shown(url)}: {_cause(exc)}") from None
    if not revisions:
        store.close()
        raise fail(
            f"{shown(url)} is not a watchkeeper database (no migrations applied); "
            "run `watchkeeper db upgrade` to create one"
        )
    return store


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def upgrade(db: str | None = DbOption) -> None:
        """Create the database or upgrade it to this release's schema (keeps all data)."""
        url = resolve_db_url(db)
        try:
            with Store.open(url, migrate=False) as store:
                before = store.current_revisions()
                store.upgrade()
                after = store.current_revisions()
        except WatchkeeperError as exc:
            raise fail(str(exc)) from None
        except Exception as exc:
            raise fail(f"cannot upgrade {shown(url)}: {_cause(exc)}") from None
        if before == after:
            out.print(f"{shown(url)}: already up to date ({', '.join(sorted(after))})")
        else:
            added = sorted(after - before)
            out.print(
                f"{shown(url)}: upgraded to {', '.join(sorted(after))} (new: {', '.join(added)})"
            )

    @db_app.command("current")
    def current(
        db: str | None = DbOption,
        check: bool = typer.Option(False, "--check", help="Exit 1 when an upgrade is due."),
    ) -> None:
        """Show the revision of each migration branch the database is at."""
        with open_existing(db) as store:
            have, heads = store.current_revisions(), store.head_revisions()
            url = store.url
        out.print(f"{shown(url)}")
        for rev in sorted(have):
            out.print(f"  {rev}")
        missing = heads - have
        if not missing:
            out.print("up to date")
            return
        out.print(
            f"behind this release: {', '.join(sorted(missing))} not applied; "
            "run `watchkeeper db upgrade`"
        )
        if check:
            raise typer.Exit(1)

    @db_app.command("revision")
    def revision(
        message: str = typer.Option(..., "--message", "-m", help="What the migration does."),
        stage: str = typer.Option(..., help="Your stage's branch label, e.g. ingest."),
        rev_id: str = typer.Option(..., "--rev-id", help="e.g. 0002_ingest, 0002b_ingest_x."),
    ) -> None:
        """For contributors: autogenerate the next migration of a stage from its tables."""
        from watchkeeper.store.engine import new_revision

        if not re.fullmatch(r"[a-z][a-z0-9_]*", stage):
            raise fail(
                f"--stage: {stage!r} is not a branch label; expected lowercase letters, "
                "digits and _ (the stage's folder name)"
            )
        if not re.fullmatch(r"[0-9a-z_]{1,32}", rev_id):
            raise fail(f"--rev-id: {rev_id!r}; expected at most 32 of 0-9, a-z and _")
        path = new_revision(message, stage=stage, rev_id=rev_id)
        out.print(f"wrote {path}; read it, then run the migration tests")

    @db_app.command("housekeep")
    def housekeep(db: str | None = DbOption, policy: str | None = PolicyOption) -> None:
        """Apply the policy's retention now and merge closed windows' profile parts (what
        `serve` does every six hours). Exit 1 if a model could not be tidied."""
        from watchkeeper.core.errors import PolicyError
        from watchkeeper.core.settings import Settings
        from watchkeeper.engine.tick import Engine
        from watchkeeper.policy import load_policy

        try:
            loaded = load_policy(resolve_policy_path(policy))
        except PolicyError as exc:
            raise fail(f"{exc.source}: {'; '.join(exc.problems[:5])}") from None
        with open_existing(db) as store:
            done = Engine(store, loaded, Settings.resolve(db).data_dir).housekeep()
        for p in done.purged:
            out.print(f"{p.model}: {p.files:,} files ({p.events:,} events before "
                      f"{p.cutoff:%Y-%m-%d}), {p.quarantined_rows:,} rejected rows, "
                      f"{p.profile_parts:,} window profiles deleted")
        out.print(f"{done.parts_merged:,} profile parts merged, {done.notifications:,} sent "
                  "notifications deleted")
        for e in done.errors:
            err.print(f"[red]error:[/red] {e}")
        if done.errors:
            raise typer.Exit(1)
