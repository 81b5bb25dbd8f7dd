"""Which buckets a row lives in and which buckets a device holds (R-BUCKET-1, R-BUCKET-2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sync.actor import Actor
from sync.schema import TABLES

GLOBAL = "global"


def rep_bucket(user_id: object) -> str:
    return f"rep:{user_id}"


def region_bucket(region_id: object) -> str:
    return f"region:{region_id}"


def buckets_of(table: str, row: Mapping[str, Any]) -> list[str]:
    kind = TABLES[table].bucket
    if kind == "global":
        return [GLOBAL]
    if kind == "region":  # users
        region = row.get("region_id")
        return [region_bucket(region)] if region else []
    out = []
    if row.get("owner_id"):
        out.append(rep_bucket(row["owner_id"]))
    if row.get("region_id"):
        out.append(region_bucket(row["region_id"]))
    return out


def device_buckets(actor: Actor, region_ids: Iterable[str]) -> list[str]:
    """R-BUCKET-2: the buckets a device of this actor subscribes, in pull order."""
    if actor.role == "admin":
        return [*(region_bucket(r) for r in sorted(region_ids)), GLOBAL]
    if actor.role == "manager":
        return [region_bucket(actor.region_id), GLOBAL] if actor.region_id else [GLOBAL]
    return [rep_bucket(actor.user_id), GLOBAL]


def in_bucket(bucket: str, table: str, row: Mapping[str, Any]) -> bool:
    return bucket in buckets_of(table, row)


def visible(actor: Actor, table: str, row: Mapping[str, Any]) -> bool:
    """R-SCOPE-1 for one row: global data is visible to all, the rest by owner/region."""
    kind = TABLES[table].bucket
    if kind == "global":
        return True
    if kind == "region":
        return actor.role == "admin" or (
            actor.role == "manager" and str(row.get("region_id")) == str(actor.region_id)
        )
    owner = row.get("owner_id")
    region = row.get("region_id")
    if actor.role == "admin":
        return True
    if actor.role == "manager":
        return region is not None and str(region) == str(actor.region_id)
    return owner is not None and str(owner) == str(actor.user_id)
