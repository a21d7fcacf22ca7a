"""No published secret works where others can reach the server (issue 20: 6).

Without JWT_SECRET a random one is made and kept in the data directory; the published
development secret, the demo passwords and the demo data are refused beyond loopback,
whatever APP_ENV says.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from app.settings import DEFAULT_JWT_SECRET
from tests.graphql_client import REGISTER, GraphQL, unique
from tests.servers import ROOT, ApiServer

ME = "query { me { id } }"


def forged(user_id: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": "aayulink-booking",
        "aud": "aayulink-clients",
        "sub": user_id,
        "role": "ADMIN",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode(claims, DEFAULT_JWT_SECRET, algorithm="HS256")


async def test_without_jwt_secret_one_is_made_kept_and_the_published_one_signs_nothing(
    http: httpx.AsyncClient, store_uri: str, db_name: str, log_dir: Path, tmp_path: Path
) -> None:
    env = {
        "JWT_SECRET": "",
        "DATA_DIR": str(tmp_path),
        "APP_ENV": "development",
        "SEED_DEMO_DATA": "false",
    }
    server = ApiServer(store_uri, f"{db_name}_secret", env=env).start(log_dir)
    try:
        gql = GraphQL(http, server.url)
        email = f"{unique('kept')}@example.com"
        reply = await gql(
            REGISTER, {"input": {"email": email, "password": "pass-word-1", "name": "K"}}
        )
        token, user_id = reply.data["register"]["accessToken"], reply.data["register"]["user"]["id"]
        assert (await gql(ME, token=token)).data["me"]["id"] == user_id
        assert (await gql(ME, token=forged(user_id))).code == "UNAUTHENTICATED"
    finally:
        server.stop()
    kept = tmp_path / "jwt-secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert len(kept.read_text().strip()) >= 32
    again = ApiServer(store_uri, f"{db_name}_secret", env=env).start(log_dir)
    try:
        # The same secret after a restart: the session goes on.
        assert (await GraphQL(http, again.url)(ME, token=token)).data["me"]["id"] == user_id
    finally:
        again.stop()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param(
            {"APP_ENV": "test", "JWT_SECRET": DEFAULT_JWT_SECRET}, "JWT_SECRET", id="secret"
        ),
        pytest.param(
            {"APP_ENV": "test", "JWT_SECRET": "", "ADMIN_PASSWORD": "admin-demo-pass"},
            "ADMIN_PASSWORD",
            id="demo-admin-password",
        ),
        pytest.param({"APP_ENV": "development", "JWT_SECRET": ""}, "SEED_DEMO_DATA", id="demo"),
    ],
)
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serve_refuses_published_secrets_beyond_loopback(
    store_uri: str, tmp_path: Path, env: dict[str, str], named: str, host: str
) -> None:
    environment = {
        **os.environ,
        "MONGODB_URI": store_uri,
        "DATA_DIR": str(tmp_path),
        "HOST": host,
        **env,
    }
    environment.pop("SEED_DEMO_DATA", None)
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert named in done.stderr and "loopback" in done.stderr, done.stderr
    assert DEFAULT_JWT_SECRET not in done.stderr
