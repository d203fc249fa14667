#!/usr/bin/env bash
# Install Orientia with its test extras in .venv (see scripts/_venv.sh: which Python, torch's CPU
# build), install Debian's Chromium for the browser tests when missing, then run the whole suite
# with pytest. Extra arguments go to pytest. PYTHON, VENV and WITH_ST are read by scripts/_venv.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_orientia test
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "Les tests de navigateur demandent le paquet chromium de Debian : sudo apt-get install -y chromium"
    exit 1
  fi
fi
say "Tests : Python $PY_FULL ($VENV/bin/python), pytest $*"
exec "$VENV/bin/python" -m pytest "$@"
