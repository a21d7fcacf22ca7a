"""The operations settings refuse bad values at start-up, naming the variable, not its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serve_process import cli_env, run_cli


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOG_FORMAT", "xml-lines-please"),
        ("SHUTDOWN_GRACE_SECONDS", "-12345"),
        ("READINESS_TIMEOUT_SECONDS", "98765"),
        ("METRICS_ENABLED", "sometimes-secret-ish"),
        ("REDIS_TIMEOUT_SECONDS", "-4321"),
        ("REDIS_TIMEOUT_SECONDS", "86421"),
        ("REDIS_TIMEOUT_SECONDS", "a-while-ish"),
        ("STORE_RESTART_ATTEMPTS", "-54321"),
        ("STORE_RESTART_ATTEMPTS", "many-times-over"),
        ("STORE_RESTART_BACKOFF_SECONDS", "-0.75"),
        ("STORE_RESTART_BACKOFF_SECONDS", "86400"),
        ("STORE_RETRY_AFTER_SECONDS", "-3"),
        ("STORE_RETRY_AFTER_SECONDS", "soon-ish-please"),
        # Shorter than two sweeps (1 s by default): the holder would lose it between renewals.
        ("HOUSEKEEPING_LEASE_SECONDS", "1.75"),
        ("HOUSEKEEPING_LEASE_SECONDS", "-4321"),
        ("WORKERS", "-4321"),
        ("WORKERS", "a-few-workers-ish"),
        ("SQLITE_SYNCHRONOUS", "mostly-durable-ish"),
        ("PASSWORD_HASH_COST", "free-of-charge-ish"),
        ("NOTIFICATIONS_ENABLED", "only-the-important-ones-ish"),
    ],
)
def test_serve_refuses_a_bad_operations_setting(tmp_path: Path, variable: str, value: str) -> None:
    refused = run_cli("serve", env=cli_env(tmp_path / "data", **{variable: value}))
    assert refused.returncode != 0
    assert f"invalid settings: {variable}" in refused.stderr
    assert value not in refused.stderr
    assert not (tmp_path / "data").exists(), "nothing started, nothing written"


def test_cheap_password_hashes_are_refused_outside_tests(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", APP_ENV="development", PASSWORD_HASH_COST="cheapest")
    refused = run_cli("serve", env=env)
    assert refused.returncode != 0
    assert "PASSWORD_HASH_COST other than standard is for tests only" in refused.stderr
    assert not (tmp_path / "data").exists(), "nothing started, nothing written"
