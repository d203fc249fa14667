#!/usr/bin/env bash
# Install Orientia in .venv (CPU-only torch, pinned) and start it on http://127.0.0.1:8000.
# The first start ingests the bundled knowledge; later starts reuse the index in the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: an unpinned torch resolves to a multi-gigabyte CUDA build.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/orientia serve "$@"
