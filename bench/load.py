"""Many devices at once (issue 7 item 5, issue 8 "Load"): N reps, each its own bucket.

Every simulated rep is a ``sync.client.Device`` over real HTTP (one shared connection
pool, async httpx). Before the clock starts each rep logs in and does its initial
sync. Then, for a bounded time, each rep loops: log a visit (a create in its outbox),
push, pull incrementally, verify checksums, wait a think time, again. Every HTTP
request's latency is recorded; any non-200 answer or exception is an error.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import data
from bench.common import ROOT, cpu_seconds, now_ms
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
    driver_cpu: float = float("nan")  # the load drivers' (the 200 devices') CPU time, same unit, all processes
    # How late the driver's own event loop ran a 10 ms timer (p50, p99): a response that
    # arrives while the 200 devices' Python is busy waits about that long before its
    # latency is taken, so this much of a measured latency may be the driver's, not the server's.
    driver_lag_p50: float = float("nan")
    driver_lag_p99: float = float("nan")
    by_endpoint: dict[str, dict[str, float]] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    driver_processes: int = 1


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


@dataclass
class _Drive:
    """What one driver process measured over its timed window."""

    samples: list[tuple[str, float, int]]  # (endpoint, ms, status)
    errors: list[str]
    cycles: int
    lags: list[float]
    elapsed: float
    driver_cpu: float  # share of one core


async def _drive(base: str, reps: list[tuple[str, str, str]], customers: int, seconds: float, think_s: float,
                 start: Any = None) -> _Drive:
    """The devices of ``reps`` in this process: each logs in and does its initial sync;
    then ``start()`` (if given) is awaited and the timed window of ``seconds`` runs."""
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
        if start is not None:
            await start()
        deadline = time.monotonic() + seconds

        async def rep_loop(i: int, device: Device, transport: TimedTransport) -> None:
            nonlocal cycles
            rng = random.Random(reps[i][0])
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
        await asyncio.gather(lag_probe(), *(rep_loop(i, d, t) for i, (d, t) in enumerate(prepared)))
        elapsed = time.monotonic() - t0
    return _Drive(samples, errors, cycles, lags, elapsed, (time.process_time() - driver0) / elapsed)


async def _drive_in_processes(base: str, reps: list[tuple[str, str, str]], customers: int, seconds: float,
                              think_s: float, processes: int, server_pid: int | None) -> tuple[list[_Drive], float, float]:
    """``_drive`` in ``processes`` child processes (``python -m bench.load``), the reps
    dealt among them; all start their timed windows together. (drives, elapsed, server CPU)."""
    children = []
    for k in range(processes):
        part = reps[k::processes]
        children.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.load", base, json.dumps(part), str(customers), str(seconds), str(think_s),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT))
    try:
        for child in children:  # each has logged its devices in and done their initial syncs
            assert child.stdout is not None
            if (await child.stdout.readline()).strip() != b"ready":
                raise RuntimeError("a load driver process failed before the timed window")
        t0 = time.monotonic()
        server0 = cpu_seconds(server_pid) if server_pid else float("nan")
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        outputs = [await child.communicate() for child in children]
        elapsed = time.monotonic() - t0
        server_cpu = (cpu_seconds(server_pid) - server0) / elapsed if server_pid else float("nan")
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
    drives = []
    for child, (out, _) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise RuntimeError(f"a load driver process exited with {child.returncode}")
        raw = json.loads(out)
        drives.append(_Drive([tuple(x) for x in raw["samples"]], raw["errors"], raw["cycles"], raw["lags"],
                             raw["elapsed"], raw["driver_cpu"]))
    return drives, elapsed, server_cpu


async def run_load(base: str, reps: list[tuple[str, str, str]], customers: int, seconds: float,
                   think_s: float, server_pid: int | None = None, processes: int = 1) -> LoadResult:
    """``reps``: (user id, username, region id), each with ``customers`` customers seeded.
    With ``server_pid`` the result also says how busy the server and the driver were: on
    one machine they share the cores, so a saturated driver shows up in the latencies.
    ``processes`` > 1 runs the devices in that many driver processes, so one Python
    process's event loop is not what the latencies measure."""
    if processes > 1:
        drives, elapsed, server_cpu = await _drive_in_processes(
            base, reps, customers, seconds, think_s, processes, server_pid)
    else:
        server0 = float("nan")

        async def start() -> None:  # the server's CPU from the timed window on, as the processes' path
            nonlocal server0
            server0 = cpu_seconds(server_pid) if server_pid else float("nan")

        drives = [await _drive(base, reps, customers, seconds, think_s, start)]
        elapsed = drives[0].elapsed
        server_cpu = (cpu_seconds(server_pid) - server0) / elapsed if server_pid else float("nan")
    samples = [x for d in drives for x in d.samples]
    errors = [e for d in drives for e in d.errors]
    lags = [x for d in drives for x in d.lags]
    lat = [ms for _, ms, _ in samples]
    non200 = sum(1 for _, _, st in samples if st != 200)
    by: dict[str, dict[str, Any]] = {}
    for ep in sorted({e for e, _, _ in samples}):
        vals = [ms for e, ms, _ in samples if e == ep]
        by[ep] = {"n": len(vals), "p50": _pct(vals, 0.5), "p95": _pct(vals, 0.95), "p99": _pct(vals, 0.99)}
    return LoadResult(
        reps=len(reps), seconds=elapsed, think_s=think_s, requests=len(samples),
        errors=len(errors), non200=non200, cycles=sum(d.cycles for d in drives),
        rps=len(samples) / elapsed if elapsed else 0.0,
        p50=_pct(lat, 0.5), p95=_pct(lat, 0.95), p99=_pct(lat, 0.99), max=max(lat, default=float("nan")),
        server_cpu=server_cpu, driver_cpu=sum(d.driver_cpu for d in drives),
        driver_lag_p50=_pct(lags, 0.5), driver_lag_p99=_pct(lags, 0.99),
        by_endpoint=by, error_samples=errors[:5], driver_processes=len(drives),
    )


async def _child(base: str, reps: list[tuple[str, str, str]], customers: int, seconds: float, think_s: float) -> None:
    """A driver process of ``_drive_in_processes``: "ready" once prepared, then waits for "go"."""
    loop = asyncio.get_running_loop()

    async def start() -> None:
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)

    drive = await _drive(base, reps, customers, seconds, think_s, start)
    sys.stdout.write(json.dumps({"samples": drive.samples, "errors": drive.errors, "cycles": drive.cycles,
                                 "lags": drive.lags, "elapsed": drive.elapsed, "driver_cpu": drive.driver_cpu}))


if __name__ == "__main__":
    _base, _reps, _customers, _seconds, _think = sys.argv[1:6]
    asyncio.run(_child(_base, [tuple(r) for r in json.loads(_reps)], int(_customers), float(_seconds), float(_think)))
