"""The secret access tokens are signed with: JWT_SECRET, or one generated and kept.

Without JWT_SECRET a random secret is generated on first start and kept in
DATA_DIR/jwt-secret (mode 0600), so `make run` needs no setting, tokens outlive a restart,
and no published default signs anything. `serve` makes it before starting its workers;
a worker that finds it missing makes it the same way (atomically: a linked temporary file),
so two processes never keep two secrets.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from app.settings import get_settings

FILE_NAME = "jwt-secret"
_kept: dict[Path, str] = {}


def signing_secret() -> str:
    settings = get_settings()
    if settings.jwt_secret:
        return settings.jwt_secret
    path = settings.data_dir.resolve() / FILE_NAME
    if path not in _kept:
        _kept[path] = _read_or_make(path)
    return _kept[path]


def _read_or_make(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)  # fails if another process kept its own first: use that one
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                draft.unlink()
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} holds no usable secret; delete it to have one made")
    return secret
