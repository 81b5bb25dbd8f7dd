"""Customer import: check the whole file, then apply it through the sync write path.

Preview and apply run the same checks; apply writes nothing unless every row is valid.
New customers (and the first plan ``server.planning.cadence`` gives each) are bulk
inserted and versioned by ``server.sync.service.finalize_bulk_load``, the engine's path
for imports (seq, clocks and bucket checksums set-wise); changed
customers are puts with the field's current clock as base (R-PUT-1), and a new owner is
the ``reassign_customer`` command, all inside one write transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from server.db import write_transaction
from server.errors import ApiError
from server.imports import csvfile
from server.imports.rows import Parsed, Rep, changes, check_header, check_row
from server.imports.schemas import ImportIssue, ImportReport
from server.planning.cadence import DEFAULT_TIME_ZONE, CreatePlan, CustomerFacts, plan_changes
from server.planning.facts import load_rules
from server.rest import writes
from server.rest.clock import utcnow
from server.rest.values import clocks_of
from server.tables import Customer, PlannedRevisit, Region, User
from sync.actor import Actor

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ISSUES = 1000
PUT_BATCH = 500
INSERT_BATCH = 500  # rows per INSERT (SQLite allows 32766 parameters)


@dataclass
class Plan:
    """What applying the file would do."""

    report: ImportReport
    creates: list[Parsed]
    updates: list[tuple[dict[str, Any], Parsed, dict[str, Any]]]  # row, parsed, changed fields


async def _lookups() -> tuple[dict[str, Rep], dict[str, UUID]]:
    reps = {
        u["username"]: Rep(u["id"], u["region_id"])
        for u in await User.select(User.id, User.username, User.region_id).where(
            User.role == "rep",
            User.active == True,  # noqa: E712
            User.deleted == False,  # noqa: E712
        )
    }
    regions = {
        r["name"]: r["id"]
        for r in await Region.select(Region.id, Region.name).where(Region.deleted == False)  # noqa: E712
    }
    return reps, regions


def _decode(data: bytes) -> tuple[str, str]:
    if not data.strip():
        raise ApiError(400, "validation", "body: the file is empty")
    try:
        return csvfile.decode(data)
    except csvfile.UnreadableFile as exc:
        raise ApiError(400, "validation", f"body: {exc}") from None


async def plan_import(data: bytes) -> Plan:
    text, encoding = _decode(data)
    try:
        header, body = csvfile.read_rows(text)
    except csvfile.UnreadableFile as exc:
        raise ApiError(400, "validation", f"body: {exc}") from None
    header_issues, ignored = check_header(header)
    issues = [ImportIssue(1, column, message) for column, message in header_issues]
    if len(body) > MAX_ROWS:
        raise ApiError(413, "too_large", f"body: at most {MAX_ROWS} rows per file")
    creates: list[Parsed] = []
    updates: list[tuple[dict[str, Any], Parsed, dict[str, Any]]] = []
    unchanged = invalid = 0
    if not header_issues:
        reps, regions = await _lookups()
        existing = {
            r["external_id"]: r
            for r in await Customer.select().where(Customer.external_id.is_not_null())
        }
        seen: dict[str, int] = {}
        for index, cells in enumerate(body):
            row_no = index + 2
            if len(cells) > len(header):
                issues.append(ImportIssue(row_no, None, "more cells than header columns"))
                invalid += 1
                continue
            checked = check_row(dict(zip(header, cells, strict=False)), reps, regions)
            row_issues = [ImportIssue(row_no, c, m) for c, m in checked.issues]
            parsed = checked.parsed
            if parsed is not None:
                if parsed.external_id in seen:
                    row_issues.append(
                        ImportIssue(
                            row_no, "external_id", f"repeats row {seen[parsed.external_id]}"
                        )
                    )
                else:
                    seen[parsed.external_id] = row_no
            if parsed is not None and not row_issues:
                row_issues, kind = _classify(
                    parsed, existing.get(parsed.external_id), row_no, creates, updates
                )
                unchanged += kind == "unchanged"
            if row_issues:
                invalid += 1
                issues.extend(row_issues)
    report = ImportReport(
        encoding=encoding,
        rows=len(body),
        creates=len(creates),
        updates=len(updates),
        unchanged=unchanged,
        invalid_rows=invalid,
        errors=issues[:MAX_ISSUES],
        ignored_columns=ignored,
        applied=False,
    )
    return Plan(report, creates, updates)


def _classify(
    parsed: Parsed,
    row: dict[str, Any] | None,
    row_no: int,
    creates: list[Parsed],
    updates: list[tuple[dict[str, Any], Parsed, dict[str, Any]]],
) -> tuple[list[ImportIssue], str]:
    """Create, update or leave alone; the row's issues when it cannot be placed."""
    if row is None:
        if parsed.region_id is None:
            return [ImportIssue(row_no, "region", "required when owner_username is empty")], ""
        creates.append(parsed)
        return [], "create"
    if row["deleted"]:
        return [ImportIssue(row_no, "external_id", "belongs to a deleted customer")], ""
    if (
        parsed.owner_id is None
        and parsed.region_id is not None
        and parsed.region_id != row["region_id"]
    ):
        message = "moving a customer to another region needs owner_username"
        return [ImportIssue(row_no, "region", message)], ""
    changed = changes(row, parsed)
    if parsed.owner_id is not None and parsed.owner_id != row["owner_id"]:
        changed["owner_id"] = parsed.owner_id
    if not changed:
        return [], "unchanged"
    updates.append((row, parsed, changed))
    return [], "update"


async def preview(data: bytes) -> ImportReport:
    return (await plan_import(data)).report


async def apply(actor: Actor, data: bytes) -> ImportReport:
    """All or nothing: an invalid row answers 409 with the report and writes nothing."""
    plan = await plan_import(data)
    if plan.report.errors:
        raise ApiError(
            409,
            "invalid_rows",
            f"{plan.report.invalid_rows or 1} row(s) are invalid; nothing was imported",
            extra={"report": _builtins(plan.report)},
        )
    from server.sync.service import finalize_bulk_load

    mutations: list[dict[str, Any]] = []
    for row, _parsed, changed in plan.updates:
        owner = changed.pop("owner_id", None)
        if changed:
            mutations.append(writes.put("customers", row["id"], changed, clocks_of(row)))
        if owner is not None:
            mutations.append(
                writes.command("reassign_customer", {"customer_id": row["id"], "to_rep_id": owner})
            )
    async with write_transaction():
        if plan.creates:
            await _insert_new(plan.creates)
            await finalize_bulk_load(["customers", "planned_revisits"])
        for start in range(0, len(mutations), PUT_BATCH):
            await writes.apply(actor, mutations[start : start + PUT_BATCH])
    report = plan.report
    report.applied = True
    return report


async def _insert_new(creates: list[Parsed]) -> None:
    """Insert new customers and the first plan the cadence engine gives each of them;
    ``finalize_bulk_load`` (the engine's bulk path) then versions them in this transaction."""
    rules = await load_rules()
    zones = {r["id"]: r["time_zone"] for r in await Region.select(Region.id, Region.time_zone)}
    now = utcnow()
    customers: list[Customer] = []
    plans: list[PlannedRevisit] = []
    for parsed in creates:
        row = Customer(
            id=uuid4(),
            external_id=parsed.external_id,
            owner_id=parsed.owner_id,
            region_id=parsed.region_id,
            created_at=now,
            **{**parsed.values, "tags": json.dumps(parsed.values["tags"], ensure_ascii=False)},
        )
        customers.append(row)
        facts = CustomerFacts(
            id=row.id,
            tier=row.tier,
            stage=row.stage,
            region_id=row.region_id,
            owner_id=row.owner_id,
            created_at=now,
            time_zone=zones.get(row.region_id) or DEFAULT_TIME_ZONE,
        )
        for change in plan_changes(facts, rules, [], []):
            if isinstance(change, CreatePlan):
                plans.append(
                    PlannedRevisit(
                        id=change.id,
                        customer_id=row.id,
                        rep_id=change.rep_id,
                        owner_id=row.owner_id,
                        region_id=row.region_id,
                        due_date=change.due_date,
                        source=change.source,
                        status=change.status,
                    )
                )
    for start in range(0, len(customers), INSERT_BATCH):
        await Customer.insert(*customers[start : start + INSERT_BATCH])
    for start in range(0, len(plans), INSERT_BATCH):
        await PlannedRevisit.insert(*plans[start : start + INSERT_BATCH])


def _builtins(report: ImportReport) -> Any:
    import msgspec

    return msgspec.to_builtins(report)
