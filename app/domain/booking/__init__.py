"""Holding, booking, moving and cancelling appointments."""
