"""The bundled corpus: data, not code (see README.md in this folder)."""
