"""`watchkeeper demo`: the whole loop on simulated traffic, with a live dashboard."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

console = Console(highlight=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_starter(port: int | None) -> Any:
    def start(store: Any, policy: Any, data_dir: Path, clock: Any) -> str:
        import uvicorn

        from watchkeeper.api.deps import AppState
        from watchkeeper.web.app import create_server_app

        chosen = port or _free_port()
        state = AppState(store=store, data_dir=data_dir, policy=policy, clock=clock,
                         auth_enabled=False, base_url=f"http://127.0.0.1:{chosen}")
        server = uvicorn.Server(uvicorn.Config(create_server_app(state), host="127.0.0.1",
                                               port=chosen, log_level="warning"))
        threading.Thread(target=server.run, name="watchkeeper-demo-server", daemon=True).start()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{chosen}/"

    return start


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        speed: float = typer.Option(
            3600.0, "--speed", help="Simulated seconds per real second (3600: an hour of "
            "traffic per second); 0 runs as fast as the machine can."),
        windows: int = typer.Option(66, "--windows", min=1, help="Hours of traffic to play."),
        requests: int = typer.Option(1500, "--requests", min=100, help="Requests per hour."),
        port: int | None = typer.Option(None, "--port", help="Dashboard port (default: free)."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the dashboard."),
        folder: Path | None = typer.Option(None, "--dir", help="Keep everything here "
                                           "(default: a new temporary folder)."),
        stay: bool = typer.Option(False, "--stay", help="Keep the dashboard up at the end "
                                  "until Ctrl-C."),
    ) -> None:
        """Play scripted incidents (pipeline break, covariate drift, concept drift, latency
        spike, critical failure) through the whole loop, and end with MTTD and MTTR."""
        from watchkeeper.evaluation.demo import run

        result = run(folder=folder, windows=windows, requests=requests, speed=speed,
                     start_server=_server_starter(port) if serve else None, say=console.print)
        if serve and stay:
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        console.print(f"everything is kept in {result.folder}")
