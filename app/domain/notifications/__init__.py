"""Notifications: the outbox written with each announced change, and its one sender."""
