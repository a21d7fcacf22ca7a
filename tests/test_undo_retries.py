"""An all-or-nothing change whose undo meets a passing store error tries it again, so a
client's interrupted connections (a late heartbeat) do not leave the change half-made; an
undo that keeps failing gives up with the change's own error, logged as half-made.

The steps here are plain functions: what is tested is the order and the retries of
app/domain/all_or_nothing.py; the store-backed steps are tested through the API in
test_all_or_nothing_changes.py.
"""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect

from app.core.errors import ChangeNotApplied
from app.domain import all_or_nothing
from app.domain.all_or_nothing import Step, run_all_or_nothing


class Flaky:
    """An undo that fails `failures` times with a connection error, then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0
        self.undone = False

    async def undo(self) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise AutoReconnect("connection interrupted")
        self.undone = True


async def _done() -> None:
    return None


async def _refused() -> None:
    raise RuntimeError("the store refused the second write")


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(all_or_nothing, "UNDO_RETRY_PAUSES", (0.0, 0.0, 0.0, 0.0))


async def test_an_undo_interrupted_twice_is_tried_again_and_the_change_is_undone() -> None:
    first = Flaky(failures=2)
    with pytest.raises(ChangeNotApplied):
        await run_all_or_nothing(
            "schedule change",
            [Step("first", _done, first.undo), Step("second", _refused, _done)],
        )
    assert first.undone and first.tries == 3


async def test_an_undo_that_keeps_failing_is_logged_and_the_error_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = Flaky(failures=99)
    with pytest.raises(RuntimeError, match="refused the second write"):
        await run_all_or_nothing(
            "schedule change",
            [Step("first", _done, first.undo), Step("second", _refused, _done)],
        )
    assert not first.undone and first.tries == 5
    assert "could not undo first of a schedule change" in caplog.text
