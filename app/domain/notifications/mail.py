"""Email: a message per notification, sent over SMTP (aiosmtplib) or written as .eml files.

Plain text plus HTML, an .ics for appointment changes, a stable Message-ID (a message resent
after a crash mid-send folds into the first in mail clients), and RFC 8058 one-click
unsubscribe headers. Without SMTP_HOST, messages go to `<DATA_DIR>/outbox/mail/`.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import aiosmtplib

from app.domain.notifications.mail_policy import MAIL_POLICY
from app.domain.notifications.rendering import Rendered
from app.domain.notifications.tokens import unsubscribe_token
from app.models import Notification, NotificationKind, User
from app.settings import Settings

INVITE_METHODS = {
    NotificationKind.BOOKED: "REQUEST",
    NotificationKind.CONFIRMED: "REQUEST",
    NotificationKind.RESCHEDULED: "REQUEST",
    NotificationKind.CANCELLED: "CANCEL",
}


class Undeliverable(Exception):
    """Retrying will not help (a malformed address, a permanent 5xx refusal)."""


def message_id(notification: Notification) -> str:
    return f"<notification-{notification.id}@aayulink>"


def address(user: User) -> Address:
    """The recipient, or Undeliverable when the stored address is not one."""
    email = user.email or ""
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in '<>,;"' for c in email):
        raise Undeliverable(f"malformed recipient address {email!r}")
    return Address(display_name=" ".join(user.name.split()), addr_spec=email)


def compose(
    settings: Settings,
    notification: Notification,
    recipient: User,
    rendered: Rendered,
    invite: bytes | None,
) -> EmailMessage:
    assert notification.id is not None and recipient.id is not None
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = settings.mail_from
    message["To"] = address(recipient)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = message_id(notification)
    link = (
        f"{settings.public_base_url.rstrip('/')}/notifications/unsubscribe?token="
        f"{unsubscribe_token(recipient.id, notification.created_at)}"
    )
    message["List-Unsubscribe"] = f"<{link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-AayuLink-Kind"] = notification.kind.value
    message.set_content(rendered.text + f"\nStop these emails: {link}\n")
    message.add_alternative(rendered.html, subtype="html")
    if invite is not None:
        method = INVITE_METHODS[notification.kind]
        message.add_attachment(
            invite,
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": method},
        )
    return message


@dataclass
class Outcome:
    error: str | None = None
    permanent: bool = False


async def send_all(settings: Settings, messages: list[EmailMessage]) -> list[Outcome]:
    """Each message's outcome, over up to SMTP_CONNECTIONS connections at once."""
    if not messages:
        return []
    if not settings.smtp_host:
        return await asyncio.to_thread(_write_files, settings.data_dir, messages)
    outcomes = [Outcome() for _ in messages]
    lanes = min(settings.smtp_connections, len(messages))
    await asyncio.gather(
        *(
            _send_lane(settings, messages[lane::lanes], outcomes[lane::lanes])
            for lane in range(lanes)
        )
    )
    return outcomes


async def _send_lane(
    settings: Settings, messages: list[EmailMessage], outcomes: list[Outcome]
) -> None:
    """One connection sends its share in turn; a broken connection fails what is left of it."""
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=settings.smtp_timeout_seconds,
        start_tls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password,
    )
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        for outcome in outcomes:
            outcome.error = _reason(exc)
            outcome.permanent = _is_permanent(exc)
        return
    try:
        for index, message in enumerate(messages):
            try:
                await client.send_message(message)
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                outcomes[index].error = _reason(exc)
                outcomes[index].permanent = _is_permanent(exc)
            except (aiosmtplib.SMTPException, OSError) as exc:
                for outcome in outcomes[index:]:
                    outcome.error = _reason(exc)
                return
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"SMTP: {type(exc).__name__}: {text}"[:500]


def mail_dir(data_dir: Path) -> Path:
    return data_dir / "outbox" / "mail"


def _write_files(data_dir: Path, messages: list[EmailMessage]) -> list[Outcome]:
    """One .eml per message, named by its Message-ID: written whole, then renamed."""
    folder = mail_dir(data_dir)
    outcomes = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [Outcome(error=f"outbox folder: {exc}") for _ in messages]
    for message in messages:
        name = str(message["Message-ID"] or make_msgid()).strip("<>").split("@")[0]
        path = folder / f"{name}.eml"
        partial = folder / f".{name}.eml.partial"
        try:
            partial.write_bytes(bytes(message))
            os.replace(partial, path)
            outcomes.append(Outcome())
        except OSError as exc:
            outcomes.append(Outcome(error=f"outbox file: {exc}"))
    return outcomes
