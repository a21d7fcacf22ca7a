#!/usr/bin/env bash
# Makes .venv with Python 3.13 and the project installed; reinstalls when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."

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

stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ]; then
  python_bin=$(find_python)
  [ -x .venv/bin/python ] || "$python_bin" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
