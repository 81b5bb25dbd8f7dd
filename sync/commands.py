"""Built-in commands (R-CMD-1, R-CMD-2): operations with an invariant only the server can keep.

Each handler validates everything before its first write and raises ``Rejection`` with a
documented code, so a rejected command changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync.buckets import visible
from sync.ids import canonical
from sync.messages import Rejection

if TYPE_CHECKING:
    from sync.engine import CommandHandler, WriteContext


def _uuid_arg(args: dict[str, Any], name: str) -> str:
    try:
        return canonical(args[name])
    except KeyError:
        raise Rejection("validation", f"{name}: is required") from None
    except (ValueError, TypeError):
        raise Rejection("validation", f"{name}: not a UUID") from None


def _only(args: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise Rejection("validation", f"{unknown[0]}: unknown argument")


async def reassign_customer(ctx: WriteContext, args: dict[str, Any]) -> list[str] | None:
    """R-CMD-1: move a customer and everything recorded about it to another rep at once."""
    actor = ctx.actor
    _only(args, {"customer_id", "to_rep_id"})
    customer_id = _uuid_arg(args, "customer_id")
    to_rep_id = _uuid_arg(args, "to_rep_id")
    if actor.role == "rep":
        raise Rejection("forbidden", "reps cannot reassign customers")
    customer = await ctx.tx.get("customers", customer_id)
    if customer is None or not visible(actor, "customers", customer):
        raise Rejection("not_found", "customer not found")
    rep = await ctx.tx.get("users", to_rep_id)
    if rep is None or rep["role"] != "rep" or not rep["active"] or rep["deleted"]:
        raise Rejection("invalid_target", "to_rep_id: not an active rep")
    if actor.role == "manager" and rep["region_id"] != str(actor.region_id):
        raise Rejection("out_of_scope", "to_rep_id: the rep is outside your region")
    new_owner, new_region = to_rep_id, rep["region_id"]
    if customer["owner_id"] == new_owner and customer["region_id"] == new_region:
        return None
    moved = [("customers", customer), *await ctx.tx.customer_rows(customer_id)]
    for table, row in moved:
        if table == "stock_movements":
            continue
        changes: dict[str, Any] = {"owner_id": new_owner, "region_id": new_region}
        if table == "planned_revisits" and row["status"] == "planned":
            changes["rep_id"] = new_owner
        await ctx.update_as_server(table, row["id"], changes)
    return None


async def adjust_stock(ctx: WriteContext, args: dict[str, Any]) -> list[str] | None:
    """R-CMD-2: a stock correction that may not take a rep's stock below zero."""
    actor = ctx.actor
    _only(args, {"rep_id", "item_id", "delta", "reason", "id"})
    rep_id = _uuid_arg(args, "rep_id")
    item_id = _uuid_arg(args, "item_id")
    delta = args.get("delta")
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0 or abs(delta) > 100000:
        raise Rejection("validation", "delta: must be a non-zero integer within ±100000")
    reason = args.get("reason", "adjust")
    if reason not in ("adjust", "gift", "restock"):
        raise Rejection("validation", f"reason: invalid value {reason!r}")
    row_id = _uuid_arg(args, "id") if "id" in args else None
    if actor.role == "rep":
        raise Rejection("forbidden", "reps cannot adjust stock")
    rep = await ctx.tx.get("users", rep_id)
    if rep is None or rep["role"] != "rep" or (
        actor.role == "manager" and rep["region_id"] != str(actor.region_id)
    ):
        raise Rejection("not_found", "rep not found")
    if await ctx.tx.get("gift_items", item_id) is None:
        raise Rejection("not_found", "item_id: no such gift item")
    if row_id is not None and await ctx.tx.get("stock_movements", row_id) is not None:
        return None
    if await ctx.tx.stock_level(rep_id, item_id) + delta < 0:
        raise Rejection("insufficient_stock", "the rep's stock of this item would go below zero")
    from sync.uuid7 import uuid7

    await ctx.create_as_server(
        "stock_movements",
        {
            "id": row_id or str(uuid7(int(ctx.now.timestamp() * 1000))),
            "rep_id": rep_id,
            "item_id": item_id,
            "delta": delta,
            "reason": reason,
            "owner_id": rep_id,
            "region_id": rep["region_id"],
        },
    )
    return None


BUILTIN_COMMANDS: dict[str, CommandHandler] = {
    "reassign_customer": reassign_customer,
    "adjust_stock": adjust_stock,
}

