"""The ``revisit`` command line, run as a user runs it: subprocesses on a temp SQLite file.

Also pins the Dockerfile's structure, since no Docker engine runs in CI to build it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REVISIT = Path(sys.executable).with_name("revisit")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def revisit(tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REVISIT_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'revisit.db'}",
        "REVISIT_DATA_DIR": str(tmp_path / "data"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(REVISIT), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_migrate_creates_the_schema(revisit: Run, tmp_path: Path) -> None:
    first = revisit("migrate")
    assert first.returncode == 0, first.stderr
    assert "database is up to date" in first.stdout
    again = revisit("migrate")
    assert again.returncode == 0 and "database is up to date" in again.stdout
    assert _count(tmp_path / "revisit.db", "customers") == 0


def test_create_user_and_duplicates(revisit: Run, tmp_path: Path) -> None:
    ok = revisit(
        "create-user",
        "--username",
        "bob",
        "--password",
        "pw-123456",
        "--role",
        "rep",
        "--region",
        "North",
    )
    assert ok.returncode == 0, ok.stderr
    assert "created rep bob in region North" in ok.stdout
    dup = revisit(
        "create-user",
        "--username",
        "bob",
        "--password",
        "other",
        "--role",
        "rep",
        "--region",
        "North",
    )
    assert dup.returncode == 2
    assert "user 'bob' already exists" in dup.stderr
    assert "Traceback" not in dup.stderr
    no_region = revisit("create-user", "--username", "ann", "--password", "pw", "--role", "manager")
    assert no_region.returncode == 2 and "a manager needs a region" in no_region.stderr
    bad_role = revisit("create-user", "--username", "x", "--password", "pw", "--role", "boss")
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    admin = revisit("create-user", "--username", "root", "--password", "pw", "--role", "admin")
    assert admin.returncode == 0, admin.stderr
    assert _count(tmp_path / "revisit.db", "users") == 2
    assert _count(tmp_path / "revisit.db", "regions") == 1


def test_demo_loads_once_prints_logins_and_backs_up(revisit: Run, tmp_path: Path) -> None:
    db = tmp_path / "revisit.db"
    first = revisit("demo")
    assert first.returncode == 0, first.stderr
    assert "demo data loaded" in first.stdout
    assert "Demo logins (password for all: revisit-demo)" in first.stdout
    for username in ("admin", "xu.ming", "li.wei", "wu.hao"):
        assert re.search(rf"^\s+{re.escape(username)}\s", first.stdout, re.M), username
    customers = _count(db, "customers")
    assert 550 <= customers <= 650

    second = revisit("demo")
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout and "li.wei" in second.stdout
    assert _count(db, "customers") == customers

    out = tmp_path / "backup.db"
    backup = revisit("backup", "--output", str(out))
    assert backup.returncode == 0, backup.stderr
    assert f"backup written and verified: {out}" in backup.stdout
    assert _count(out, "customers") == customers
    twice = revisit("backup", "--output", str(out))
    assert twice.returncode == 2 and "already exists" in twice.stderr

    default = revisit("backup")
    assert default.returncode == 0, default.stderr
    assert len(list((tmp_path / "data" / "backups").glob("revisit-*.db"))) == 1

    restored = revisit("restore", "--input", str(out))
    assert restored.returncode == 0, restored.stderr
    assert "new sync epoch" in restored.stdout and "devices will re-sync" in restored.stdout
    assert _count(db, "customers") == customers
    missing = revisit("restore", "--input", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "no backup at" in missing.stderr


def test_demo_refuses_a_database_in_use(revisit: Run, tmp_path: Path) -> None:
    assert (
        revisit(
            "create-user", "--username", "boss", "--password", "pw", "--role", "admin"
        ).returncode
        == 0
    )
    result = revisit("demo")
    assert result.returncode == 1
    assert "only loaded into an empty database" in result.stdout
    assert _count(tmp_path / "revisit.db", "customers") == 0


# --- Dockerfile -----------------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_structure() -> None:
    steps = _dockerfile()
    froms = [args for op, args in steps if op == "FROM"]
    assert len(froms) == 2, froms
    assert re.match(r"node:20[.\w-]* AS pwa$", froms[0])
    assert re.match(r"python:3\.11-slim AS runtime$", froms[1])
    runtime = steps[[i for i, (op, _) in enumerate(steps) if op == "FROM"][1] :]
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "npm ci" in runs and "npm run build" in runs
    assert "pip install -c constraints.txt ." in runs
    assert any(
        op == "COPY" and args.startswith("--from=pwa ") and "dist" in args for op, args in runtime
    )
    env = " ".join(args for op, args in runtime if op == "ENV")
    assert "REVISIT_DATA_DIR=/data" in env and "REVISIT_STATIC_DIR=" in env
    assert ("VOLUME", '["/data"]') in runtime
    users = [args for op, args in runtime if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in runtime
    health = [args for op, args in runtime if op == "HEALTHCHECK"]
    assert len(health) == 1 and "/api/health" in health[0] and "curl" not in health[0]
    cmd = [args for op, args in runtime if op == "CMD"]
    assert cmd == ['["revisit", "serve", "--host", "0.0.0.0", "--port", "8000"]']
    # The static dir the image sets is where the PWA build is copied to.
    static = re.search(r"REVISIT_STATIC_DIR=(\S+)", env)
    assert static and any(args.endswith(static.group(1)) for op, args in runtime if op == "COPY")


def test_dockerignore_keeps_the_context_small_but_complete() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "pwa/node_modules", ".git", "var"} <= ignored
    for needed in ("server", "sync", "pwa", "pyproject.toml", "constraints.txt", "README.md"):
        assert needed not in ignored and (ROOT / needed).exists(), needed


def test_healthcheck_command_is_valid_python() -> None:
    health = next(args for op, args in _dockerfile() if op == "HEALTHCHECK")
    code = re.search(r'"-c", "(.*)"\]$', health)
    assert code is not None
    compile(code.group(1), "HEALTHCHECK", "exec")
