#!/usr/bin/env bash
# Install Orientia in .venv (see scripts/_venv.sh: which Python, torch's CPU build) and start it on
# http://127.0.0.1:8000. The first start ingests the bundled knowledge; later starts reuse the
# index in the data folder. PYTHON, VENV and WITH_ST are read by scripts/_venv.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_orientia ""
exec "$VENV/bin/orientia" serve "$@"
