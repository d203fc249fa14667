"""Each kind of broken record gets a French message naming the file, the record and the reason."""

from __future__ import annotations

import csv
import shutil

import pytest

from ingest import check

from ..conftest import KNOWLEDGE


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target, ignore=shutil.ignore_patterns("vectors"))
    return target


def _edit_training(corpus, ident, **changes):
    path = corpus / "trainings" / "catalogue.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        if row["id"] == ident:
            row.update(changes)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _messages(corpus):
    return [str(p) for p in check([corpus]).problems]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"departement": "75"}, "département inconnu : '75'"),
        ({"prix_eur": "-10"}, "prix (€) : ne peut pas être négatif"),
        ({"duree_heures": "beaucoup"}, "durée (heures) : nombre attendu"),
        ({"modalite": "à la plage"}, "modalité : valeur non autorisée"),
        ({"code_certification": "RNCP99999"}, "la certification RNCP99999 n'existe pas"),
        ({"illustratif": "non", "sources": ""}, "source manquante"),
        ({"financements": "cpf", "code_certification": "", "blocs": ""}, "financement CPF indiqué pour une formation non certifiante"),
        ({"public": "demandeur_emploi;retraités"}, "public visé : valeur non autorisée 'retraités' (attendu : 'salarie', 'demandeur_emploi', 'dirigeant', 'independant' ou 'eleve')"),
    ],
)
def test_broken_training(corpus, changes, fragment):
    _edit_training(corpus, "F005", **changes)
    messages = _messages(corpus)
    assert any("catalogue.csv" in m and "F005" in m and fragment in m for m in messages), messages


def test_job_note_without_rome_code(corpus):
    path = corpus / "orientia" / "job_notes.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- rome_code: M1203\n  legacy_ids:", "- legacy_ids:", 1), encoding="utf-8")
    messages = _messages(corpus)
    assert any("job_notes.yaml" in m and "notes n° 1, code ROME : champ obligatoire manquant" in m for m in messages), messages


def test_mapping_to_an_unknown_study_family(corpus):
    path = corpus / "orientia" / "rome_to_study.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("M12: famille-comptabilite-finance", "M12: famille-inconnue", 1), encoding="utf-8")
    messages = _messages(corpus)
    assert any("rome_to_study.yaml" in m and "famille de l'étude inconnue : famille-inconnue" in m for m in messages), messages


def test_duplicate_identifier(corpus):
    shutil.copy(corpus / "certifications" / "RS6776.yaml", corpus / "certifications" / "copie.yaml")
    messages = _messages(corpus)
    assert any("RS6776" in m and "identifiant en double" in m for m in messages), messages


def test_unsupported_and_non_utf8_files(corpus):
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    (corpus / "latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    messages = _messages(corpus)
    assert not any("notes.pdf" in m for m in messages)  # not collected: unknown suffix
    assert any("latin1.md" in m and "UTF-8" in m for m in messages), messages
