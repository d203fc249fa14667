"""The HTTP load measurement of ``orientia bench`` runs a real server and counts every request."""

from __future__ import annotations

import shutil

import pytest

from web.loadtest import format_load, run_load

QUESTIONS = [
    "Je suis comptable à Arras, que dois-je apprendre sur l'IA ?",
    "Formation IA à distance de moins de 20 heures",
    "Quels métiers de la logistique sont exposés à l'IA ?",
    "Donne-moi la recette de la carbonade flamande.",
]


def test_load_levels_count_answers_errors_and_health_checks(corpus_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    report = run_load(data_dir, QUESTIONS, levels=(1, 3))
    assert [r["clients"] for r in report["levels"]] == [1, 3]
    for level in report["levels"]:
        assert level["requests"] == len(QUESTIONS) and level["errors"] == 0
        assert level["throughput_per_s"] > 0 and level["p50"] <= level["p95"]
        assert level["healthz_p50"] > 0
    assert report["levels"][0]["speedup"] == 1.0
    assert report["server_peak_rss_mb"] > 0
    assert "3 client(s)" in format_load(report)


@pytest.mark.chroma_server
def test_the_load_with_several_workers_uses_a_chroma_server(tmp_path):
    # The data folder is not used: two worker processes fill a fresh Chroma server themselves.
    report = run_load(tmp_path / "unused", QUESTIONS[:2], levels=(2,), workers=2)
    level = report["levels"][0]
    assert report["workers"] == 2
    assert level["requests"] == 2 and level["errors"] == 0
    # Two worker processes under the supervisor: their memory is counted too.
    assert report["server_peak_rss_mb"] > 2 * 200
    assert "2 processus, serveur Chroma" in format_load(report)
