"""The ``revisit`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

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
    uvicorn.run(
        create_app(settings),
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

    async def run() -> None:
        settings = load_settings()
        await migrate(settings)
        await load_demo(settings, quiet=False)

    asyncio.run(run())
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

    cu = sub.add_parser("create-user", help="create a user (and its region if missing)")
    cu.add_argument("--username", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--role", required=True, choices=["rep", "manager", "admin"])
    cu.add_argument("--region")
    cu.add_argument("--display-name")
    cu.set_defaults(func=_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
