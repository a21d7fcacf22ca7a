"""No secret reaches a log: not the access log, not a settings error (issue 8: 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, ApiServer

PASSWORD = "never-log-this-pw-1234"


@pytest.fixture(scope="module")
def chatty_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """Logs every request (uvicorn's access log at INFO)."""
    server = ApiServer(store_uri, db_name, env={"LOG_LEVEL": "INFO"}, log_level="info")
    server.start(log_dir)
    yield server
    server.stop()


async def test_a_get_querys_password_is_not_in_the_access_log(
    http: httpx.AsyncClient, chatty_server: ApiServer
) -> None:
    query = f'query {{ specialty(id: "{PASSWORD}") {{ id }} }}'
    await http.get(chatty_server.url, params={"query": query})
    marker = "/healthz?after-the-secret"
    await http.get(chatty_server.url.replace("/graphql", marker))
    logs = chatty_server.logs()
    assert "GET /healthz" in logs, "the access log is on, so the check below means something"
    assert "GET /graphql" in logs
    assert PASSWORD not in logs


def test_a_settings_error_names_the_variable_and_not_its_value() -> None:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "JWT_SECRET": "short-jwt-secret-value",
        "ADMIN_PASSWORD": PASSWORD,
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "export-schema", "--output", os.devnull],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "JWT_SECRET" in output
    assert "short-jwt-secret-value" not in output
    assert PASSWORD not in output
