"""The command line: serve, seed, create-admin, export-schema, backup, restore, embedded-store."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import signal
import sys
import tempfile
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
        embedded = EmbeddedStoreProcess(
            settings.embedded_store_engine,
            settings.data_dir,
            synchronous=settings.sqlite_synchronous,
        )
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
    """Start the store once (unless MONGODB_URI), seed in development, then the API workers.

    On SIGTERM the workers stop taking connections, finish what is in flight (within
    SHUTDOWN_GRACE_SECONDS), close WebSockets with 1001, and only then is the store stopped.
    A store that dies is restarted (app/store/supervisor.py); one that cannot come back, or a
    worker that cannot start, ends serve with a non-zero code.
    """
    # Before anything imports prometheus_client: it picks its storage when first imported.
    metrics_dir = tempfile.mkdtemp(prefix="aayulink-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _serve(workers)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(workers: int) -> None:
    import uvicorn

    from app.observability.logs import configure_logging
    from app.settings import get_settings
    from app.store.embedded import EmbeddedStoreProcess
    from app.store.supervisor import STORE_LOST_EXIT_CODE, StoreSupervisor
    from app.web.server import run, shutdown_grace

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    if workers > 1 and not settings.redis_url:
        log.warning(
            "%d workers without REDIS_URL: each worker's subscribers hear only its own events",
            workers,
        )
    supervisor = None
    if not settings.mongodb_uri:
        supervisor = StoreSupervisor(
            EmbeddedStoreProcess(
                settings.embedded_store_engine,
                settings.data_dir,
                synchronous=settings.sqlite_synchronous,
            ),
            attempts=settings.store_restart_attempts,
            first_delay_seconds=settings.store_restart_backoff_seconds,
            # uvicorn's own SIGTERM handling, single worker or many: drain, then stop.
            on_give_up=lambda: os.kill(os.getpid(), signal.SIGTERM),
        )
        os.environ["MONGODB_URI"] = supervisor.start()
        get_settings.cache_clear()
    try:
        from app.domain.auth.signing_secret import signing_secret

        signing_secret()  # made once here, before the workers read it
        if get_settings().seed_on_start:
            from app.domain.demo_data import seed_if_empty

            _with_store(seed_if_empty)
        if workers > 1:
            from app.observability import metrics

            metrics.forget_this_process()
        run(
            uvicorn.Config(
                "app.web.app:create_app",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                log_level=settings.log_level.lower(),
                # JSON logs: uvicorn's loggers go through our handler instead of its own.
                log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
                ws_ping_interval=20,
                ws_ping_timeout=20,
                # Per-connection compression state costs ~40 KB an idle dashboard; events are small.
                ws_per_message_deflate=settings.ws_compression,
                # No "server: uvicorn" header: it tells an attacker what to look up.
                server_header=False,
                ws_max_size=settings.max_request_bytes,
                timeout_graceful_shutdown=shutdown_grace(settings),
            )
        )
    finally:
        if supervisor:
            supervisor.stop()
            log.info("store stopped")
            if supervisor.gave_up:
                # Exits from `finally` on purpose: a worker that failed to start while the
                # store was gone (exit 3 on its way out) failed because of it; 4 says why.
                print(
                    f"serve stopped: the embedded store died and could not be restarted on "
                    f"{settings.data_dir} after {settings.store_restart_attempts} attempts "
                    "(see the log)",
                    file=sys.stderr,
                )
                sys.exit(STORE_LOST_EXIT_CODE)


def create_admin(email: str | None, password: str | None) -> None:
    from app.domain.auth.accounts import ensure_admin
    from app.settings import get_settings

    settings = get_settings()
    email = email or settings.admin_email or input("Admin email: ")
    password = password or settings.admin_password or getpass.getpass("Admin password: ")
    created = _with_store(lambda: ensure_admin(email, password))
    print("admin created" if created else "admin already exists")


def _embedded_data_dir(command: str, native_tool: str) -> Path:
    """The embedded store's data directory, or exit: a MongoDB server has tools of its own."""
    from app.settings import get_settings

    settings = get_settings()
    if settings.mongodb_uri:
        print(
            f"MONGODB_URI is set: {command} covers only the embedded store; "
            f"use MongoDB's own tools ({native_tool}) for that database",
            file=sys.stderr,
        )
        sys.exit(2)
    if settings.embedded_store_engine != "sqlite":
        print(f"EMBEDDED_STORE_ENGINE=memory keeps nothing on disk to {command}", file=sys.stderr)
        sys.exit(2)
    return settings.data_dir


def backup(destination: Path) -> None:
    from app.store.backup import BackupError, back_up

    data_dir = _embedded_data_dir("backup", "mongodump")
    try:
        size = back_up(data_dir, destination)
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"backed up {data_dir} to {destination} ({size} bytes)")


def restore(source: Path) -> None:
    from app.store.backup import BackupError, restore_into
    from app.store.data_dir_lock import DataDirInUse

    data_dir = _embedded_data_dir("restore", "mongorestore")
    try:
        kept = restore_into(source, data_dir)
    except (BackupError, DataDirInUse) as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"restored {source} into {data_dir}")
    if kept is not None:
        print(f"the store it replaced is kept at {kept}")


def export_schema(path: Path) -> None:
    from app.api import build_schema

    path.write_text(build_schema().as_str() + "\n")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API (embedded store unless MONGODB_URI)")
    serve_cmd.add_argument("--workers", type=int, help="API processes (default: WORKERS, 1)")
    commands.add_parser("seed", help="load idempotent demo data")
    admin_cmd = commands.add_parser("create-admin", help="create the admin account")
    admin_cmd.add_argument("--email")
    admin_cmd.add_argument("--password")
    export_cmd = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export_cmd.add_argument("--output", type=Path, default=SCHEMA_PATH)
    backup_cmd = commands.add_parser(
        "backup", help="copy the embedded store to FILE while it serves"
    )
    backup_cmd.add_argument("file", type=Path)
    restore_cmd = commands.add_parser(
        "restore", help="replace the (stopped) embedded store with the backup FILE"
    )
    restore_cmd.add_argument("file", type=Path)
    store_cmd = commands.add_parser("embedded-store", help="run the embedded wire-protocol store")
    store_cmd.add_argument("--engine", choices=["sqlite", "memory"], default="sqlite")
    store_cmd.add_argument("--data-dir", type=Path, default=Path("./data"))
    store_cmd.add_argument("--port", type=int, default=0)
    store_cmd.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    args = parser.parse_args(argv)

    if args.command == "serve":
        from app.settings import SettingsError, get_settings

        try:
            workers = get_settings().workers if args.workers is None else args.workers
        except SettingsError as exc:  # a refusal to start, said in one line, not a traceback
            print(f"serve: {exc}", file=sys.stderr)
            sys.exit(2)
        serve(workers)
    elif args.command == "seed":
        from app.domain.demo_data import seed_demo_data

        _with_store(lambda: seed_demo_data(progress=lambda line: print(line, flush=True)))
    elif args.command == "create-admin":
        create_admin(args.email, args.password)
    elif args.command == "export-schema":
        export_schema(args.output)
    elif args.command == "backup":
        backup(args.file)
    elif args.command == "restore":
        restore(args.file)
    elif args.command == "embedded-store":
        from app.store.embedded import run_embedded_store

        asyncio.run(run_embedded_store(args.engine, args.data_dir, args.port, args.synchronous))
    else:  # pragma: no cover - argparse refuses unknown commands
        sys.exit(2)
