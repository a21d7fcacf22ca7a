"""`python -m app backup` copies the embedded store while bookings go on; `restore` puts it
into a stopped data directory, and a server started on it has every booking acknowledged
before the backup began. Refusals: a data directory a store holds, a file that is not a
backup, and MONGODB_URI (MongoDB has tools of its own)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.store.embedded import EmbeddedStoreProcess
from tests.graphql_client import Api, GraphQL
from tests.serve_process import Serve, cli_env, run_cli
from tests.servers import ROOT

SLOTS = 12
APPOINTMENT = """query($id: ID!) { appointment(id: $id) { id status slot { id isBooked } } }"""


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def _backup(data_dir: Path, target: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "backup",
        str(target),
        cwd=ROOT,
        env=cli_env(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


async def test_backup_during_bookings_restores_every_acknowledged_one(tmp_path: Path) -> None:
    live_dir, restored_dir = tmp_path / "live", tmp_path / "restored"
    backup = tmp_path / "backups" / "aayulink.backup"
    server = Serve(live_dir, tmp_path / "live.log").start()
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            gql = GraphQL(http, server.url)
            api = Api(gql, await Api.login_admin(gql))
            clinic = await api.clinic()
            slots = [
                await api.slot(clinic, _clock(8 * 60 + 15 * i), _clock(8 * 60 + 15 * (i + 1)))
                for i in range(SLOTS)
            ]
            patients = [await api.patient() for _ in range(3)]
            acknowledged: list[tuple[float, str]] = []
            backup_started = asyncio.Event()

            async def book_all() -> None:
                for number, slot in enumerate(slots):
                    patient = patients[number % len(patients)]
                    _ = (await api.lock(slot["id"], patient)).data
                    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]
                    acknowledged.append((time.monotonic(), booked["id"]))
                    if number == SLOTS // 3:
                        backup_started.set()

            bookings = asyncio.create_task(book_all())
            await backup_started.wait()
            began = time.monotonic()
            code, output = await _backup(live_dir, backup)
            assert code == 0, output
            assert "backed up" in output
            await bookings
            before = [booking for at, booking in acknowledged if at < began]
            assert before and len(before) < SLOTS

            refused = run_cli("restore", str(backup), env=cli_env(live_dir))
            assert refused.returncode == 1
            assert "in use by a running store" in refused.stderr
            assert not list(live_dir.glob("*before-restore*")), "nothing was replaced"
            for _, booking in acknowledged[-2:]:  # made after the backup: still there
                found = await gql(APPOINTMENT, {"id": booking}, api.admin.token)
                assert found.data["appointment"]["id"] == booking
    finally:
        server.stop()

    restored = run_cli("restore", str(backup), env=cli_env(restored_dir))
    assert restored.returncode == 0, restored.stderr
    server = Serve(restored_dir, tmp_path / "restored.log").start()
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            gql = GraphQL(http, server.url)
            admin = await Api.login_admin(gql)
            for booking in before:
                found = (await gql(APPOINTMENT, {"id": booking}, admin.token)).data
                assert found["appointment"] is not None, booking
                assert found["appointment"]["slot"]["isBooked"] is True
    finally:
        server.stop()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not an SQLite database, only bytes" * 100)
    refused = run_cli("restore", str(junk), env=cli_env(tmp_path / "data"))
    assert refused.returncode == 1
    assert "is not an SQLite backup" in refused.stderr
    assert not (tmp_path / "data" / "aayulink.sqlite").exists()

    missing = run_cli("restore", str(tmp_path / "nowhere"), env=cli_env(tmp_path / "data"))
    assert missing.returncode == 1 and "no backup at" in missing.stderr


def test_backup_refuses_a_data_dir_without_a_store(tmp_path: Path) -> None:
    refused = run_cli("backup", str(tmp_path / "b.backup"), env=cli_env(tmp_path / "empty"))
    assert refused.returncode == 1
    assert "no embedded store at" in refused.stderr
    assert not (tmp_path / "b.backup").exists()


def test_with_mongodb_uri_the_commands_point_to_mongodump_and_mongorestore(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path / "data", MONGODB_URI="mongodb://127.0.0.1:1/?directConnection=true")
    backup = run_cli("backup", str(tmp_path / "b.backup"), env=env)
    assert backup.returncode != 0 and "mongodump" in backup.stderr
    restore = run_cli("restore", str(tmp_path / "b.backup"), env=env)
    assert restore.returncode != 0 and "mongorestore" in restore.stderr
    assert not (tmp_path / "b.backup").exists()
    assert not (tmp_path / "data").exists()


def test_a_second_store_cannot_open_a_data_dir_in_use(tmp_path: Path) -> None:
    first = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    first.start()
    try:
        second = EmbeddedStoreProcess("sqlite", tmp_path / "data")
        with pytest.raises(RuntimeError, match="in use by a running store"):
            second.start()
    finally:
        first.stop()
    again = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    again.start()  # the lock went with the store that held it
    again.stop()
