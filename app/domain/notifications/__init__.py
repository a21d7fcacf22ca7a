"""Notifications: owed by each announced change in its own write, and their one sender."""
