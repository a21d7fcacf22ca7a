"""The command line: serve, seed, create-admin, export-schema, embedded-store."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger("app.cli")
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def _with_store(work: Callable[[], Awaitable[object]]) -> object:
    """Run `work` against the configured store, starting the embedded one when none is set."""
    from app.settings import get_settings
    from app.store.connection import connect_store, disconnect_store
    from app.store.embedded import EmbeddedStoreProcess

    settings = get_settings()
    embedded = None
    uri = settings.mongodb_uri
    if not uri:
        embedded = EmbeddedStoreProcess(settings.embedded_store_engine, settings.data_dir)
        uri = embedded.start()

    async def run() -> object:
        await connect_store(uri, settings.mongodb_db)
        try:
            return await work()
        finally:
            await disconnect_store()

    try:
        return asyncio.run(run())
    finally:
        if embedded:
            embedded.stop()


def serve(workers: int) -> None:
    """Start the store once (unless MONGODB_URI), seed in development, then the API workers."""
    import uvicorn

    from app.request_id import configure_logging
    from app.settings import get_settings
    from app.store.embedded import EmbeddedStoreProcess

    settings = get_settings()
    configure_logging(settings.log_level)
    if workers > 1 and not settings.redis_url:
        log.warning(
            "%d workers without REDIS_URL: each worker's subscribers hear only its own events",
            workers,
        )
    embedded = None
    if not settings.mongodb_uri:
        embedded = EmbeddedStoreProcess(settings.embedded_store_engine, settings.data_dir)
        os.environ["MONGODB_URI"] = embedded.start()
        get_settings.cache_clear()
    try:
        if get_settings().seed_on_start:
            from app.domain.demo_data import seed_if_empty

            _with_store(seed_if_empty)
        uvicorn.run(
            "app.web.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level.lower(),
            ws_ping_interval=20,
            ws_ping_timeout=20,
            # Per-connection compression state costs ~40 KB an idle dashboard; events are small.
            ws_per_message_deflate=settings.ws_compression,
            # No "server: uvicorn" header: it tells an attacker what to look up.
            server_header=False,
            ws_max_size=settings.max_request_bytes,
        )
    finally:
        if embedded:
            embedded.stop()


def create_admin(email: str | None, password: str | None) -> None:
    from app.domain.auth.accounts import ensure_admin
    from app.settings import get_settings

    settings = get_settings()
    email = email or settings.admin_email or input("Admin email: ")
    password = password or settings.admin_password or getpass.getpass("Admin password: ")
    created = _with_store(lambda: ensure_admin(email, password))
    print("admin created" if created else "admin already exists")


def export_schema(path: Path) -> None:
    from app.schema.schema import build_schema

    path.write_text(build_schema().as_str() + "\n")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API (embedded store unless MONGODB_URI)")
    serve_cmd.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    commands.add_parser("seed", help="load idempotent demo data")
    admin_cmd = commands.add_parser("create-admin", help="create the admin account")
    admin_cmd.add_argument("--email")
    admin_cmd.add_argument("--password")
    export_cmd = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export_cmd.add_argument("--output", type=Path, default=SCHEMA_PATH)
    store_cmd = commands.add_parser("embedded-store", help="run the embedded wire-protocol store")
    store_cmd.add_argument("--engine", choices=["sqlite", "memory"], default="sqlite")
    store_cmd.add_argument("--data-dir", type=Path, default=Path("./data"))
    store_cmd.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.workers)
    elif args.command == "seed":
        from app.domain.demo_data import seed_demo_data

        _with_store(lambda: seed_demo_data(progress=lambda line: print(line, flush=True)))
    elif args.command == "create-admin":
        create_admin(args.email, args.password)
    elif args.command == "export-schema":
        export_schema(args.output)
    elif args.command == "embedded-store":
        from app.store.embedded import run_embedded_store

        asyncio.run(run_embedded_store(args.engine, args.data_dir, args.port))
    else:  # pragma: no cover - argparse refuses unknown commands
        sys.exit(2)
