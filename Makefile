# The two commands a fresh machine needs: `make run` and `make test`.
.PHONY: run test lint schema bench lock web

run:
	@scripts/bootstrap.sh
	.venv/bin/python -m app serve

test:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	@scripts/ensure-chromium.sh
	.venv/bin/python -m pytest -n 2 --dist loadfile

lint:
	@scripts/bootstrap.sh
	.venv/bin/ruff check app tests bench
	.venv/bin/ruff format --check app tests bench
	.venv/bin/mypy app bench
	.venv/bin/lint-imports

schema:
	@scripts/bootstrap.sh
	.venv/bin/python -m app export-schema

bench:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	.venv/bin/python -m bench

# Re-resolve requirements.lock (and the image's requirements-runtime.lock) from pyproject.toml.
lock:
	@scripts/bootstrap.sh --lock

# Rebuild the web client into app/web/client/ (committed, so `make run` needs no Node.js).
web:
	cd web && npm ci --no-audit --no-fund && npm run build
