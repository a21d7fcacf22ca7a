"""Notifications: the inbox, deliveries and preferences."""
