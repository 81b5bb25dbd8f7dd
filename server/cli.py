"""The ``revisit`` command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from server.settings import load_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.migrate import migrate

    settings = load_settings()
    asyncio.run(migrate(settings))
    if args.demo:
        from server.demo import load_demo

        asyncio.run(load_demo(settings, quiet=False))
    url = f"http://{args.host}:{args.port}"
    print(f"Revisit is running at {url}  (database: {_describe(settings.database_url)})", flush=True)
    app = create_app(settings)
    # Everything made so far (modules, the app, its routes and types: most of the heap) lives
    # as long as the process: out of the collector's way, a full collection scans only what
    # requests make, instead of pausing every request for 60-100 ms each time it runs.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=True,
        server_header=False,
    )
    return 0


def _describe(url: str) -> str:
    if url.startswith("postgres"):
        return url.split("@")[-1]
    return url


def _migrate(args: argparse.Namespace) -> int:
    from server.migrate import migrate

    asyncio.run(migrate(load_settings(), quiet=False))
    print("database is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from server.demo import load_demo
    from server.migrate import migrate

    async def run() -> bool:
        settings = load_settings()
        await migrate(settings)
        return (await load_demo(settings, quiet=False)).ok

    return 0 if asyncio.run(run()) else 1


def _backup(args: argparse.Namespace) -> int:
    from server.backup import BackupError, backup

    try:
        result = backup(load_settings(), args.output)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"backup written and verified: {result.path} ({result.size} bytes)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from server.backup import BackupError, restore

    try:
        result = restore(load_settings(), args.input)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.safety_copy:
        print(f"the previous database was saved to {result.safety_copy}")
    print(f"restored {result.source}; new sync epoch {result.epoch}: devices will re-sync")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from server.migrate import migrate
    from server.users import create_user, ensure_region

    async def run() -> None:
        settings = load_settings()
        await migrate(settings)
        region_id = await ensure_region(args.region) if args.region else None
        await create_user(args.username, args.password, args.role, region_id, args.display_name)

    try:
        asyncio.run(run())
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if "unique" in str(exc).lower():
            print(f"error: user {args.username!r} already exists", file=sys.stderr)
            return 2
        raise
    print(f"created {args.role} {args.username}" + (f" in region {args.region}" if args.region else ""))
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from datetime import datetime

    from server.scheduler.process import run

    now = None
    if args.now and not args.once:
        print("error: --now only makes sense with --once", file=sys.stderr)
        return 2
    if args.now:
        now = datetime.fromisoformat(args.now)
        if now.tzinfo is None:
            print("error: --now needs a UTC offset, e.g. 2026-03-09T00:00:00+00:00", file=sys.stderr)
            return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    return asyncio.run(run(load_settings(), once=args.once, now=now))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="revisit", description="Revisit field sales server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve the API and the PWA")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load demo data first if the database is empty")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)

    mig = sub.add_parser("migrate", help="apply pending database migrations")
    mig.set_defaults(func=_migrate)

    demo = sub.add_parser("demo", help="fill an empty database with demo data")
    demo.set_defaults(func=_demo)

    bk = sub.add_parser("backup", help="write a verified backup (SQLite online backup or pg_dump)")
    bk.add_argument("--output", type=Path, help="file or directory (default: <data dir>/backups/)")
    bk.set_defaults(func=_backup)

    rs = sub.add_parser("restore", help="replace the database with a backup (stop the servers first)")
    rs.add_argument("--input", required=True, type=Path, help="a file written by revisit backup")
    rs.set_defaults(func=_restore)

    cu = sub.add_parser("create-user", help="create a user (and its region if missing)")
    cu.add_argument("--username", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--role", required=True, choices=["rep", "manager", "admin"])
    cu.add_argument("--region")
    cu.add_argument("--display-name")
    cu.set_defaults(func=_create_user)
    sch = sub.add_parser("scheduler", help="run the reminder jobs in this process (not in serve)")
    sch.add_argument("--once", action="store_true", help="one sweep (plan and send what is due), then exit")
    sch.add_argument("--now", help="with --once: the time to sweep at (ISO 8601 with offset)")
    sch.add_argument("--log-level", default="info")
    sch.set_defaults(func=_scheduler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
