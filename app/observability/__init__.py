"""Metrics and logs: what the service tells its operators, kept out of the domain."""
