"""scripts/_venv.sh: picks a supported Python that runs, says which, or says what to install.

Each test sources the real script in bash with a PATH made for it. The Python running the tests is
a supported one; a failing shim is a script that fails as pyenv's shims do for an unselected
version.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_SH = ROOT / "scripts" / "_venv.sh"
BASH = shutil.which("bash")
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
FULL_VERSION = sys.version.split()[0]
REAL_PYTHON = Path(sys.executable).resolve()  # the interpreter behind the venv


def run(snippet: str, *, path: list[Path], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    script = f'set -euo pipefail; source "{VENV_SH}"; {snippet}'
    return subprocess.run(
        [BASH, "-c", script],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": ":".join(map(str, path)), "HOME": str(cwd), **env},
        timeout=300,
    )


@pytest.fixture
def tools(tmp_path) -> Path:
    """A folder with the few commands the script runs besides Python."""
    folder = tmp_path / "tools"
    folder.mkdir()
    for tool in ("awk", "ls", "rm"):
        (folder / tool).symlink_to(shutil.which(tool))
    return folder


def folder_with(tmp_path: Path, name: str, programs: dict[str, Path | str]) -> Path:
    """A PATH folder: a Path value is linked to, a str value is a shell script's body."""
    folder = tmp_path / name
    folder.mkdir()
    for program, target in programs.items():
        executable = folder / program
        if isinstance(target, Path):
            executable.symlink_to(target)
        else:
            executable.write_text(f"#!/bin/sh\n{target}\n")
            executable.chmod(0o755)
    return folder


def failing_shim(name: str) -> str:
    return f'echo "pyenv: {name}: command not found" >&2; exit 127'


def test_a_failing_shim_is_passed_over_for_the_working_python_behind_it(tmp_path, tools):
    name = f"python{VERSION}"
    shims = folder_with(tmp_path, "shims", {name: failing_shim(name)})
    real = folder_with(tmp_path, "real", {name: REAL_PYTHON})
    out = run('find_python; echo "$PY_CMD|$PY_FULL"', path=[shims, real, tools], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{real / name}|{FULL_VERSION}"


def test_without_a_supported_python_it_says_what_to_install(tmp_path, tools):
    shims = folder_with(
        tmp_path,
        "shims",
        {"python3.13": failing_shim("python3.13"), "python3": failing_shim("python3")},
    )
    out = run("find_python", path=[shims, tools], cwd=tmp_path)
    assert out.returncode == 1
    assert "aucun Python pris en charge trouvé" in out.stderr
    assert "3.11, 3.12 ou 3.13" in out.stderr
    assert f"{shims / 'python3.13'} (présent mais ne s'exécute pas)" in out.stderr
    assert "sudo apt-get install python3 python3-venv" in out.stderr
    assert "PYTHON=" in out.stderr


def test_python_variable_is_honoured_and_checked(tmp_path, tools):
    real = folder_with(tmp_path, "real", {"python": REAL_PYTHON})
    python = str(real / "python")
    chosen = run('find_python; echo "$PY_CMD"', path=[tools], cwd=tmp_path, PYTHON=python)
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.strip() == str(real / "python")

    missing = run("find_python", path=[tools], cwd=tmp_path, PYTHON="python-introuvable")
    assert missing.returncode == 1
    assert "PYTHON=python-introuvable ne s'exécute pas" in missing.stderr

    # The same interpreter, refused once its version is taken off the supported list.
    refused = run('ORIENTIA_PYTHONS="3.99"; find_python', path=[tools], cwd=tmp_path, PYTHON=python)
    assert refused.returncode == 1
    assert f"est Python {FULL_VERSION} ; Orientia fonctionne avec Python" in refused.stderr


def test_a_venv_whose_python_is_gone_is_recreated_then_reused(tmp_path, tools):
    real = folder_with(tmp_path, "real", {f"python{VERSION}": REAL_PYTHON})
    venv = tmp_path / "project" / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /gone\n")
    (venv / "bin" / "python").symlink_to("/gone/python3")

    first = run('prepare_venv; echo "$PY_FULL"', path=[real, tools], cwd=venv.parent)
    assert first.returncode == 0, first.stderr
    assert "L'environnement .venv est recréé (son Python ne s'exécute plus)" in first.stderr
    assert f"Python {FULL_VERSION} (" in first.stderr
    assert "création de l'environnement .venv" in first.stderr
    assert first.stdout.strip() == FULL_VERSION
    check = subprocess.run(
        [venv / "bin" / "python", "-c", "import sys; print(sys.prefix != sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "True"

    again = run("prepare_venv", path=[real, tools], cwd=venv.parent)
    assert again.returncode == 0, again.stderr
    assert f"Python {FULL_VERSION} : environnement .venv existant, réutilisé" in again.stderr


def test_a_folder_that_is_not_a_venv_is_left_alone(tmp_path, tools):
    real = folder_with(tmp_path, "real", {f"python{VERSION}": REAL_PYTHON})
    data = tmp_path / "donnees"
    data.mkdir()
    (data / "notes.txt").write_text("à garder")
    out = run("prepare_venv", path=[real, tools], cwd=tmp_path, VENV="donnees")
    assert out.returncode == 1
    assert "donnees existe mais n'est pas un environnement virtuel Python" in out.stderr
    assert (data / "notes.txt").read_text() == "à garder"
