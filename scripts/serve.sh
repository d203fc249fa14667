#!/usr/bin/env bash
# Install Orientia in .venv (CPU-only torch, pinned) and start it on http://127.0.0.1:8000.
# The first start ingests the bundled knowledge; later starts reuse the index in the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_orientia "."
exec .venv/bin/orientia serve "$@"
