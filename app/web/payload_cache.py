"""Serialize a shared subscription result once, however many subscribers it goes to.

Members of a shared subscription group receive the very same `data` object; Strawberry
would JSON-encode it again for each of them. This keeps the last few encodings by object
identity (holding the object, so an identity is never reused while cached).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

_MESSAGE_TYPES = {"next", "data"}  # graphql-transport-ws and legacy graphql-ws


class PayloadCache:
    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[int, tuple[object, str]] = OrderedDict()

    def encode(self, message: object) -> str:
        shared = _shared_data(message)
        if shared is None:
            return json.dumps(message, separators=(",", ":"))
        assert isinstance(message, dict)
        key = id(shared)
        cached = self.entries.get(key)
        if cached is None or cached[0] is not shared:
            cached = (shared, json.dumps(shared, separators=(",", ":")))
            self.entries[key] = cached
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return (
            f'{{"id":{json.dumps(message["id"])},"type":"{message["type"]}",'
            f'"payload":{{"data":{cached[1]}}}}}'
        )


def _shared_data(message: object) -> Any:
    if not isinstance(message, dict) or message.get("type") not in _MESSAGE_TYPES:
        return None
    payload = message.get("payload")
    if (
        not isinstance(payload, dict)
        or set(payload) != {"data"}
        or set(message)
        != {
            "id",
            "type",
            "payload",
        }
    ):
        return None
    return payload["data"] if isinstance(payload["data"], dict) else None
