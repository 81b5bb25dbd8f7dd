"""The peers: pouchdb-server and RxDB's replication server, started from ``bench/peers``.

Each peer is driven two ways: by its own Node client (PouchDB replication, RxDB
``replicateServer``; see ``bench/peers/client.js``) and by plain HTTP from Python
(``_changes?include_docs=true`` / ``_bulk_docs``; ``/pull`` / ``/push``), the same
httpx client and msgspec decoding the Revisit driver uses.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.common import PEERS, Proc, free_port

NODE_HEAP = "--max-old-space-size=12288"


def ensure_installed() -> None:
    """``npm ci`` into bench/peers (never into the product) when node_modules is missing."""
    if (PEERS / "node_modules" / "rxdb-server").exists() and (PEERS / "node_modules" / "pouchdb-server").exists():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEERS, check=True)


# --- servers ------------------------------------------------------------------------------


class PouchServer:
    """pouchdb-server on its default LevelDB storage, or ``--in-memory``."""

    def __init__(self, workdir: Path, in_memory: bool) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.kind = "memory" if in_memory else "leveldb"
        workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            "node", NODE_HEAP, str(PEERS / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"),
            "--port", str(self.port), "--host", "127.0.0.1", "--no-stdout-logs", "--no-color",
            "--dir", str(workdir), "--config", str(workdir / "config.json"),
        ]
        if in_memory:
            argv.append("--in-memory")
        self.proc = Proc(f"pouchdb-{self.kind}", argv, cwd=workdir)
        self.proc.wait_http(self.base + "/")

    def db_url(self, db: str) -> str:
        return f"{self.base}/{db}"

    def create_db(self, db: str) -> None:
        httpx.delete(self.db_url(db), timeout=120)
        r = httpx.put(self.db_url(db), timeout=60)
        r.raise_for_status()

    def seed(self, db: str, docs: Iterable[dict[str, Any]], batch: int = 5000) -> int:
        """Fill through ``_bulk_docs`` (not timed)."""
        total = 0
        chunk: list[dict[str, Any]] = []
        with httpx.Client(timeout=600) as client:
            for doc in docs:
                chunk.append(pouch_doc(doc))
                if len(chunk) == batch:
                    _bulk(client, self.db_url(db), chunk)
                    total += len(chunk)
                    chunk = []
            if chunk:
                _bulk(client, self.db_url(db), chunk)
                total += len(chunk)
        return total

    def stop(self) -> None:
        self.proc.stop()


def _bulk(client: httpx.Client, url: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client.post(url + "/_bulk_docs", content=msgspec.json.encode({"docs": docs}),
                    headers={"content-type": "application/json"})
    r.raise_for_status()
    out: list[dict[str, Any]] = r.json()
    bad = [x for x in out if "error" in x]
    if bad:
        raise RuntimeError(f"_bulk_docs errors: {bad[:3]}")
    return out


def pouch_doc(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "id"}
    out["_id"] = doc["id"]
    return out


class RxdbServer:
    """rxdb-server (Express adapter) on RxDB's memory storage, optionally pre-seeded in-process."""

    def __init__(self, seed_file: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/visits/0"
        argv = ["node", NODE_HEAP, str(PEERS / "rxdb-server.js"), str(self.port)]
        if seed_file is not None:
            argv.append(str(seed_file))
        self.proc = Proc("rxdb-server", argv, cwd=PEERS)
        self.proc.wait_line('"ready":true', timeout=1800)

    def stop(self) -> None:
        self.proc.stop()


# --- the peers' own Node clients -----------------------------------------------------------


def node_client(job: dict[str, Any]) -> dict[str, list[float]]:
    """Run one job of ``bench/peers/client.js``; it times its own runs (warm-up dropped)."""
    res = subprocess.run(
        ["node", NODE_HEAP, str(PEERS / "client.js"), json.dumps(job)],
        cwd=PEERS, capture_output=True, text=True, timeout=3600,
    )
    if res.returncode != 0:
        raise RuntimeError(f"client.js {job['mode']} failed: {res.stderr[-2000:]}")
    out: dict[str, list[float]] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


# --- plain HTTP drivers ---------------------------------------------------------------------

_decode = msgspec.json.decode


Sink = list[tuple[bytes, int]] | None  # (decoded body, bytes on the wire) of each response


async def pouch_changes_pull(client: httpx.AsyncClient, db_url: str, page: int, since: Any = 0,
                             sink: Sink = None) -> tuple[int, Any, int]:
    """Follow ``_changes?include_docs=true`` page by page; (docs, last_seq, bytes read)."""
    replica: dict[str, Any] = {}
    nbytes = 0
    while True:
        r = await client.get(f"{db_url}/_changes", params={"include_docs": "true", "limit": page, "since": since})
        r.raise_for_status()
        nbytes += len(r.content)
        if sink is not None:
            sink.append((r.content, r.num_bytes_downloaded))
        body = _decode(r.content)
        for row in body["results"]:
            replica[row["id"]] = row.get("doc")
        since = body["last_seq"]
        if len(body["results"]) < page:
            return len(replica), since, nbytes


async def pouch_bulk_push(client: httpx.AsyncClient, db_url: str, docs: list[dict[str, Any]], batch: int) -> list[dict[str, Any]]:
    """POST ``_bulk_docs`` in batches; returns the docs with their new ``_rev``."""
    out: list[dict[str, Any]] = []
    for i in range(0, len(docs), batch):
        chunk = docs[i : i + batch]
        r = await client.post(db_url + "/_bulk_docs", content=msgspec.json.encode({"docs": chunk}),
                              headers={"content-type": "application/json"})
        r.raise_for_status()
        revs: dict[str, str] = {}
        for res in _decode(r.content):
            if "error" in res:
                raise RuntimeError(f"_bulk_docs: {res}")
            revs[res["id"]] = res["rev"]
        out.extend({**doc, "_rev": revs[doc["_id"]]} for doc in chunk)
    return out


async def rxdb_http_pull(client: httpx.AsyncClient, url: str, page: int,
                         checkpoint: dict[str, Any] | None = None, sink: Sink = None) -> tuple[int, dict[str, Any], int]:
    """Follow ``/pull?lwt&id&limit`` until a short page; (docs, checkpoint, bytes read)."""
    cp = checkpoint or {"id": "", "lwt": 0}
    replica: dict[str, Any] = {}
    nbytes = 0
    while True:
        r = await client.get(url + "/pull", params={"lwt": cp["lwt"], "id": cp["id"], "limit": page})
        r.raise_for_status()
        nbytes += len(r.content)
        if sink is not None:
            sink.append((r.content, r.num_bytes_downloaded))
        body = _decode(r.content)
        for doc in body["documents"]:
            replica[doc["id"]] = doc
        cp = body["checkpoint"]
        if len(body["documents"]) < page:
            return len(replica), cp, nbytes


async def rxdb_http_push(client: httpx.AsyncClient, url: str, rows: list[dict[str, Any]], batch: int) -> None:
    """POST ``/push`` batches of ``{newDocumentState, assumedMasterState?}`` (Express: 100 kB)."""
    for i in range(0, len(rows), batch):
        body = msgspec.json.encode(rows[i : i + batch])
        if len(body) > 100_000:
            raise RuntimeError(f"rxdb push batch of {len(body)} bytes exceeds Express's 100 kB limit")
        r = await client.post(url + "/push", content=body, headers={"content-type": "application/json"})
        r.raise_for_status()
        conflicts = _decode(r.content)
        if conflicts:
            raise RuntimeError(f"rxdb push returned {len(conflicts)} conflicts")


def rx_new(doc: dict[str, Any]) -> dict[str, Any]:
    return {"newDocumentState": {**doc, "_deleted": False}}


def rx_update(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {"newDocumentState": {**new, "_deleted": False}, "assumedMasterState": {**old, "_deleted": False}}
