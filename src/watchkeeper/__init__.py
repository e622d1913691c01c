"""watchkeeper: keeps production ML models healthy.

The public Python entry points are imported lazily so that `import watchkeeper` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Client", "Router"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from watchkeeper.sdk.client import Client

        return Client
    if name == "Router":
        from watchkeeper.sdk.router import Router

        return Router
    raise AttributeError(name)
