#!/usr/bin/env bash
# Install Orientia with its test extras in .venv, install Debian's Chromium for the browser tests
# when missing, then run the whole suite with pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_orientia ".[test]"
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
exec .venv/bin/python -m pytest "$@"
