"""The command line against the test store: seed is idempotent, create-admin, export-schema."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from tests.servers import ROOT


def run_cli(*args: str, store_uri: str, db: str) -> str:
    env = {**os.environ, "MONGODB_URI": store_uri, "MONGODB_DB": db, "APP_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


async def test_seed_is_idempotent(store_uri: str) -> None:
    db = f"aayulink_cli_{uuid.uuid4().hex[:8]}"
    first = run_cli("seed", store_uri=store_uri, db=db)
    second = run_cli("seed", store_uri=store_uri, db=db)
    assert "slots added" in first
    assert "schedule 6/6" in first, first  # progress lines, not silence
    assert "0 slots added" in second
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri)
    try:
        database = client[db]
        assert await database.specialties.count_documents({}) == 4
        doctors = await database.doctors.find({}).to_list(None)
        assert len(doctors) == 6
        assert all(d.get("schedule") for d in doctors), "the seed declares schedules"
        assert len({d["timezone"] for d in doctors}) >= 3
        assert await database.date_overrides.count_documents({"ranges": []}) == 1  # a day off
        generated = await database.slots.count_documents({"source": "SCHEDULE"})
        assert generated == await database.slots.count_documents({}) > 1000
        furthest = max(d["horizon_end"] for d in doctors)
        assert furthest >= (datetime.now(UTC).date() + timedelta(days=59)).isoformat()
        roles = {u["role"] async for u in database.users.find({}, {"role": 1})}
        assert roles == {"ADMIN", "DOCTOR", "PATIENT"}
    finally:
        await client.close()


async def test_create_admin(store_uri: str) -> None:
    db = f"aayulink_cli_{uuid.uuid4().hex[:8]}"
    args = ("create-admin", "--email", "Boss@Example.com", "--password", "boss-password-1")
    assert "admin created" in run_cli(*args, store_uri=store_uri, db=db)
    assert "already exists" in run_cli(*args, store_uri=store_uri, db=db)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri)
    try:
        admin = await client[db].users.find_one({"email": "boss@example.com"})
        assert admin is not None and admin["role"] == "ADMIN"
        assert admin["password_hash"].startswith("$argon2")
    finally:
        await client.close()


def test_export_schema_writes_the_sdl(tmp_path: Path, store_uri: str) -> None:
    target = tmp_path / "schema.graphql"
    run_cli("export-schema", "--output", str(target), store_uri=store_uri, db="unused")
    assert target.read_text() == (ROOT / "schema.graphql").read_text()
