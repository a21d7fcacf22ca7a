"""GraphQL types and inputs of accounts and sign-in."""
