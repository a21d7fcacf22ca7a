"""Which store errors mean "the store cannot serve this now" rather than a bug, and one log
line per episode of them: a store that is down fails every request, and each would log.

Two kinds: unreachable (down, restarting, connection lost) ends at the next command that
succeeds; refusing writes (disk full, read-only, I/O error) ends at the next write that
changes something (reads keep working meanwhile) once no write has been refused for a while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

log = logging.getLogger("app.store.outage")

# SQLite's messages as mongoeco passes them on, and MongoDB's own for a full disk.
_WRITE_REFUSALS = (
    "database or disk is full",
    "disk i/o error",
    "no space left on device",
    "attempt to write a readonly database",
    "outofdiskspace",
)
_WRITE_COMMANDS = frozenset({"insert", "update", "delete", "findAndModify"})
# A nearly full disk still takes the odd small write: an episode ends only at a write this
# long after the last refusal, so it is not logged as over and begun again many times a second.
WRITES_QUIET_SECONDS = 5.0

_unreachable = False
_refusing_writes: str | None = None
_last_refusal = 0.0


def refused_write_reason(error: BaseException | Mapping[str, Any]) -> str | None:
    """The refusal in an error (or a failed command's reply), or None when it is another kind."""
    if isinstance(error, OperationFailure):
        text = f"{error} {(error.details or {}).get('codeName', '')}"
    elif isinstance(error, Mapping):
        text = " ".join(str(error.get(key, "")) for key in ("errmsg", "codeName", "writeErrors"))
    else:
        return None
    lowered = text.lower()
    return next((reason for reason in _WRITE_REFUSALS if reason in lowered), None)


def noticed(error: BaseException) -> bool:
    """True when `error` means the store cannot serve now; logs the first of an episode."""
    global _unreachable
    if isinstance(error, ConnectionFailure):
        if not _unreachable:
            _unreachable = True
            log.warning(
                "store unreachable (%s); answering SERVICE_UNAVAILABLE until it answers again",
                type(error).__name__,
            )
        return True
    if isinstance(error, PyMongoError):
        reason = refused_write_reason(error)
        if reason is not None:
            _refuse_writes(reason)
            return True
    return False


def _refuse_writes(reason: str) -> None:
    global _refusing_writes, _last_refusal
    _last_refusal = time.monotonic()
    if _refusing_writes is None:
        log.error(
            "store refuses writes (%s); writes answer SERVICE_UNAVAILABLE until one succeeds",
            reason,
        )
    _refusing_writes = reason


def command_failed(failure: Mapping[str, Any]) -> None:
    """Any failed command, the background loop's included, can open a write-refusal episode."""
    reason = refused_write_reason(failure)
    if reason is not None:
        _refuse_writes(reason)


def command_succeeded(command_name: str, reply: Mapping[str, Any]) -> None:
    global _unreachable, _refusing_writes
    if _unreachable:
        _unreachable = False
        log.warning("store reachable again")
    if _refusing_writes is None or command_name not in _WRITE_COMMANDS:
        return
    write_errors = reply.get("writeErrors")
    if write_errors:
        command_failed({"writeErrors": write_errors})
        return
    # A write that matched nothing proves nothing: it may not have touched the disk.
    changed = reply.get("n") or (reply.get("lastErrorObject") or {}).get("n")
    if changed and time.monotonic() - _last_refusal >= WRITES_QUIET_SECONDS:
        _refusing_writes = None
        log.warning("store accepts writes again")


def unreachable() -> bool:
    """True while this process's last store command failed for want of a connection."""
    return _unreachable


def refusing_writes() -> str | None:
    """Why this process last saw the store refuse a write, while that episode lasts."""
    return _refusing_writes
