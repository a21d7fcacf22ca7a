"""A patient's normalised search keys, derived from the stored user (kept with the model so the
start-up migration and every write compute them alike).

Keys: every word of the name and of the email (and the whole email), case-folded with accents
removed ("José" -> "jose"), and every suffix of the phone's digits, so that any run of digits
is a prefix of some key.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[^\W_]+")
# The store counter every write of a patient's keys moves (app/domain/patients/directory.py).
COUNTERS = "counters"
DIRECTORY_COUNTER = "patient_directory"


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isascii() and ch.isdigit())


def keys_for(name: str, email: str | None, phone: str | None) -> list[str]:
    keys = set(WORD.findall(fold(name)))
    if email:
        folded = fold(email)
        keys.add(folded)
        keys.update(WORD.findall(folded))
    number = digits(phone)
    keys.update(number[start:] for start in range(len(number)))
    return sorted(keys)
