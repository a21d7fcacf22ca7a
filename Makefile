# The two commands a fresh machine needs: `make run` and `make test`.
.PHONY: run test lint schema bench

run:
	@scripts/bootstrap.sh
	.venv/bin/python -m app serve

test:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	.venv/bin/python -m pytest

lint:
	@scripts/bootstrap.sh
	.venv/bin/ruff check app tests
	.venv/bin/ruff format --check app tests
	.venv/bin/mypy app

schema:
	@scripts/bootstrap.sh
	.venv/bin/python -m app export-schema
