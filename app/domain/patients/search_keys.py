"""The terms a front-desk search is read as; a term matches a patient when it is a prefix of
one of their keys (app/models/patient_keys.py), and every term must match."""

from __future__ import annotations

import re

from app.core.errors import BadUserInput
from app.models.patient_keys import WORD, digits, fold

SEARCH_MAX = 100
TERMS_MAX = 6
_PHONE_LIKE = re.compile(r"^[\d\s+().\-]+$")


def terms_of(search: str) -> list[str]:
    """A phone-like search ("+91 98765") is one run of digits; anything else is its words.
    Refused when nothing searchable is left."""
    if len(search) > SEARCH_MAX:
        raise BadUserInput(f"search must be at most {SEARCH_MAX} characters", field="search")
    if _PHONE_LIKE.match(search) and digits(search):
        return [digits(search)]
    terms = list(dict.fromkeys(WORD.findall(fold(search))))
    if not terms:
        raise BadUserInput("search needs at least one letter or digit", field="search")
    return terms[:TERMS_MAX]
