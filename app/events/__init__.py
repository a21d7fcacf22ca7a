"""Slot, appointment and emergency events, and the broker that fans them out."""
