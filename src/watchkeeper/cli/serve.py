"""`watchkeeper serve`: API, dashboard and scheduler in one process, or one role per process."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, cast

import typer
from rich.console import Console

from watchkeeper.cli.options import DbOption, PolicyOption, resolve_policy_path
from watchkeeper.policy import load_policy, parse_duration

console = Console(stderr=True)


if TYPE_CHECKING:
    from watchkeeper.api.deps import AppState
    from watchkeeper.engine.scheduler import Job
    from watchkeeper.engine.tick import Engine
    from watchkeeper.store import Store


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _follow_policy(store: Store, state: AppState, engine: Engine) -> Job:
    """Every process follows policy versions applied after it started (by the API or
    `watchkeeper policy apply`): the file it started with is in force until then."""
    from watchkeeper.engine import policy_service
    from watchkeeper.engine.scheduler import Job

    with store.session(read_only=True) as s:
        seen = policy_service.latest_version(s)

    def follow(_: datetime) -> None:
        nonlocal seen
        with store.session(read_only=True) as s:
            found = policy_service.newer(s, seen, base_dir=engine.policy.base_dir)
        if found is None:
            return
        policy, seen = found
        engine.use_policy(policy)
        state.policy = policy
        logging.getLogger("watchkeeper.serve").info("policy version %d in force", seen)

    return Job("policy", 5.0, follow, leader_only=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8000, "--port"),
        role: str = typer.Option("all", "--role", help="all | api | scheduler | worker"),
        auth: bool | None = typer.Option(
            None, "--auth/--no-auth",
            help="Require API tokens. Default: on, except on a loopback address."),
        tick_s: float = typer.Option(10.0, "--tick", help="Seconds between evaluation ticks."),
        outbox_lease: str | None = typer.Option(
            None, "--outbox-lease",
            help="How long a worker keeps a claimed notification before another worker may "
                 "take it over, e.g. 2m (default: the outbox's own)."),
        db: str | None = DbOption,
        policy: str | None = PolicyOption,
    ) -> None:
        """Start the API (/docs), the dashboard and the scheduler."""
        # Imported here: `watchkeeper <any command>` should not pay for the server's imports.
        from watchkeeper.api.deps import AppState
        from watchkeeper.core.settings import Settings
        from watchkeeper.engine.runtime import ROLES, ServeRole, jobs_for
        from watchkeeper.engine.scheduler import Scheduler
        from watchkeeper.engine.tick import Engine
        from watchkeeper.store import Store

        if role not in ROLES:
            console.print(f"[red]error:[/red] --role: unknown role {role!r}; expected one of "
                          f"{', '.join(ROLES)}")
            raise typer.Exit(1)
        try:
            lease = parse_duration(outbox_lease) if outbox_lease else None
        except ValueError as exc:
            console.print(f"[red]error:[/red] --outbox-lease: {exc}; expected e.g. 30s, 2m")
            raise typer.Exit(1) from None
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        settings = Settings.resolve(db)
        loaded = load_policy(resolve_policy_path(policy))
        store = Store.open(settings.db_url)
        auth_on = auth if auth is not None else not _loopback(host)
        if not auth_on:
            console.print("[bold red]AUTHENTICATION IS OFF[/bold red]: anyone who can reach "
                          f"{host}:{port} acts as admin. Use --auth (or a non-loopback --host) "
                          "for anything but local use.")
        state = AppState(store=store, data_dir=settings.data_dir, policy=loaded,
                         auth_enabled=auth_on, base_url=f"http://{host}:{port}",
                         session_secret=os.environ.get("WATCHKEEPER_SESSION_SECRET")
                         or secrets.token_urlsafe(32))
        engine = Engine(store, loaded, settings.data_dir, retrain_inline=role == "all")
        jobs = jobs_for(cast(ServeRole, role), engine, tick_s=tick_s, lease=lease)
        jobs.append(_follow_policy(store, state, engine))
        scheduler = Scheduler(store, jobs)
        scheduler.start()
        try:
            if role in ("all", "api"):
                import uvicorn

                from watchkeeper.web.app import create_server_app

                console.print(f"watchkeeper on http://{host}:{port} (API docs at /docs), "
                              f"database {store!r}, role {role}")
                uvicorn.run(create_server_app(state), host=host, port=port, log_level="info")
            else:
                console.print(f"watchkeeper {role} running on {store!r}; Ctrl-C stops it")
                scheduler.wait()
        except KeyboardInterrupt:
            pass
        finally:
            scheduler.stop()
            store.close()
