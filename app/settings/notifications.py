"""The notification settings (docs/notifications.md): the outbox's sender, email, webhooks,
reminders. A part of `Settings` (app/settings/__init__.py), kept apart to keep each file short."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode


class NotificationSettings(BaseSettings):
    # False: no notification is written, sent or reminded of (a staging copy of a clinic's
    # data must never email its patients); bookings pay nothing for them (bench B1).
    notifications_enabled: bool = True
    notification_max_attempts: int = Field(default=6, ge=1, le=100)
    notification_retry_base_seconds: float = Field(default=10.0, gt=0, le=3600)
    notification_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    notification_batch_size: int = Field(default=200, ge=1, le=490)
    # How old a change must be before the sender writes its notification rows from the mark
    # it left (app/domain/notifications/owed.py); 0: at the sender's next pass.
    notification_owed_grace_seconds: float = Field(default=0.0, ge=0, le=3600)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    smtp_connections: int = Field(default=4, ge=1, le=64)
    mail_from: str = "AayuLink <no-reply@aayulink.invalid>"
    webhook_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_secret: str | None = None
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    reminder_offsets_minutes: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [1440, 120]
    )
    # Where clients reach this API: the base of calendar feed and unsubscribe links.
    public_base_url: str = "http://127.0.0.1:8000"
    # Tests only (APP_ENV=test): this process's clock runs this far ahead of the real one.
    clock_offset_seconds: float = 0.0

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [url.strip() for url in value.split(",") if url.strip()]
        return value

    @field_validator("webhook_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError("each URL must start with http:// or https://")
        return value

    @field_validator("reminder_offsets_minutes", mode="before")
    @classmethod
    def _split_offsets(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("reminder_offsets_minutes")
    @classmethod
    def _positive_offsets(cls, value: list[int]) -> list[int]:
        if any(minutes <= 0 or minutes > 60 * 24 * 60 for minutes in value):
            raise ValueError("each offset must be between 1 and 86400 minutes")
        return sorted(set(value), reverse=True)
