"""The bottom layer, imported by every other: the clock, errors, request ids, answer bookkeeping."""
