"""``sync/`` is a pure library: standard library, typing and msgspec only (STYLE 1)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"server", "litestar", "piccolo", "apscheduler", "pywebpush", "asyncpg", "aiosqlite", "httpx"}
SYNC = Path(__file__).resolve().parents[2] / "sync"


def test_sync_imports_nothing_forbidden() -> None:
    offenders = []
    for path in sorted(SYNC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(SYNC.parent)}: {name}")
    assert not offenders, offenders
