"""Thin resolvers: read arguments, call the domain, wrap documents in schema types."""
