"""The OpenAPI document: every operation lists the problem responses it can give.

Litestar documents success responses and validation 400s from the handlers; the errors
that middleware, guards and services raise (401, 403, 404, 409, 413, 429) are added here
once, so clients and the schema fuzzer see every status the API really answers with.
"""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType

from server.auth.middleware import is_open

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "title", "code"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER),
        "title": Schema(type=OpenAPIType.STRING),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING, description="stable machine-readable error code"),
    },
    description="RFC 9457 problem details; some codes add members (expected, supported, ...)",
)

_DESCRIPTIONS = {
    "400": "Malformed request or invalid field (the detail names it)",
    "401": "Not logged in, or the token is expired or revoked",
    "403": "The caller's role may not do this",
    "404": "No such object in the caller's scope",
    "405": "Method not allowed",
    "409": "Conflicts with the current state (see code)",
    "413": "Request body too large",
    "429": "Rate limited; see Retry-After",
    "503": "Database unavailable",
}
_EVERYWHERE = ("400", "405", "413", "429")
_AUTHENTICATED = ("401", "403", "404", "409")


def document_errors(schema: OpenAPI) -> None:
    components = schema.components
    schemas = components.schemas if components.schemas is not None else {}
    schemas["ProblemDetails"] = PROBLEM
    components.schemas = schemas
    ref = Reference(ref="#/components/schemas/ProblemDetails")
    for path, item in (schema.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        statuses = _EVERYWHERE if is_open(path) else (*_EVERYWHERE, *_AUTHENTICATED)
        if path == "/api/health":
            statuses = ("503",)
        if path in ("/api/auth/login", "/api/auth/refresh"):
            statuses = (*statuses, "401", "403")
        for method in ("get", "post", "put", "patch", "delete"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for status in statuses:
                existing = responses.get(status)
                if isinstance(existing, OpenAPIResponse) and existing.content:
                    # Litestar's own 400: say it is problem JSON, as it really is.
                    existing.content = {"application/problem+json": OpenAPIMediaType(schema=ref)}
                    continue
                responses[status] = OpenAPIResponse(
                    description=_DESCRIPTIONS[status],
                    content={"application/problem+json": OpenAPIMediaType(schema=ref)},
                )
            operation.responses = responses
