"""Who is calling: accounts, passwords, access tokens, roles."""
