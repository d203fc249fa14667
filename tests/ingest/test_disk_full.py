"""The data folder's disk fills up: an ingest fails cleanly in French, the previous version keeps
serving, and once space is freed the next ingest succeeds. A real full disk: a small tmpfs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant, Index
from assistant.errors import StorageFull
from ingest import ingest

from ..conftest import make_settings

QUESTION = "Combien d'emplois l'IA pourrait-elle créer dans la région d'ici 2030 ?"


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs mounted for the test (root, as in CI), unmounted after."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: the full-disk test must run there")
        pytest.skip("mounting a small tmpfs needs root (CI runs this test)")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)], check=True)
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> list[Path]:
    """Write until the disk refuses; returns the filler files."""
    fillers = []
    for size in (1 << 20, 4096, 1):
        path = folder / f"filler-{size}"
        fillers.append(path)
        try:
            with path.open("wb", buffering=0) as out:
                while True:
                    out.write(b"\0" * size)
        except OSError:
            pass
    return fillers


def test_a_full_disk_fails_the_ingest_cleanly_and_the_old_version_serves(small_disk, starter_dir, embedder):
    settings = make_settings(small_disk / "data")
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    assistant.observing = False
    first = ingest([starter_dir], assistant.index)
    (starter_dir / "study" / "extra.md").write_text(
        "# Note\n\nLes métiers de la logistique utilisent l'IA pour prévoir les stocks.\n", encoding="utf-8"
    )

    fillers = _fill(small_disk)
    with pytest.raises(StorageFull) as caught:
        ingest([starter_dir], assistant.index)
    assert "Espace disque insuffisant" in caught.value.message
    assert assistant.index.store.active_version()["id"] == first.version

    # Answering needs to write the conversation: a French 503, not a crash.
    with pytest.raises(StorageFull):
        assistant.answer(QUESTION)

    # The CLI says it in French and exits 1, without a traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env["ORIENTIA_DATA_DIR"] = str(settings.data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "web", "ingest", str(starter_dir)], env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Espace disque insuffisant" in result.stderr and "Traceback" not in result.stderr

    for path in fillers:
        path.unlink()
    assert assistant.answer(QUESTION).answered, "the previous version still serves"
    again = ingest([starter_dir], assistant.index)
    assert again.version > first.version
    assert assistant.index.store.active_version()["id"] == again.version
    assistant.index.close()
