"""The full server: the REST API plus the dashboard and /metrics, in one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from watchkeeper.api import problems
from watchkeeper.api.app import create_app
from watchkeeper.api.deps import AppState
from watchkeeper.web import actions, metrics, pages
from watchkeeper.web.ui import PageError, SignInRequired


def create_server_app(state: AppState) -> FastAPI:
    app = create_app(state)
    for module in (pages, actions, metrics):
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}",
                                status_code=303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return pages.not_found_page(request, str(exc), exc.status)

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: HTTPException) -> Response:
        # People get a page; API clients keep their problem+json.
        wants_html = "text/html" in request.headers.get("accept", "")
        if wants_html and not request.url.path.startswith("/v1"):
            return pages.not_found_page(request, f"There is no page at {request.url.path}.")
        return problems.problem(404, "Not found", str(exc.detail), request.url.path)

    return app
