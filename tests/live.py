"""A real ``revisit serve`` process on 127.0.0.1 for fuzzing, crash and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Start, stop, SIGKILL and restart one server process against one database."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        static_dir: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_env = env or {}
        self.static_dir = static_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveServer:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REVISIT_DATA_DIR": str(self.data_dir),
            "REVISIT_SECRET_KEY": "live-test-secret-" + "y" * 32,
            "REVISIT_RUN_SCHEDULER": "0",
            "REVISIT_LOGIN_RATE_PER_MINUTE": "100000",
            "REVISIT_SYNC_RATE_PER_MINUTE": "100000",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        if self.static_dir is not None:
            env["REVISIT_STATIC_DIR"] = str(self.static_dir)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
             "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush — a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
