# Sourced by serve.sh and test.sh: create .venv and install Orientia with the given extras.
# torch is installed first and pinned: an unpinned torch resolves to a multi-gigabyte CUDA build.
install_orientia() {
  local target="$1"
  local python="${PYTHON:-python3.11}"
  command -v "$python" >/dev/null || python=python3
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e "$target"
}
