"""RFC 9457 problem details for every error, with a machine-readable ``code``.

Litestar's own exceptions (validation 400, 401, 403, 404, 405, 413, 429) are mapped here
so that ``title`` is the HTTP phrase and ``detail`` the human explanation.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, NamedTuple

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.plugins.problem_details import ProblemDetailsException

PROBLEM_JSON = "application/problem+json"

_DEFAULT_CODES = {
    400: "validation",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
}


class ApiError(HTTPException):
    """A domain error with a stable ``code`` the client can act on."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            detail=detail,
            status_code=status_code,
            extra={"code": code, **(extra or {})},
            headers=headers,
        )


def not_found(what: str = "object") -> ApiError:
    """Out-of-scope objects answer exactly like missing ones, so existence does not leak."""
    return ApiError(404, "not_found", f"{what} not found")


def _validation_detail(extra: Any) -> tuple[str, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    if isinstance(extra, list):
        errors = [e for e in extra if isinstance(e, dict)]
    if errors:
        first = errors[0]
        key = first.get("key")
        message = first.get("message", "invalid value")
        where = f" at {key!s}" if key else ""
        return f"{message}{where}", errors
    return "request body is malformed", errors


def to_problem(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    extra: dict[str, Any] = {}
    detail = exc.detail
    if isinstance(exc.extra, dict):
        extra.update(exc.extra)
    if status == 400 and not isinstance(exc, ApiError):
        message, errors = _validation_detail(exc.extra)
        if errors:
            detail = message
            extra["errors"] = errors
        elif detail in ("", HTTPStatus.BAD_REQUEST.phrase) or detail.startswith("Validation failed"):
            detail = message if not exc.detail else exc.detail
    extra.setdefault("code", _DEFAULT_CODES.get(status, "error"))
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return ProblemDetailsException(
        status_code=status,
        title=title,
        detail=detail or title,
        extra=extra,
        headers=exc.headers,
    )


def problem_response(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return to_problem(exc).to_response(request)


class _Known(NamedTuple):
    """A database error that is the request's fault or a passing state, not the server's,
    recognised by a marker in its type name or message (lowercase); nothing was changed."""

    markers: tuple[str, ...]
    what: str  # for the log
    status: int
    title: str
    detail: str
    code: str
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}


_KNOWN_FAILURES = (
    # PostgreSQL refused text it cannot hold (U+0000, in text or as a JSON escape): the
    # input is at fault. The sync schema refuses such values first; this covers the rest.
    _Known(("characternotinrepertoire", "untranslatablecharacter"), "unstorable text", 400, "Bad Request",
           "text must not contain the NUL character (U+0000); nothing was changed", "validation"),
    # A unique constraint caught a race the service's own check could not see (two requests
    # creating the same username, external id, ...): the loser changed nothing.
    _Known(("uniqueviolation", "unique constraint failed"), "unique conflict", 409, "Conflict",
           "another request created the same thing at the same time; nothing was changed", "conflict"),
    # The database could not take the write in time (SQLite lock, PostgreSQL deadlock or
    # serialization failure): nothing was applied and the request can simply be retried.
    _Known(("database is locked", "deadlock", "serializationerror", "could not serialize"), "database busy", 503,
           "Service Unavailable", "the database is busy; nothing was changed, try again shortly", "busy",
           {"retry_after": 2}, {"Retry-After": "2"}),
)


def internal_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Last resort: an unexpected error is logged and answered as problem JSON, not HTML."""
    text = f"{type(exc).__name__}: {exc}".lower()
    for known in _KNOWN_FAILURES:
        if any(marker in text for marker in known.markers):
            request.logger.warning("%s on %s %s: %s", known.what, request.method, request.url.path, exc)
            return ProblemDetailsException(
                status_code=known.status, title=known.title, detail=known.detail,
                extra={"code": known.code, **known.extra}, headers=known.headers,
            ).to_response(request)
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return ProblemDetailsException(
        status_code=500,
        title="Internal Server Error",
        detail="unexpected server error; nothing was changed",
        extra={"code": "internal"},
    ).to_response(request)
