"""Process settings read once from the environment, so every worker agrees."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    return Path(os.environ.get("REVISIT_DATA_DIR", ROOT / "var")).resolve()


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str | None = None  # None: created on first start and kept in the database
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    max_body_bytes: int = 2 * 1024 * 1024
    login_rate_per_minute: int = 10
    sync_rate_per_minute: int = 240  # per user, all devices and processes together
    run_scheduler: bool = True
    vapid_subject: str = "mailto:ops@revisit.example"
    push_allow_http: bool = False  # accept http:// push endpoints (a local push service in tests)
    static_dir: Path = field(default_factory=lambda: ROOT / "pwa" / "dist")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        """``sqlite:///rel/file.db`` is relative to the CWD, ``sqlite:////abs/file.db`` absolute."""
        if not self.database_url.startswith("sqlite:///"):
            raise ValueError(f"not a SQLite URL: {self.database_url!r}")
        return Path(self.database_url.removeprefix("sqlite:///")).resolve()


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def load_settings() -> Settings:
    data_dir = _default_data_dir()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'revisit.db'}"
    static = os.environ.get("REVISIT_STATIC_DIR")
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=os.environ.get("REVISIT_SECRET_KEY") or None,
        run_scheduler=_bool("REVISIT_RUN_SCHEDULER", True),
        vapid_subject=os.environ.get("REVISIT_VAPID_SUBJECT", "mailto:ops@revisit.example"),
        push_allow_http=_bool("REVISIT_PUSH_ALLOW_HTTP", False),
        login_rate_per_minute=int(os.environ.get("REVISIT_LOGIN_RATE_PER_MINUTE", "10")),
        sync_rate_per_minute=int(os.environ.get("REVISIT_SYNC_RATE_PER_MINUTE", "240")),
        **({"static_dir": Path(static).resolve()} if static else {}),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
