"""Messages composed with the sender's policy (header classes made once) are byte for byte
what the standard library's default policy makes, and the classes are made once."""

from __future__ import annotations

import email.policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import Policy

from aiosmtplib.email import flatten_message

from app.domain.notifications.mail_policy import MAIL_POLICY


def _message(policy: Policy) -> EmailMessage:
    message = EmailMessage(policy=policy)
    message["From"] = "AayuLink Clinic <clinic@example.com>"
    message["To"] = Address(display_name="Ásha <Patient>", addr_spec="asha@example.com")
    message["Subject"] = "Your appointment with Dr. Mehta is booked " * 3  # folded
    message["Date"] = "Mon, 07 Dec 2026 19:00:00 +0000"
    message["Message-ID"] = "<notification-1@aayulink>"
    message["List-Unsubscribe"] = "<http://127.0.0.1:8000/notifications/unsubscribe?token=x>"
    message.set_content("Hello Ásha,\nyour appointment is booked.\n")
    message.add_alternative("<p>Hello &lt;Ásha&gt;</p>", subtype="html")
    message.add_attachment(
        b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
        params={"method": "REQUEST"},
    )
    return message


def test_the_policy_composes_what_the_default_policy_does() -> None:
    ours, standard = _message(MAIL_POLICY), _message(email.policy.default)
    for message in (ours, standard):  # boundaries are random unless set
        for n, part in enumerate(p for p in message.walk() if p.is_multipart()):
            part.set_boundary(f"boundary-{n}")
    assert flatten_message(ours) == flatten_message(standard)
    assert b"Subject: Your appointment" in flatten_message(ours)


def test_header_classes_are_made_once_per_name() -> None:
    factory = MAIL_POLICY.header_factory
    assert factory["Subject"] is factory["subject"]
    assert factory["To"] is not factory["Subject"]
