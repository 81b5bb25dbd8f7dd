"""Read-ahead for paged pulls: the next page is made while the device handles this one.

An initial sync is a chain of pull requests, each waiting for the previous answer's
cursor, and while a device decodes and stores a page the server would sit idle. So when
a page ends with ``more``, the engine starts making the next one at once and keeps it for
that device (``SyncEngine(read_ahead=N)``: at most N devices' pages are kept). The
device's next request gets it if it carries that cursor and limit, comes from the same
user and client, and the database has not changed since: the page's high-water mark and
epoch are compared with the current ones (one statement), and every write of synced data
takes a new seq (R-CUR-1), so any write in between sends the request down the normal
path. A page that failed to be made is simply not kept: the request then makes it itself
and answers whatever error that gives.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass

from sync.background import Background
from sync.messages import PullResponse
from sync.store import ClientState

Key = tuple[str, str, str, int]
"""(user id, client id, cursor, limit) of the request a page answers."""


@dataclass(frozen=True, slots=True)
class Page:
    """A pull's answer and the snapshot it was read from."""

    response: PullResponse
    buckets: list[str]
    high: int  # the high-water mark it was read at (R-CUR-2)
    epoch: str
    position: int  # the lowest position the request asked from (R-PULL-6)
    client: ClientState | None  # the client's record in that snapshot


class ReadAhead:
    """The next page of up to ``capacity`` devices, each being made or made."""

    def __init__(self, capacity: int, tasks: Background) -> None:
        self.capacity = capacity
        self.tasks = tasks  # the engine's: its pages being made are among them
        self._pages: OrderedDict[str, tuple[Key, asyncio.Task[Page | None]]] = OrderedDict()
        self.hits = 0  # requests answered with a page made ahead
        self.stale = 0  # pages made ahead and dropped: the database changed before they were asked for

    def start(self, key: Key, make: Awaitable[Page]) -> None:
        """Begin making the page for ``key``; it replaces what was kept for that client."""
        client = key[1]
        self._pages.pop(client, None)
        while len(self._pages) >= self.capacity:
            self._pages.popitem(last=False)  # the oldest; its task finishes unobserved
        self._pages[client] = (key, self.tasks.start(_quietly(make)))

    async def take(self, key: Key) -> Page | None:
        """The page made for ``key`` (waiting for it if still being made), else None.
        What is kept for the client is dropped either way: a page is given once."""
        kept = self._pages.pop(key[1], None)
        if kept is None or kept[0] != key:
            return None
        return await asyncio.shield(kept[1])


async def _quietly(make: Awaitable[Page]) -> Page | None:
    """A page made ahead that fails is not kept; the request will make it and see why."""
    try:
        return await make
    except Exception:  # any failure: the request path makes the page and reports it
        return None
