"""The booking rules: every check and state change, callable without GraphQL."""
