"""Checking one import row against the customer schema: pure, no database.

The caller passes the lookups (usernames of active reps, region names) so a 10,000-row
file is checked with two queries, and the same checks serve preview and apply.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from server.imports.csvfile import unsafe_cell
from server.imports.export import CUSTOMER_COLUMNS

REQUIRED = ("external_id", "name", "tier")
EXPORT_ONLY = ("archived", "id", "created_at")  # an export read back: ignored silently
TIERS = ("A", "B", "C")
STAGES = ("prospect", "contacted", "active", "key", "at_risk", "lost")
KINDS = ("consumer", "business", "channel", "internal")
TRUE = ("true", "1", "yes", "y", "是")
FALSE = ("false", "0", "no", "n", "否", "")
LIMITS = {"external_id": 80, "name": 200, "phone": 40, "address": 500}
MAX_TAGS, MAX_TAG = 50, 40


@dataclass
class Parsed:
    """A valid row: the customer's profile values and where it belongs."""

    external_id: str
    values: dict[str, Any]
    owner_id: UUID | None
    region_id: UUID | None


@dataclass
class RowCheck:
    parsed: Parsed | None = None
    issues: list[tuple[str, str]] = field(default_factory=list)  # (column, message)


@dataclass(frozen=True)
class Rep:
    id: UUID
    region_id: UUID | None


def check_header(header: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Missing required columns (errors) and columns the import does not know (ignored)."""
    missing = [(c, "required column is missing") for c in REQUIRED if c not in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            missing.append((name, "column appears twice"))
        seen.add(name)
    ignored = [h for h in header if h not in CUSTOMER_COLUMNS and h not in EXPORT_ONLY and h]
    return missing, ignored


def _float(
    text: str, column: str, low: float, high: float, issues: list[tuple[str, str]]
) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        issues.append((column, f"not a number: {text!r}"))
        return None
    if not math.isfinite(value) or not low <= value <= high:
        issues.append((column, f"must be between {low:g} and {high:g}"))
        return None
    return value


def check_row(
    cells: Mapping[str, str], reps: Mapping[str, Rep], regions: Mapping[str, UUID]
) -> RowCheck:
    issues: list[tuple[str, str]] = []
    get = {k: unsafe_cell(v.strip()) for k, v in cells.items()}.get

    def text(column: str) -> str:
        value = get(column) or ""
        if "\x00" in value:
            issues.append((column, "contains a NUL character"))
        limit = LIMITS.get(column)
        if limit is not None and len(value) > limit:
            issues.append((column, f"longer than {limit} characters"))
        return value

    external_id, name = text("external_id"), text("name")
    if not external_id:
        issues.append(("external_id", "required (it matches the row on re-import)"))
    if not name:
        issues.append(("name", "required"))
    tier = (get("tier") or "").upper()
    if tier not in TIERS:
        issues.append(("tier", f"must be one of {', '.join(TIERS)}"))
    stage = (get("stage") or "prospect").lower()
    if stage not in STAGES:
        issues.append(("stage", f"must be one of {', '.join(STAGES)}"))
    kind = (get("kind") or "business").lower()
    if kind not in KINDS:
        issues.append(("kind", f"must be one of {', '.join(KINDS)}"))
    key_raw = (get("key_account") or "").lower()
    if key_raw not in TRUE + FALSE:
        issues.append(("key_account", "must be true or false"))
    latitude = _float(get("latitude") or "", "latitude", -90, 90, issues)
    longitude = _float(get("longitude") or "", "longitude", -180, 180, issues)
    if (latitude is None) != (longitude is None) and not any(
        c in ("latitude", "longitude") for c, _ in issues
    ):
        issues.append(("longitude" if latitude is not None else "latitude", "give both or neither"))
    tags = [t.strip() for t in (get("tags") or "").split(";") if t.strip()]
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        issues.append(("tags", f"at most {MAX_TAGS} tags of at most {MAX_TAG} characters"))

    owner_id: UUID | None = None
    region_id: UUID | None = None
    username = get("owner_username") or ""
    region_name = get("region") or ""
    if username:
        rep = reps.get(username)
        if rep is None:
            issues.append(("owner_username", f"no active rep named {username!r}"))
        else:
            owner_id, region_id = rep.id, rep.region_id
    if region_name:
        found = regions.get(region_name)
        if found is None:
            issues.append(("region", f"no region named {region_name!r}"))
        elif region_id is not None and found != region_id:
            issues.append(("region", "differs from the owner's region"))
        else:
            region_id = found
    values = {
        "name": name,
        "tier": tier,
        "stage": stage,
        "kind": kind,
        "phone": text("phone"),
        "address": text("address"),
        "latitude": latitude,
        "longitude": longitude,
        "key_account": key_raw in TRUE,
        "tags": tags,
    }
    if issues:
        return RowCheck(issues=issues)
    return RowCheck(parsed=Parsed(external_id, values, owner_id, region_id))


def tags_of(raw: Any) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(t) for t in value] if isinstance(value, list) else []


def changes(existing: Mapping[str, Any], parsed: Parsed) -> dict[str, Any]:
    """Profile fields whose imported value differs from the stored one."""
    out: dict[str, Any] = {}
    for name, value in parsed.values.items():
        current: Any = tags_of(existing.get("tags")) if name == "tags" else existing.get(name)
        if name in ("latitude", "longitude") and current is not None and value is not None:
            if math.isclose(float(current), value, rel_tol=0, abs_tol=1e-4):
                continue
        if current != value:
            out[name] = value
    return out
