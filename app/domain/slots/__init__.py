"""Slots: their state, their atomic writes, and their management by hand."""
