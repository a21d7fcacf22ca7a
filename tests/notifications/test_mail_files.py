"""Without SMTP_HOST (`make run`), mail is written as .eml files under DATA_DIR/outbox/mail."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from tests.graphql_client import Api
from tests.notification_sinks import eventually
from tests.notifications.conftest import booked, patient


async def test_mail_without_smtp_lands_in_the_outbox_folder(api: Api, log_dir: Path) -> None:
    who = await patient(api, name="Eml Reader")
    await booked(api, who)

    def mine() -> list[Path]:
        # Whichever session server holds the sender's lease writes into its own DATA_DIR.
        found = log_dir.glob("data-*/outbox/mail/*.eml")
        return [p for p in found if who.email.encode() in p.read_bytes()]

    [path] = await eventually(mine, within=30)
    folder = path.parent
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Appointment booked")
    assert path.stem in message["Message-ID"]
    assert not list(folder.glob(".*.partial"))
