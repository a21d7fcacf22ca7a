"""Every setting the service reads, from environment variables only.

Each is documented in docs/operations-and-settings.md.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from limits import parse
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict
from strawberry.http.websocket_origin import normalize_allowed_origins

from app.settings.notifications import NotificationSettings
from app.settings.sign_in import SignInSettings

# Published (in this repository's history and docs): refused wherever the server can be
# reached from another machine, whatever APP_ENV says.
DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me-0123456789"
DEMO_PASSWORDS = frozenset({"admin-demo-pass", "doctor-demo-pass", "patient-demo-pass"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class Settings(NotificationSettings, SignInSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    app_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # API processes `serve` starts; `--workers` overrides it.
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    shutdown_grace_seconds: int = Field(default=10, ge=1)
    readiness_timeout_seconds: float = Field(default=1.5, gt=0, le=10)
    metrics_enabled: bool | None = None
    metrics_token: str | None = None

    mongodb_uri: str | None = None
    mongodb_db: str = "aayulink"
    data_dir: Path = Path("./data")
    embedded_store_engine: Literal["sqlite", "memory"] = "sqlite"
    # NORMAL: an acknowledged write survives a store crash; FULL: a power cut too (docs/store.md).
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    store_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Store commands an API process keeps at the store at once, the rest queued oldest request
    # first (app/store/command_order.py); unset: 2 on the embedded store, no limit (0) on a
    # MongoDB server, which runs commands side by side.
    store_commands_in_flight: int | None = Field(default=None, ge=0, le=1000)
    store_retry_after_seconds: int = Field(default=2, ge=1, le=3600)
    store_restart_attempts: int = Field(default=5, ge=0, le=100)
    store_restart_backoff_seconds: float = Field(default=0.5, gt=0, le=60)

    redis_url: str | None = None
    redis_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    # Every Redis key and channel starts with this; unset: "aayulink:<id of this store>", so
    # deployments sharing one Redis never hear or count each other (app/store/deployment.py).
    redis_key_prefix: str | None = Field(default=None, min_length=1, max_length=100)
    # Unset: "<prefix>:events". Set only to join processes that do not share a store.
    events_channel: str | None = Field(default=None, min_length=1, max_length=200)
    # The per-process read model of bookable slots and the catalogue (app/domain/read_model).
    read_model_enabled: bool = True
    read_model_max_age_seconds: float = Field(default=10.0, gt=0, le=3600)

    # Unset: a random secret generated once and kept in DATA_DIR/jwt-secret (not in production,
    # where every host must share one: set it there). See app/domain/auth/signing_secret.py.
    jwt_secret: str | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "aayulink-booking"
    jwt_audience: str = "aayulink-clients"
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)

    slot_lock_ttl_seconds: int = Field(default=300, gt=0)
    max_locks_per_patient: int = Field(default=2, ge=1)
    clinic_timezone: str = "UTC"
    lock_sweep_interval_seconds: float = Field(default=1.0, gt=0)
    # Unset: three sweep intervals, at least 10 s (see `housekeeping_lease`).
    housekeeping_lease_seconds: float | None = Field(default=None, gt=0, le=86400)

    schedule_horizon_days: int = Field(default=60, ge=1, le=366)
    # APP_ENV=test only: the steps (comma-separated) of an all-or-nothing change after which the
    # store is made to refuse a write (app/domain/all_or_nothing.py): tests fail changes half-way.
    fault_after_step: str | None = None
    booking_min_notice_minutes: int = Field(default=0, ge=0)
    booking_max_days_ahead: int = Field(default=90, ge=1)
    cancellation_cutoff_minutes: int = Field(default=0, ge=0)

    # The front desk and the visit itself (docs/front-desk.md).
    default_phone_region: str = Field(default="IN", pattern=r"^[A-Z]{2}$")
    clinic_currency: str = Field(default="INR", pattern=r"^[A-Z]{3}$")
    check_in_opens_minutes: int = Field(default=120, ge=0, le=24 * 60)
    visit_start_early_minutes: int = Field(default=15, ge=0, le=24 * 60)
    no_show_grace_minutes: int = Field(default=10, ge=0, le=24 * 60)
    admin_email: str | None = None
    admin_password: str | None = None
    seed_demo_data: bool | None = None

    graphiql: bool | None = None
    introspection: bool | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_query_depth: int = 10
    max_query_tokens: int = 2000
    max_query_aliases: int = 15
    max_query_cost: int = Field(default=5000, ge=1)
    query_cost_list_size: int = Field(default=10, ge=1)
    max_query_length: int = Field(default=100_000, ge=1)
    # Counted on the parsed document before validation (app/schema/selection_limits.py).
    max_query_selections: int = Field(default=500, ge=10, le=100_000)
    max_query_field_repeats: int = Field(default=5, ge=1, le=1000)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    ws_connection_init_timeout_seconds: float = 10.0
    ws_max_subscriptions: int = 20
    ws_compression: bool = False
    subscriber_queue_size: int = 256

    rate_limit_lock: str = "30/minute"
    rate_limit_booking: str = "20/minute"
    rate_limit_emergency: str = "5/minute"
    rate_limit_ws_operations: str = "60/minute"

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_only(cls, value: list[str]) -> list[str]:
        """A path or a typo here would otherwise stop the WebSocket view at startup."""
        normalize_allowed_origins(value)
        return value

    @field_validator(
        "rate_limit_lock",
        "rate_limit_booking",
        "rate_limit_emergency",
        "rate_limit_ws_operations",
        "rate_limit_login_account",
        "rate_limit_login_address",
        "rate_limit_register_address",
        "rate_limit_register_taken",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        """Refused at startup, naming the variable, rather than at the first request."""
        try:
            parse(value)
        except ValueError:
            raise ValueError('must be a rate like "30/minute" or "10/15 minutes"') from None
        return value

    @field_validator("redis_key_prefix", "events_channel", "jwt_secret", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("housekeeping_lease_seconds")
    @classmethod
    def _lease_outlives_a_sweep(cls, value: float | None, info: ValidationInfo) -> float | None:
        """A lease this short would lapse between its holder's renewals: two housekeepers."""
        sweep = info.data.get("lock_sweep_interval_seconds")
        if value is not None and sweep is not None and value <= 2 * sweep:
            raise ValueError("must be more than twice LOCK_SWEEP_INTERVAL_SECONDS")
        return value

    @model_validator(mode="after")
    def _faults_only_in_tests(self) -> Settings:
        if self.fault_after_step is not None and self.app_env != "test":
            raise ValueError("FAULT_AFTER_STEP is for APP_ENV=test only")
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.app_env == "production" and (
            self.jwt_secret is None
            or self.jwt_secret == DEFAULT_JWT_SECRET
            or len(self.jwt_secret) < 32
        ):
            raise ValueError("JWT_SECRET must be set to a secret of 32+ characters in production")
        return self

    @model_validator(mode="after")
    def _cheap_hashes_in_tests_only(self) -> Settings:
        if self.password_hash_cost != "standard" and self.app_env != "test":
            raise ValueError(
                "PASSWORD_HASH_COST other than standard is for tests only (APP_ENV=test)"
            )
        return self

    @model_validator(mode="after")
    def _clock_offset_in_tests_only(self) -> Settings:
        if self.clock_offset_seconds and self.app_env != "test":
            raise ValueError("CLOCK_OFFSET_SECONDS is for tests only (APP_ENV=test)")
        return self

    @model_validator(mode="after")
    def _refuse_published_secrets_beyond_loopback(self) -> Settings:
        """Whoever can reach the server must not be able to sign tokens or sign in as admin
        with what this repository publishes; on loopback only the developer can."""
        if is_loopback(self.host):
            return self
        problems = []
        if self.jwt_secret == DEFAULT_JWT_SECRET:
            problems.append("JWT_SECRET is the published development secret")
        if self.admin_password in DEMO_PASSWORDS:
            problems.append("ADMIN_PASSWORD is a published demo password")
        if self.seed_on_start:
            problems.append(
                "the demo data (SEED_DEMO_DATA, on by default in development) signs in with "
                "published passwords"
            )
        if problems:
            raise ValueError(
                f"HOST={self.host} listens beyond loopback, but {'; '.join(problems)}: "
                "change them, or listen on HOST=127.0.0.1"
            )
        return self

    @property
    def refresh_pause(self) -> float:
        return self.test_refresh_pause_seconds if self.app_env == "test" else 0.0

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.app_env == "development"

    @property
    def introspection_enabled(self) -> bool:
        """Off in production unless INTROSPECTION=true: the schema is a map for an attacker."""
        if self.introspection is not None:
            return self.introspection
        return self.app_env != "production"

    @property
    def metrics_served(self) -> bool:
        """Off in production unless METRICS_ENABLED=true or a METRICS_TOKEN guards them."""
        if self.metrics_enabled is not None:
            return self.metrics_enabled
        return self.app_env != "production" or bool(self.metrics_token)

    @property
    def housekeeping_lease(self) -> float:
        """How long the housekeeping lease lasts unless renewed (renewed every sweep)."""
        if self.housekeeping_lease_seconds is not None:
            return self.housekeeping_lease_seconds
        return max(10.0, 3 * self.lock_sweep_interval_seconds)

    @property
    def seed_on_start(self) -> bool:
        if self.seed_demo_data is not None:
            return self.seed_demo_data
        return self.app_env == "development"


class SettingsError(ValueError):
    """Names the variables at fault, never their values (secrets live among them)."""


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: "
            f"{_without_values(error['msg'])}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise SettingsError(f"invalid settings: {problems}") from None


def _without_values(message: str) -> str:
    return message.removeprefix("Value error, ")
