#!/usr/bin/env bash
# Makes .venv with Python 3.13 and the locked dependencies (requirements.lock), then the
# project itself; reinstalls when requirements.lock or pyproject.toml changes.
# `scripts/bootstrap.sh --lock` (make lock) re-resolves the lock files from pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

LOCK_PYTHON=3.13

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3 python "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1 && pyenv which python3.13 >/dev/null 2>&1; then
    pyenv which python3.13
    return 0
  fi
  echo "Python 3.13 is required (pyenv install 3.13, or set PYTHON=/path/to/python3.13)" >&2
  return 1
}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    local python_bin
    python_bin=$(find_python)
    "$python_bin" -m venv .venv
  fi
}

if [ "${1:-}" = "--lock" ]; then
  ensure_venv
  .venv/bin/python -m pip install --quiet uv
  .venv/bin/uv pip compile --quiet pyproject.toml --extra dev --python-version "$LOCK_PYTHON" \
    -o requirements.lock
  # The image's runtime set: the same pins, without the development tools.
  .venv/bin/uv pip compile --quiet pyproject.toml --python-version "$LOCK_PYTHON" \
    -c requirements.lock -o requirements-runtime.lock
  echo "wrote requirements.lock and requirements-runtime.lock"
  exit 0
fi

stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ]; then
  ensure_venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  if ! .venv/bin/python -m pip check >/dev/null; then
    .venv/bin/python -m pip check >&2 || true
    echo "requirements.lock does not satisfy pyproject.toml: run \`make lock\`" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
