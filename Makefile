# The two commands a fresh machine needs: `make run` and `make test`.
.PHONY: run test lint schema bench lock web screenshots

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

# Retake the README's screenshots that a test makes (docs/screenshots/board-booking-opened.png)
# from the current build; run alone so the board shows that test's clinic only.
screenshots:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	@scripts/ensure-chromium.sh
	UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest -q tests/browser/test_readme_screenshots.py
