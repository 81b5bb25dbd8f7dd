"""Many devices at once (issue 7 item 5, issue 8 "Load"): N reps, each its own bucket.

Every simulated rep is a ``sync.client.Device`` over real HTTP (one shared connection
pool, async httpx). Before the clock starts each rep logs in and does its initial
sync. Then, for a bounded time, each rep loops: log a visit (a create in its outbox),
push, pull incrementally, verify checksums, wait a think time, again. Every HTTP
request's latency is recorded; any non-200 answer or exception is an error.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import data
from bench.common import cpu_seconds, now_ms
from bench.revisit import HttpTransport, check_device, http_client, login, new_device
from sync.client import Device


class TimedTransport(HttpTransport):
    """Records (endpoint, ms, status) of every call while ``recording`` is on."""

    def __init__(self, client: httpx.AsyncClient, token: str, samples: list[tuple[str, float, int]]) -> None:
        super().__init__(client, token)
        self.samples = samples
        self.recording = False

    async def call(self, device: Device, endpoint: str, body: bytes) -> tuple[int, bytes]:
        t0 = now_ms()
        status, raw = await super().call(device, endpoint, body)
        if self.recording:
            self.samples.append((endpoint, now_ms() - t0, status))
        return status, raw


@dataclass
class LoadResult:
    reps: int
    seconds: float
    think_s: float
    requests: int
    errors: int  # failed sync cycles (exceptions, rejected results, checksum mismatch)
    non200: int  # HTTP answers other than 200
    cycles: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    server_cpu: float = float("nan")  # the server's CPU time over the window, as a share of one core
    driver_cpu: float = float("nan")  # this load driver's (the 200 devices') CPU time, same unit
    # How late the driver's own event loop ran a 10 ms timer (p50, p99): a response that
    # arrives while the 200 devices' Python is busy waits about that long before its
    # latency is taken, so this much of a measured latency may be the driver's, not the server's.
    driver_lag_p50: float = float("nan")
    driver_lag_p99: float = float("nan")
    by_endpoint: dict[str, dict[str, float]] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


async def run_load(base: str, reps: list[tuple[str, str, str]], customers: int, seconds: float,
                   think_s: float, server_pid: int | None = None) -> LoadResult:
    """``reps``: (user id, username, region id), each with ``customers`` customers seeded.
    With ``server_pid`` the result also says how busy the server and the driver were: on
    one machine they share the cores, so a saturated driver shows up in the latencies."""
    samples: list[tuple[str, float, int]] = []
    errors: list[str] = []
    cycles = 0
    async with http_client(base, max_connections=len(reps), timeout=60.0) as client:
        sem = asyncio.Semaphore(8)

        async def prepare(rep: tuple[str, str, str]) -> tuple[Device, TimedTransport]:
            async with sem:
                token = await login(client, rep[1])
                transport = TimedTransport(client, token, samples)
                device = new_device(rep[1])
                await device.pull(transport)
                check_device(device)
                return device, transport

        prepared = await asyncio.gather(*(prepare(r) for r in reps))
        deadline = time.monotonic() + seconds

        async def rep_loop(i: int, device: Device, transport: TimedTransport) -> None:
            nonlocal cycles
            rng = random.Random(i)
            rep_id = reps[i][0]
            await asyncio.sleep(rng.uniform(0, think_s or 0.01))  # spread the first wave
            k = 0
            while time.monotonic() < deadline:
                doc = data.visit_record(k, rep_id, customers, salt=f"load-{device.client_id}")
                device.create("visits", data.visit_row(doc), row_id=doc["id"])
                k += 1
                try:
                    await device.push(transport)
                    await device.pull(transport)
                    check_device(device)
                    bad = [r for _, r in device.acked.values() if r.status != "applied"]
                    if bad:
                        raise RuntimeError(f"push result {bad[0]}")
                except Exception as exc:  # every failure is counted, never hidden
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    device.outbox.clear()
                cycles += 1
                if think_s:
                    await asyncio.sleep(rng.uniform(0.5 * think_s, 1.5 * think_s))

        lags: list[float] = []

        async def lag_probe() -> None:
            while time.monotonic() < deadline:
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append((time.perf_counter() - t - 0.01) * 1000)

        for _, transport in prepared:
            transport.recording = True
        t0, driver0 = time.monotonic(), time.process_time()
        server0 = cpu_seconds(server_pid) if server_pid else float("nan")
        await asyncio.gather(lag_probe(), *(rep_loop(i, d, t) for i, (d, t) in enumerate(prepared)))
        elapsed = time.monotonic() - t0
        driver_cpu = (time.process_time() - driver0) / elapsed
        server_cpu = (cpu_seconds(server_pid) - server0) / elapsed if server_pid else float("nan")

    lat = [ms for _, ms, _ in samples]
    non200 = sum(1 for _, _, st in samples if st != 200)
    by: dict[str, dict[str, Any]] = {}
    for ep in sorted({e for e, _, _ in samples}):
        vals = [ms for e, ms, _ in samples if e == ep]
        by[ep] = {"n": len(vals), "p50": _pct(vals, 0.5), "p95": _pct(vals, 0.95), "p99": _pct(vals, 0.99)}
    return LoadResult(
        reps=len(reps), seconds=elapsed, think_s=think_s, requests=len(samples),
        errors=len(errors), non200=non200, cycles=cycles, rps=len(samples) / elapsed if elapsed else 0.0,
        p50=_pct(lat, 0.5), p95=_pct(lat, 0.95), p99=_pct(lat, 0.99), max=max(lat, default=float("nan")),
        server_cpu=server_cpu, driver_cpu=driver_cpu, driver_lag_p50=_pct(lags, 0.5), driver_lag_p99=_pct(lags, 0.99),
        by_endpoint=by, error_samples=errors[:5],
    )
