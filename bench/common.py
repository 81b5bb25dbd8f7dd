"""Shared benchmark plumbing: free ports, server subprocesses, medians, machine facts.

Benchmarks are not tests: nothing here asserts a time. Every figure is a median of
several runs after a warm-up, and comparisons are ratios taken in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS = BENCH / "peers"
DOC = ROOT / "docs" / "benchmarks.md"  # where the runs append their tables
VENV_BIN = ROOT / ".venv" / "bin"
PG_URL = os.environ.get("REVISIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def now_ms() -> float:
    return time.perf_counter() * 1000.0


@dataclass
class Timing:
    """Runs of one measurement (ms); the warm-up runs are already dropped."""

    runs: list[float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


async def measure(fn: Callable[[], Awaitable[float | None]], runs: int, warmup: int = 1) -> Timing:
    """Call ``fn`` warm-up + ``runs`` times; it returns its own ms or None to be timed whole."""
    out: list[float] = []
    for i in range(warmup + runs):
        t0 = now_ms()
        own = await fn()
        ms = own if own is not None else now_ms() - t0
        if i >= warmup:
            out.append(ms)
    return Timing(out)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) the process has used: less at the mercy of
    other work on the machine than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Proc:
    """A server subprocess on 127.0.0.1, stopped (by its own pid) when the bench ends."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_http(self, url: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code < 500:
                    return
            time.sleep(0.2)
        self.stop()  # the caller never gets the server, so nothing else would stop it
        raise RuntimeError(f"{self.name} did not start: {self.tail()}")

    def wait_line(self, marker: str, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.log_path.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            time.sleep(0.2)
        self.stop()  # the caller never gets the server, so nothing else would stop it
        raise RuntimeError(f"{self.name} did not get ready: {self.tail()}")

    def tail(self, n: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-n:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine_facts() -> dict[str, str]:
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pg = _version(["psql", PG_URL, "-Atc", "show server_version"])
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "node": _version(["node", "--version"]),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def git_commit() -> str:
    sha = _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True
    ).stdout.strip()
    return f"{sha}{' + uncommitted changes' if dirty else ''}"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name if sys.argv else "bench", *sys.argv[1:]])


def run_async(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]
