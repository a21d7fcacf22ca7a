"""Command line: python -m app {serve,seed,create-admin,export-schema,embedded-store}."""

from app.cli import main

main()
