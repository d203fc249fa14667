"""Importers of the official referentials (ROME, France compétences, COG) on small cuts of the real files."""

from __future__ import annotations

import random
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

from assistant.evaluation import load_questions
from assistant.text import fold
from ingest import check
from ingest.loaders import load_file
from ingest.pipeline import collect_files

from ..conftest import KNOWLEDGE

DATA = Path(__file__).parent.parent / "data" / "referentials"
ROME = DATA / "rome4-v460"
RNCP = DATA / "rncp-2024-01-17"


def _copy(tmp_path: Path, folder: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def _append(path: Path, text: str) -> int:
    """Append lines to an official file; returns the line number of the first one."""
    before = path.read_bytes().count(b"\n")
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return before + 1


def _roles(path: Path, display: str | None = None):
    records, problems = load_file(path, display=display)
    return {r.record.id: r.record for r in records}, problems


# -- ROME 4.0 ---------------------------------------------------------------------------------


def test_rome_folder_gives_one_role_per_sheet():
    roles, problems = _roles(ROME)
    assert problems == []
    assert sorted(roles) == ["M1203", "M1204", "M1805"]
    sheet = roles["M1203"]
    assert sheet.label == "Comptable" and sheet.rome_code == "M1203"
    assert sheet.url == "https://candidat.francetravail.fr/metierscope/fiche-metier/M1203"
    # Long and short titles as published, gender forms kept for the matcher to split.
    assert "Comptable général / Comptable générale" in sheet.aliases
    assert "Agent / Agente comptable d'établissement public -EPSCP-" in sheet.aliases
    assert sheet.definition and sheet.access
    assert (sheet.domain_code, sheet.grand_domain_code) == ("M12", "M")
    assert sheet.mobility == ["M1204", "M1805"]  # numero_ordre 1 then 2
    assert "v460" in sheet.sources[0] and "Licence Ouverte" in sheet.sources[0]


def test_rome_skills_put_the_digital_transition_first():
    roles, _ = _roles(ROME)
    skills = roles["M1805"].skills
    flags = [s.digital for s in skills]
    assert any(flags) and flags == sorted(flags, reverse=True)
    assert {s.kind for s in skills} <= {"savoir-faire", "savoir-etre"}
    assert roles["M1203"].knowledge and all(k.kind == "savoir" for k in roles["M1203"].knowledge)


def test_rome_zip_reads_like_the_folder(tmp_path):
    archive = tmp_path / "RefRomeCsv.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in ROME.iterdir():
            z.write(file, f"RefRomeCsv/{file.name}")
    from_zip, problems = _roles(archive)
    from_folder, _ = _roles(ROME)
    assert problems == [] and from_zip == from_folder


def test_rome_broken_rows_are_reported_by_file_and_line(tmp_path):
    folder = _copy(tmp_path, ROME)
    bad_code = _append(folder / "unix_referentiel_code_rome_v460_utf8.csv",
                       '"Z9999","1","1","Métier inventé","","","","","","Z9999"\n')
    orphan = _append(folder / "unix_referentiel_appellation_v460_utf8.csv",
                     '"1","Titre orphelin","Titre orphelin","M9999","","","","","","SYNONYME","","M9999","N"\n')
    short = _append(folder / "unix_texte_v460_utf8.csv", '"M1203","3"\n')
    _, problems = _roles(folder, display="rome4-v460")
    found = {(p.file.rsplit("/", 1)[-1], p.line) for p in problems}
    assert ("unix_referentiel_code_rome_v460_utf8.csv", bad_code) in found
    assert ("unix_referentiel_appellation_v460_utf8.csv", orphan) in found
    assert ("unix_texte_v460_utf8.csv", short) in found
    assert any("code ROME invalide" in str(p) for p in problems)
    assert any("2 colonnes au lieu de 5" in str(p) for p in problems)


def test_rome_release_with_a_missing_table_is_refused(tmp_path):
    folder = _copy(tmp_path, ROME)
    (folder / "unix_texte_v460_utf8.csv").unlink()
    roles, problems = _roles(folder)
    assert roles == {} and any("unix_texte_v<version>_utf8.csv" in str(p) for p in problems)


# -- France compétences -----------------------------------------------------------------------


def test_rncp_export_keeps_the_ai_and_data_fiches_with_verbatim_blocs():
    records, problems = load_file(RNCP)
    assert problems == []
    certs = {r.record.code: r.record for r in records}
    # RNCP183 (refrigeration) and RNCP472 (joinery) are out of scope; AI fiches are kept.
    assert sorted(certs) == ["RNCP34757", "RNCP35255", "RNCP37827"]
    cert = certs["RNCP37827"]
    assert cert.title is None and cert.display_title == "Certification RNCP37827"
    assert cert.certifier == "SIMPLON.CO"  # the tab before the SIRET did not leak anywhere
    assert cert.url == "https://www.francecompetences.fr/recherche/rncp/37827/"
    assert [b.code for b in cert.blocs] == ["RNCP37827BC01", "RNCP37827BC02", "RNCP37827BC03"]
    assert cert.blocs[1].title == "Intégrer des modèles et des services d’intelligence artificielle"
    assert cert.replaces == ["RNCP34757"] and certs["RNCP34757"].replaced_by == ["RNCP37827"]
    assert "17/01/2024" in cert.sources[0]
    # Stray trailing space in an official title: whitespace normalised, words verbatim.
    assert certs["RNCP35255"].blocs[1].title == "Analyser et traiter des données"


def test_rncp_stray_tabs_are_normalised(tmp_path):
    folder = _copy(tmp_path, RNCP)
    _append(folder / "export_fiches_CSV_Blocs_De_Competences_2024_01_17.csv",
            '"RNCP35255";"RNCP35255BC07";"Piloter\tun projet d\'intelligence artificielle\t"\n')
    records, problems = load_file(folder)
    cert = next(r.record for r in records if r.record.code == "RNCP35255")
    assert problems == [] and cert.blocs[-1].title == "Piloter un projet d'intelligence artificielle"


def test_rncp_broken_rows_are_reported_by_file_and_line(tmp_path):
    folder = _copy(tmp_path, RNCP)
    blocs = folder / "export_fiches_CSV_Blocs_De_Competences_2024_01_17.csv"
    bad_bloc = _append(blocs, '"RNCP37827";"RNCP3782BC04";"Déployer un modèle d\'intelligence artificielle"\n')
    bad_fiche = _append(blocs, '"37827";"37827BC05";"Intelligence artificielle"\n')
    bad_siret = _append(folder / "export_fiches_CSV_Certificateurs_2024_01_17.csv",
                        '"RNCP37827";"\t7927913";"SIMPLON.CO"\n')
    _, problems = load_file(folder, display="rncp")
    found = {(p.file.rsplit("/", 1)[-1], p.line): p.reason for p in problems}
    assert "code de bloc invalide" in found[("export_fiches_CSV_Blocs_De_Competences_2024_01_17.csv", bad_bloc)]
    assert "numéro de fiche invalide" in found[("export_fiches_CSV_Blocs_De_Competences_2024_01_17.csv", bad_fiche)]
    assert "SIRET invalide" in found[("export_fiches_CSV_Certificateurs_2024_01_17.csv", bad_siret)]


def test_rncp_files_are_recognised_by_their_header_alone(tmp_path):
    blocs = tmp_path / "blocs.csv"
    shutil.copy(RNCP / "export_fiches_CSV_Blocs_De_Competences_2024_01_17.csv", blocs)
    records, problems = load_file(blocs)
    assert problems == [] and {r.record.code for r in records} == {"RNCP34757", "RNCP35255", "RNCP37827"}
    alone = tmp_path / "certificateurs.csv"
    shutil.copy(RNCP / "export_fiches_CSV_Certificateurs_2024_01_17.csv", alone)
    records, problems = load_file(alone)
    assert records == [] and "importez-le avec lui" in problems[0].reason


def test_rncp_xml_adds_title_skills_and_assessment(tmp_path):
    folder = _copy(tmp_path, RNCP)
    shutil.copy(DATA / "rncp-xml" / "export-fiches-rncp-v4-1-2024-01-17.xml", folder)
    records, problems = load_file(folder)
    assert problems == []
    cert = next(r.record for r in records if r.record.code == "RNCP37827")
    assert cert.title == "Développeur en intelligence artificielle" and cert.level == 6
    assert cert.status == "active" and cert.validity_end.isoformat() == "2028-09-01"
    assert cert.rome_codes == ["M1805"]
    bloc = cert.blocs[0]
    assert bloc.skills == ["Analyser le besoin en données d’un projet", "Collecter les données en respectant le RGPD"]
    assert bloc.evaluation == "Mise en situation professionnelle et présentation orale devant un jury"
    assert cert.blocs[1].skills == []  # only in the CSV: title, no skills


def test_rncp_xml_with_entities_is_refused(tmp_path):
    bomb = tmp_path / "export.xml"
    bomb.write_text(textwrap.dedent("""\
        <?xml version="1.0"?>
        <!DOCTYPE FICHES [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;">]>
        <FICHES><FICHE><NUMERO_FICHE>RNCP1&y;</NUMERO_FICHE></FICHE></FICHES>
        """), encoding="utf-8")
    records, problems = load_file(bomb)
    # Refused before parsing, by the same check as every XML file (ingest/xmlsafe.py).
    assert records == [] and "entités XML" in problems[0].reason


# -- COG communes -----------------------------------------------------------------------------


def test_cog_communes_are_keyed_by_insee_code():
    records, problems = load_file(DATA / "cog" / "communes_hdf_cog2026.csv")
    assert problems == []
    places = {r.ident: r.record for r in records}
    assert places["59009"].commune == "Villeneuve-d'Ascq"
    assert places["59009"].postal_codes == ["59491", "59493", "59650"]
    assert places["02458"].department == "02" and places["02458"].population == 821
    assert all(r.key == f"place:{r.record.insee}" for r in records)


def test_cog_broken_rows_are_reported_by_line(tmp_path):
    path = tmp_path / "communes.csv"
    shutil.copy(DATA / "cog" / "communes_hdf_cog2026.csv", path)
    line = _append(path, "80999,Village,80,32,8000,12,210800999\r\n80998,Bourg,80,32,80100,beaucoup,210800998\r\n")
    _, problems = load_file(path)
    assert [(p.line, p.record) for p in problems] == [(line, "80999"), (line + 1, "80998")]
    assert "code postal invalide" in problems[0].reason and "population" in problems[1].reason


# -- Orientia supplements and the bundled corpus ------------------------------------------------


def test_job_notes_and_study_mapping_apply_to_the_sheets(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copytree(ROME, corpus / "rome4-v460")
    (corpus / "famille.md").write_text(textwrap.dedent("""\
        ---
        id: famille-comptabilite-finance
        title: Comptabilité et finance
        type: famille
        exposure: forte
        sources: ["Test — étude"]
        ---
        # Comptabilité
        ## Ce que l'IA change
        La saisie s'automatise.
        """), encoding="utf-8")
    (corpus / "map.yaml").write_text(yaml.safe_dump({
        "kind": "rome_to_study", "rule": "Règle de test.", "domains": {"M12": "famille-comptabilite-finance"},
    }), encoding="utf-8")
    (corpus / "notes.yaml").write_text(yaml.safe_dump({
        "kind": "job_notes",
        "notes": [{"rome_code": "M1203", "everyday_names": ["compta", "accountant"], "exposure_summary": "Repère de test."}],
    }, allow_unicode=True), encoding="utf-8")
    result = check([corpus])
    assert [str(p) for p in result.problems] == []
    roles = {r.record.id: r.record for r in result.records if r.kind == "role"}
    assert "supplement" not in result.counts()
    accountant = roles["M1203"]
    assert (accountant.sector, accountant.ai_exposure) == ("famille-comptabilite-finance", "forte")
    assert "M12" in accountant.exposure_rule and "Estimation Orientia" in accountant.exposure_rule
    assert accountant.everyday_names == ["compta", "accountant"] and accountant.exposure_summary == "Repère de test."
    developer = roles["M1805"]  # M18 is not mapped: the study does not cover it here
    assert developer.sector is None and developer.ai_exposure is None


def test_a_note_for_an_unknown_sheet_is_reported(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copytree(ROME, corpus / "rome4-v460")
    (corpus / "notes.yaml").write_text(yaml.safe_dump({
        "kind": "job_notes", "notes": [{"rome_code": "K9999", "everyday_names": ["x"]}],
    }), encoding="utf-8")
    problems = [str(p) for p in check([corpus]).problems]
    assert any("notes.yaml" in p and "K9999" in p and "absent" in p for p in problems), problems


def test_release_folders_are_collected_as_one_unit():
    collected = [display for _, display in collect_files([KNOWLEDGE])]
    assert "knowledge/referentials/rome4-v460" in collected
    assert "knowledge/referentials/rncp-2024-01-17" in collected
    assert not any(d.startswith("knowledge/referentials/rome4-v460/") for d in collected)


@pytest.fixture(scope="module")
def bundled():
    result = check([KNOWLEDGE])
    assert [str(p) for p in result.problems] == []
    return result


def test_bundled_referentials_are_complete(bundled):
    counts = bundled.counts()
    assert counts["role"] == 1584 and counts["place"] == 3782
    assert 100 <= counts["certification"] <= 400
    certs = {r.record.code: r.record for r in bundled.records if r.kind == "certification"}
    assert {"RNCP37827", "RNCP37873", "RNCP37137", "RNCP36129", "RNCP38777", "RS6776"} <= set(certs)
    assert not any(code.startswith(("RNCP9", "RS9")) for code in certs)  # invented codes are gone
    assert certs["RNCP37827"].title == "Développeur en intelligence artificielle"


def test_every_official_title_maps_back_to_its_sheet(bundled):
    """A folded official title finds its sheet among the sheets that carry it (200 sampled)."""
    import csv

    by_name: dict[str, set[str]] = {}
    for r in bundled.records:
        if r.kind == "role":
            for name in r.record.names:
                by_name.setdefault(fold(name).strip(), set()).add(r.record.id)
    path = KNOWLEDGE / "referentials" / "rome4-v460" / "unix_referentiel_appellation_v460_utf8.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in random.Random(11).sample(rows, 200):
        assert row["code_rome"] in by_name[fold(row["libelle_appellation_long"]).strip()]


def test_invented_trainings_claim_no_real_certification(bundled):
    for r in bundled.records:
        if r.kind == "training" and r.record.illustrative:
            assert r.record.certification_code is None and r.record.blocs == []


def test_legacy_role_ids_of_frozen_sets_are_translated():
    items = load_questions(Path(__file__).parent.parent / "eval" / "heldout.yaml")
    legacy = yaml.safe_load((Path(__file__).parent.parent / "eval" / "legacy_roles.yaml").read_text(encoding="utf-8"))
    for item in items:
        role = (item.get("expect_profile") or {}).get("role")
        assert role is None or role not in legacy
        for source in item.get("expect_sources") or []:
            assert not (source.startswith("role:") and source[5:] in legacy)
    assert legacy["comptable"] == "M1203"


def test_rome_texts_have_single_apostrophes(bundled):
    # The official texte file doubles every apostrophe (« d''une ») : sheets show one.
    sheets = [r.record for r in bundled.records if r.kind == "role" and getattr(r.record, "definition", "")]
    assert sheets
    assert not any("''" in (s.definition or "") or "''" in (getattr(s, "access", "") or "") for s in sheets)
    assert any("d'une" in (s.definition or "") for s in sheets)
