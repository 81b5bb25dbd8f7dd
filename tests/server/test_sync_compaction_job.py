"""The scheduler's compaction job purges tombstones every active device has passed."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from server.tables import Note
from tests.server.world import World


async def _pull_to_end(client: Any, headers: dict[str, str], client_id: str) -> None:
    """Pull everything, then sync once more: a device's position counts once it has
    presented the cursor again, i.e. once it has surely stored the pages (R-PULL-6)."""
    body: dict[str, Any] = {"protocol": 1, "client_id": client_id, "cursor": None, "limit": 2000}
    more = True
    while more:
        body["clock"] = f"{int(time.time() * 1000):012x}-0000-{client_id}"
        page = (await client.post("/api/sync/pull", json=body, headers=headers)).json()
        body["cursor"] = page["cursor"]
        more = page["more"]
    body["clock"] = f"{int(time.time() * 1000):012x}-0000-{client_id}"
    assert (await client.post("/api/sync/pull", json=body, headers=headers)).status_code == 200


async def test_compaction_job_purges_tombstones_devices_have_seen(client: Any, world: World) -> None:
    from server.scheduler.jobs import compact_sync
    from server.sync.service import apply_mutations
    from sync.actor import Actor

    rob = world["rob"]
    actor = Actor(rob.id, "rep", world.north)
    customer, note = str(uuid.uuid4()), str(uuid.uuid4())
    results = await apply_mutations(actor, [
        {"kind": "create", "table": "customers", "id": customer, "row": {"name": "Kept", "tier": "B"}},
        {"kind": "create", "table": "notes", "id": note,
         "row": {"customer_id": customer, "kind": "note", "body": "typo"}},
    ])
    assert [r.status for r in results] == ["applied", "applied"]
    clocks = json.loads((await Note.select(Note.clocks).where(Note.id == note).first())["clocks"])
    [deleted] = await apply_mutations(actor, [
        {"kind": "put", "table": "notes", "id": note,
         "fields": {"deleted": {"value": True, "base": clocks.get("deleted")}}},
    ])
    assert deleted.status == "applied"
    assert await Note.exists().where(Note.id == note)
    # every device that holds the note's buckets has pulled past the tombstone
    await _pull_to_end(client, rob.headers, "rob-phone-1")
    await _pull_to_end(client, world["ann"].headers, "ann-tablet-1")
    await _pull_to_end(client, world["admin"].headers, "admin-desk-1")

    await compact_sync(None)  # type: ignore[arg-type]

    assert not await Note.exists().where(Note.id == note)
    stale = await client.post(
        "/api/sync/pull",
        json={"protocol": 1, "client_id": "rob-phone-1", "cursor": None, "limit": 10,
              "clock": f"{int(time.time() * 1000):012x}-0000-rob-phone-1"},
        headers=rob.headers,
    )
    assert stale.status_code == 200  # a fresh initial sync still works after compaction
