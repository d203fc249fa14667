"""Training offers in the official formats: Mon Compte Formation CSV and LHÉO XML."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest

from assistant import Assistant, Index
from ingest import IngestError, check, ingest
from ingest.loaders import load_file
from ingest.offers import certification_code

from ..conftest import KNOWLEDGE, make_settings

OFFERS = Path(__file__).resolve().parent.parent / "data" / "offers"
MCF = OFFERS / "mcf-catalogue.csv"
MCF_2024 = OFFERS / "mcf-catalogue-2024.csv"
LHEO = OFFERS / "lheo-offres.xml"
MCF_SOURCE = "Mon Compte Formation — catalogue des formations (Caisse des Dépôts, open data)"
#: the rows of mcf-catalogue.csv that are broken on purpose
MCF_BROKEN = {
    "81234567800015_SANSTITRE",
    "77788899900012_PROMPT",
    "12312312300011_IABUREAU",
    "90111222300027_DATAANALYST",
}


def _load(path: Path):
    records, problems = load_file(path, display=path.name)
    return {r.record.title: r.record for r in records}, problems


def _errors(problems):
    return [str(p) for p in problems if not p.notice]


# -- Mon Compte Formation -------------------------------------------------------------------------


def test_mcf_rows_of_the_region_become_trainings():
    trainings, _ = _load(MCF)
    assert set(trainings) == {
        "IA générative au bureau : rédiger, synthétiser, vérifier",
        "Développeur en intelligence artificielle — parcours à distance",
        "Vision par ordinateur pour le contrôle qualité en production",
    }
    office = trainings["IA générative au bureau : rédiger, synthétiser, vérifier"]
    assert office.provider == "ATELIERS NUMERIQUES DU NORD"
    assert (office.department, office.city, office.format) == ("59", None, "présentiel")
    assert (office.duration_hours, office.price_eur) == (14, 1140)  # means of the catalogue
    assert office.funding == ["cpf"]
    assert office.certification_code == "RS6776"  # type_referentiel RS, code_rncp « -1 »
    assert office.rome_codes == ["M1607", "M1203"]
    assert office.objectives.startswith("Utiliser un assistant d'IA générative")  # HTML removed
    assert "<" not in office.objectives
    assert "de 990 à 1\u202f290 € TTC" in office.content  # the price range is stated
    assert office.sources == [f"{MCF_SOURCE}, extrait du 29/05/2026"]
    assert office.illustrative is False and office.url is None and office.sessions == []

    remote = trainings["Développeur en intelligence artificielle — parcours à distance"]
    assert (remote.department, remote.format, remote.certification_code) == (
        "62",
        "distanciel",
        "RNCP37827",
    )
    assert remote.content.startswith(
        "Bloc 1 : collecter et préparer les données. Bloc 2"
    )  # multi-line cell

    vision = trainings["Vision par ordinateur pour le contrôle qualité en production"]
    assert (vision.department, vision.format, vision.duration_hours, vision.price_eur) == (
        "80",
        "mixte",
        28.5,
        1800,
    )
    assert vision.certification_code == "RS5987"
    assert "de 21 à 35 h" in vision.content


def test_mcf_broken_rows_are_reported_with_their_line():
    _, problems = _load(MCF)
    errors = _errors(problems)
    expected = [
        "mcf-catalogue.csv, ligne 9, enregistrement « 81234567800015_SANSTITRE » : titre : champ obligatoire manquant",
        "mcf-catalogue.csv, ligne 10, enregistrement « 77788899900012_PROMPT » : prix (€) : ne peut pas être négatif",
        "mcf-catalogue.csv, ligne 11, enregistrement « 12312312300011_IABUREAU » : modalité inconnue",
        "mcf-catalogue.csv, ligne 12, enregistrement « 90111222300027_DATAANALYST » : code RNCP invalide : '37A27'",
    ]
    assert len(errors) == len(expected), errors
    for message, start in zip(errors, expected, strict=True):
        assert message.startswith(start), errors


def test_mcf_rows_outside_the_region_are_counted_not_errors():
    result = check([MCF])
    notices = [str(n) for n in result.notices]
    assert notices == [
        "(information) mcf-catalogue.csv : 2 offre(s) hors Hauts-de-France ignorée(s) (départements 69 (1), 75 (1))"
    ]
    assert not any("hors Hauts-de-France" in str(p) for p in result.problems)
    assert not any(
        "ECOLE PARISIENNE" in str(p) or "44455566600018" in str(p) for p in result.problems
    )


def test_mcf_older_release_with_commas_and_no_bom():
    trainings, problems = _load(MCF_2024)
    assert problems == []
    (training,) = trainings.values()
    assert training.sources == [f"{MCF_SOURCE}, extrait du 15/01/2024"]  # date_extract
    assert training.format == "mixte"  # 1 remote session out of 3
    assert training.certification_code == "RNCP37827"


def test_mcf_missing_columns_are_named(tmp_path):
    path = tmp_path / "partiel.csv"
    path.write_text("nom_of;nb_session_a_distance\nX;0\n", encoding="utf-8")
    _, problems = load_file(path, display="partiel.csv")
    (problem,) = problems
    assert (
        problem.line == 1
        and "colonnes manquantes : numero_formation, intitule_formation" in problem.reason
    )


def test_reimport_gives_the_same_ids():
    first = [r.record.id for r in load_file(MCF)[0]] + [r.record.id for r in load_file(LHEO)[0]]
    second = [r.record.id for r in load_file(MCF)[0]] + [r.record.id for r in load_file(LHEO)[0]]
    assert first == second and len(set(first)) == len(first) == 5
    assert all(i.startswith(("mcf-", "lheo-")) for i in first)


# -- LHÉO --------------------------------------------------------------------------------------------


def test_lheo_actions_of_the_region_become_trainings():
    trainings, problems = _load(LHEO)
    assert set(trainings) == {
        "Développeur en intelligence artificielle",
        "Utiliser l'IA générative au quotidien",
    }
    dev = trainings["Développeur en intelligence artificielle"]
    assert dev.provider == "École régionale du numérique (exemple de test)"
    assert (dev.city, dev.department, dev.format) == (
        "Villeneuve-d'Ascq",
        "59",
        "présentiel",
    )  # ISO-8859-1 read
    assert (dev.duration_hours, dev.price_eur) == (700, 8400)
    assert dev.sessions == [
        date(2026, 9, 14),
        date(2027, 1, 11),
    ]  # sorted; « 00000000 » (unknown) dropped
    assert dev.funding == [
        "region",
        "france_travail",
    ]  # code-financeur 2, 4 (10 = the learner: no route)
    assert dev.certification_code == "RNCP37827" and dev.rome_codes == ["M1805", "M1403"]
    assert dev.url == "https://www.exemple-formation-nord.fr/developpeur-ia"
    assert (
        dev.objectives
        == "Concevoir et intégrer des modèles d'apprentissage automatique dans des applications métier."
    )
    assert (
        dev.content
        == "Préparer les données Entraîner un modèle Résultats attendus : Titre professionnel de niveau 6."
    )
    assert dev.disability_access is True
    assert dev.sources == [
        "Catalogue de formations au format LHÉO, fichier « lheo-offres.xml », offre mise à jour le 15/10/2026"
    ]

    genai = trainings["Utiliser l'IA générative au quotidien"]
    assert (genai.city, genai.department, genai.format) == (
        "Amiens",
        "80",
        "mixte",
    )  # code 1 = mixte
    assert genai.price_eur == pytest.approx(45.5 * 21)  # prix-horaire-TTC × nombre-heures-total
    assert genai.certification_code == "RS6776" and genai.funding == ["opco"]
    assert genai.url == "http://www.exemple-formation-somme.fr/ia-generative"
    assert genai.disability_access is False  # not stated: shown as « non précisé »

    notices = [str(p) for p in problems if p.notice]
    assert notices == [
        (
            "(information) lheo-offres.xml : 1 action(s) hors Hauts-de-France ignorée(s) "
            "(C2RP_F_104512 / C2RP_A_559002 (ligne 66))"
        )
    ]


def test_lheo_broken_offer_is_reported_with_its_lines():
    _, problems = _load(LHEO)
    assert _errors(problems) == [
        (
            "lheo-offres.xml, ligne 140, enregistrement « C2RP_F_104514 / C2RP_A_559020 » : "
            "modalité inconnue : modalites-enseignement '3' (attendu : 0 présentiel, 1 mixte, 2 à distance)"
        ),
        "lheo-offres.xml, ligne 149, enregistrement « C2RP_F_104514 / C2RP_A_559021 » : prix (€) : ne peut pas être négatif",
    ]


def _write(tmp_path, text: str, name: str = "offres.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lheo_bad_codes_and_missing_title(tmp_path):
    fixture = LHEO.read_text(encoding="iso-8859-1").replace(
        'encoding="ISO-8859-1"', 'encoding="UTF-8"'
    )
    broken = fixture.replace(
        "<code-RNCP>37827</code-RNCP>", "<code-RNCP>RNCP-37827X</code-RNCP>"
    ).replace(
        "<intitule-formation>Utiliser l'IA générative au quotidien</intitule-formation>",
        "<intitule-formation></intitule-formation>",
    )
    _, problems = load_file(_write(tmp_path, broken), display="offres.xml")
    errors = _errors(problems)
    assert any(
        "ligne 20" in e and "C2RP_F_104512" in e and "code RNCP invalide : 'RNCP-37827X'" in e
        for e in errors
    ), errors
    assert any(
        "C2RP_F_104513" in e and "titre : intitule-formation manquant" in e for e in errors
    ), errors


@pytest.mark.parametrize(
    ("fixture", "fragment"),
    [
        ("lheo-billion-laughs.xml", "fichier refusé : il déclare des entités XML"),
        ("lheo-entite-externe.xml", "fichier refusé : il déclare une entité XML externe"),
    ],
)
def test_entity_tricks_are_refused(fixture, fragment):
    records, problems = load_file(OFFERS / fixture, display=fixture)
    assert records == []
    assert [str(p) for p in problems] == [f"{fixture} : {p.reason}" for p in problems]
    assert len(problems) == 1 and fragment in problems[0].reason
    assert "root:" not in str(problems)  # /etc/passwd was never read


def test_malformed_and_unknown_xml(tmp_path):
    _, problems = load_file(
        _write(tmp_path, '<?xml version="1.0"?>\n<lheo>\n<offres>\n</lheo>\n'), display="casse.xml"
    )
    (problem,) = problems
    assert problem.line == 4 and problem.reason.startswith("XML mal formé")
    _, problems = load_file(
        _write(tmp_path, "<catalogue><offre/></catalogue>", "autre.xml"), display="autre.xml"
    )
    assert [p.reason for p in problems] == [
        "document XML non reconnu : élément racine « catalogue » (attendu : « lheo » ou « FICHES »)"
    ]


def test_certification_codes():
    assert certification_code("RNCP", "35584") == "RNCP35584"
    assert certification_code("RNCP", "RNCP474") == "RNCP474"  # old fiches have short numbers
    assert certification_code("RS", "rs 6776") == "RS6776"
    for kind, raw in (("RNCP", "1234567"), ("RS", "12345"), ("RNCP", "0"), ("RS", "RNCP6776")):
        with pytest.raises(ValueError):
            certification_code(kind, raw)


def test_real_offers_may_prepare_certifications_not_bundled(tmp_path):
    """cross_check: an imported offer cites any registered certification; an example may not."""
    lines = MCF_2024.read_text(encoding="utf-8").replace(",37827,", ",38616,")
    path = _write(tmp_path, lines, "mcf.csv")
    result = check([KNOWLEDGE, path])
    assert not any("RNCP38616" in str(p) for p in result.problems), result.problems


# -- End to end: imported offers are recommended and cited --------------------------------------------


def _valid_rows(tmp_path) -> Path:
    """The MCF fixture without its broken rows, in the same dialect (``;``, BOM, CRLF)."""
    with MCF.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        rows = [row for row in reader if row["numero_formation"] not in MCF_BROKEN]
        fields = reader.fieldnames
    target = tmp_path / "import" / "mcf-catalogue.csv"
    target.parent.mkdir()
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_imported_offer_is_recommended_and_cited(tmp_path, embedder):
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir)
    index = Index(settings, embedder=embedder)
    with pytest.raises(
        IngestError
    ) as refused:  # the fixture as published: broken rows stop the import
        ingest([KNOWLEDGE, MCF], index)
    assert len(refused.value.problems) == 4
    assert index.is_empty()

    catalogue = _valid_rows(tmp_path)
    first = ingest([KNOWLEDGE, catalogue], index)
    assert (
        first.embedded >= 3
    )  # the imported offers; the bundled passages reuse the shipped vectors
    again = ingest([KNOWLEDGE, catalogue], index)
    assert again.embedded == 0 and again.records == first.records  # same ids, same passages

    assistant = Assistant(settings, index=index)
    answer = assistant.answer(
        "Je suis technicien qualité à Abbeville, je cherche une formation en vision par ordinateur "
        "pour le contrôle qualité"
    )
    vision = next(t for t in answer.trainings if t.title.startswith("Vision par ordinateur"))
    assert vision.id.startswith("mcf-") and vision.illustrative is False
    assert vision.funding == ["cpf"] and vision.department == "80"
    cited = next(c for c in answer.citations if c.id == f"training:{vision.id}:1")
    assert cited.source == f"{MCF_SOURCE}, extrait du 29/05/2026"
    assert cited.illustrative is False

    # The offer's page states its département, not « à distance » (the file gives no commune).
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from web.app import create_app

    with TestClient(create_app(settings, assistant=assistant)) as client:
        page = client.get(f"/formations/{vision.id}")
    assert page.status_code == 200
    facts = {
        dt.get_text(strip=True): dt.find_next_sibling("dd").get_text(" ", strip=True)
        for dt in BeautifulSoup(page.text, "html.parser").select("dt")
    }
    assert facts["Lieu"] == "Somme (80) (commune non précisée)"
    index.close()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_cli_check_lists_errors_and_notices():
    from typer.testing import CliRunner

    from web.cli import app

    result = CliRunner().invoke(app, ["ingest", "--check", str(MCF)])
    assert result.exit_code == 1
    assert (
        "- mcf-catalogue.csv, ligne 12, enregistrement « 90111222300027_DATAANALYST » : code RNCP invalide"
        in result.output
    )
    assert (
        "- (information) mcf-catalogue.csv : 2 offre(s) hors Hauts-de-France ignorée(s)"
        in result.output
    )
    assert "3 training ; 4 problème(s)." in result.output  # notices are not counted as problems
    result = CliRunner().invoke(app, ["ingest", "--check", str(MCF_2024)])
    assert result.exit_code == 0, result.output


def test_chunk_of_an_offer_without_commune_states_its_departement():
    from ingest.chunking import chunk_records

    chunks = {c.title: c.text for c in chunk_records(load_file(MCF)[0], model_name="e5-small")}
    assert (
        "dans le département Nord (59), commune non précisée"
        in chunks["IA générative au bureau : rédiger, synthétiser, vérifier"]
    )
    assert (
        "à distance, par un organisme du département Pas-de-Calais (62)"
        in chunks["Développeur en intelligence artificielle — parcours à distance"]
    )
    assert not any("accessible partout" in text for text in chunks.values())
