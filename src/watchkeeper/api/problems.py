"""Errors as RFC 9457 problem details (`application/problem+json`), one mapping for all routes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from watchkeeper.core.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
    PolicyError,
    WatchkeeperError,
)

MEDIA_TYPE = "application/problem+json"

_STATUS: list[tuple[type[Exception], int, str]] = [
    (NotFoundError, 404, "Not found"),
    (ConflictError, 409, "Conflict"),
    (PermissionDenied, 403, "Forbidden"),
    (PolicyError, 422, "Invalid policy"),
    (InputError, 422, "Invalid input"),
    (WatchkeeperError, 400, "Bad request"),
]


def problem(status: int, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://watchkeeper.dev/problems/{status}", "title": title,
            "status": status, "detail": detail, "instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    @app.exception_handler(WatchkeeperError)
    async def _domain(request: Request, exc: WatchkeeperError) -> JSONResponse:
        status, title = next((s, t) for cls, s, t in _STATUS if isinstance(exc, cls))
        extra: dict[str, Any] = {}
        if isinstance(exc, PolicyError):
            extra["problems"] = exc.problems
        if isinstance(exc, InputError) and exc.field:
            extra["field"] = exc.field
        return problem(status, title, str(exc), request.url.path, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
             "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
        return problem(422, "Invalid request", detail, request.url.path, errors=errors[:50])

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail),
                           request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        return response


def _title(status: int) -> str:
    return {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
            413: "Payload too large", 415: "Unsupported media type"}.get(status, "Error")
