#!/usr/bin/env bash
# The browser tests (tests/browser/) drive Debian's chromium at /usr/bin/chromium through
# Playwright. Install it where it is missing; fail loudly when that is not possible, because
# browser tests must never be skipped quietly.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the browser tests need Debian's chromium at $CHROMIUM: run 'apt-get install chromium' as root" >&2
  exit 1
fi
echo "installing chromium (Debian package) for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
if [ ! -x "$CHROMIUM" ]; then
  echo "apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
