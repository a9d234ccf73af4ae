"""A refused message as an HTTP answer: the handler's error names the status code."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.router.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RoutingError,
    Unauthorized,
)

STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
    Invalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Unauthorized: status.HTTP_401_UNAUTHORIZED,
}


def status_of(exc: RoutingError) -> int:
    return next(code for kind, code in STATUS.items() if isinstance(exc, kind))


async def refused(request: Request, exc: RoutingError) -> JSONResponse:
    code = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    if code == status.HTTP_422_UNPROCESSABLE_CONTENT:  # the same shape as FastAPI's own 422s
        body = {"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]}
    else:
        body = {"detail": str(exc)}
    return JSONResponse(body, status_code=code, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RoutingError, refused)
