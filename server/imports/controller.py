"""``/api/export/*.csv`` (every role, own scope) and ``/api/import/customers/*`` (admins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType

from server.auth.guards import admins_only
from server.errors import ApiError
from server.imports import export
from server.imports import service as imports
from server.imports.schemas import ImportReport
from server.rest.clock import utcnow
from sync.actor import Actor

CSV = "text/csv"  # Litestar appends "; charset=utf-8" to text/* types


def csv_response(data: bytes, stem: str) -> Response[bytes]:
    name = f"{stem}-{utcnow().strftime('%Y%m%d')}.csv"
    return Response(
        content=data,
        media_type=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


class ExportController(Controller):
    path = "/api/export"
    tags = ["export"]

    @get(
        "/customers.csv",
        media_type=CSV,
        summary="Customers in scope as CSV (UTF-8 with BOM, opens in Excel)",
    )
    async def customers(self, actor: NamedDependency[Actor]) -> Response[bytes]:
        return csv_response(await export.customers_csv(actor), "customers")

    @get("/visits.csv", media_type=CSV, summary="Visits in scope as CSV (UTF-8 with BOM)")
    async def visits(self, actor: NamedDependency[Actor]) -> Response[bytes]:
        return csv_response(await export.visits_csv(actor), "visits")

    @get("/gifts.csv", media_type=CSV, summary="Gifts in scope as CSV (UTF-8 with BOM)")
    async def gifts(self, actor: NamedDependency[Actor]) -> Response[bytes]:
        return csv_response(await export.gifts_csv(actor), "gifts")


async def _file(request: Request[Any, Any, Any]) -> bytes:
    """The raw upload, at most ``MAX_BYTES`` (413 beyond, before reading it all)."""
    limit = imports.MAX_BYTES
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413, "too_large", f"body: the file is over {limit} bytes", extra={"limit": limit}
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(
                413, "too_large", f"body: the file is over {limit} bytes", extra={"limit": limit}
            )
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class CsvUpload(Operation):
    """The import routes read the raw body themselves (``_file``: a 413 before reading it
    all), so Litestar has no ``data`` parameter to describe; the CSV body is declared here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=(
                f"The CSV file itself (not a form): UTF-8 with or without BOM, or GBK; at most "
                f"{imports.MAX_BYTES} bytes and {imports.MAX_ROWS} rows (413 beyond). The first "
                "row names the columns; external_id, name and tier are required."
            ),
            content={CSV: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
        )


class ImportController(Controller):
    path = "/api/import"
    tags = ["import"]
    guards = [admins_only]

    @post(
        "/customers/preview",
        summary="Check a customer CSV: per-row report and counts of creates and updates",
        request_max_body_size=None,
        status_code=200,
        operation_class=CsvUpload,
    )
    async def preview(self, request: Request[Any, Any, Any]) -> ImportReport:
        return await imports.preview(await _file(request))

    @post(
        "/customers/apply",
        summary="Import a customer CSV (all rows or none; 409 with the report if any is invalid)",
        request_max_body_size=None,
        status_code=200,
        operation_class=CsvUpload,
    )
    async def apply(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor]
    ) -> ImportReport:
        return await imports.apply(actor, await _file(request))
