"""GraphQL types of the audit log."""
