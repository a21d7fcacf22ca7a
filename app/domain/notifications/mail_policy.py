"""The email policy messages are composed with: the standard library's, header classes made
once.

`email.headerregistry.HeaderRegistry` builds a new class with `type()` every time it handles
a header (CPython 3.13), for every header of every message, set or flattened: about a third
of composing and flattening a notification's email (2.2 -> 1.55 ms a message measured), and
one of the sender's largest costs in B10's drain (py-spy). The classes it builds for a name
are always the same, so they are kept; the headers, their parsing and folding are unchanged.
"""

from __future__ import annotations

import email.policy
from email.headerregistry import HeaderRegistry
from typing import Any


class _HeaderClassesOnce(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


MAIL_POLICY = email.policy.default.clone(header_factory=_HeaderClassesOnce())
