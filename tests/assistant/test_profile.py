"""Profile extraction from French (and English) phrasings."""

from __future__ import annotations

import pytest

from assistant.models import Profile
from assistant.profile import ProfileExtractor, merge_profiles
from ingest import check

from ..conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def extract():
    records = check([KNOWLEDGE]).records
    roles = {r.record.id: r.record for r in records if r.kind == "role"}
    places = {r.ident: r.record for r in records if r.kind == "place"}
    return ProfileExtractor(roles, places).extract


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("Je suis comptable à Arras", "M1203"),
        ("je suis assistante de direction", "M1604"),
        ("assitante de direction, quelles formations ?", "M1604"),
        ("je suis comptabe", "M1203"),
        ("infirmiere a Lens", "J1506"),
        ("préparateur de commandes dans un entrepôt", "N1103"),
        ("chargée de recrutement", "M1502"),
        ("technicienne de maintenance", "I1304"),
        ("I'm an accountant in Arras", "M1203"),
        ("Fiche ROME M1203 : quel impact ?", "M1203"),
        ("Je suis lycéen : quels métiers de l'IA recrutent ?", None),
    ],
)
def test_role(extract, question, role):
    assert extract(question).role == role


@pytest.mark.parametrize(
    ("question", "department"),
    [
        ("une formation à Laon", "02"),
        ("près de Beauvais", "60"),
        ("dans le Pas-de-Calais", "62"),
        ("dans le 62", "62"),
        ("à Villeneuve-d'Ascq", "59"),
        ("a saint-quentin", "02"),
        ("training in Lille", "59"),
        ("formation Nord maintenance", "59"),
        ("à Amiens (80)", "80"),
        ("formation de 60 heures", None),
        ("IMT Nord Europe", None),
    ],
)
def test_department(extract, question, department):
    assert extract(question).department == department


@pytest.mark.parametrize(
    ("question", "fmt"),
    [
        ("à distance", "distanciel"), ("en ligne", "distanciel"), ("e-learning", "distanciel"),
        ("online please", "distanciel"), ("sur place", "présentiel"), ("en présentiel", "présentiel"),
        ("hybride", "mixte"), ("une formation", None),
    ],
)
def test_format(extract, question, fmt):
    assert extract(question).format == fmt


@pytest.mark.parametrize(
    ("question", "hours"),
    [
        ("moins de 20 heures", 20), ("20 h maximum", 20), ("3 jours maximum", 21), ("une semaine", 35),
        ("under 20 hours", 20), ("pas plus de 2 jours", 14), ("formations courtes", 35), ("une formation", None),
    ],
)
def test_max_hours(extract, question, hours):
    assert extract(question).max_hours == hours


@pytest.mark.parametrize(
    ("question", "price"),
    [
        ("moins de 1000 €", 1000), ("moins de 1 000 euros", 1000), ("budget de 500 euros", 500),
        ("gratuite", 0), ("free course", 0), ("under 300 euros", 300), ("une formation", None),
    ],
)
def test_max_price(extract, question, price):
    assert extract(question).max_price == price


@pytest.mark.parametrize(
    ("question", "funding"),
    [
        ("avec mon CPF", ["cpf"]), ("financée par l'OPCO", ["opco"]), ("par mon employeur", ["plan"]),
        ("je suis demandeur d'emploi", ["france_travail"]), ("Transitions Pro", ["transitions_pro"]),
        ("une formation", []),
    ],
)
def test_funding(extract, question, funding):
    assert extract(question).funding == funding


@pytest.mark.parametrize(
    ("question", "certifying"),
    [("une formation certifiante", True), ("formation non certifiante", False), ("une formation", None)],
)
def test_certifying(extract, question, certifying):
    assert extract(question).certifying is certifying


@pytest.mark.parametrize(
    ("question", "audience"),
    [
        ("Je suis lycéen", "eleve"), ("c'est pour mon exposé au collège", "eleve"),
        ("Service RH : quelles formations ?", "rh"), ("formations IA pour 10 assistants de direction", "rh"),
        ("comment former mon équipe logistique", "entreprise"), ("je suis comptable", "salarie"),
    ],
)
def test_audience(extract, question, audience):
    assert extract(question).audience == audience


def test_merge_keeps_the_conversation_and_lets_explicit_values_win(extract):
    first = extract("Je suis comptable à Arras, quelles formations ?")
    follow = merge_profiles(first, extract("et à distance ?"))
    assert (follow.role, follow.department, follow.format) == ("M1203", "62", "distanciel")
    colleague = merge_profiles(follow, extract("et pour mon collègue à Amiens ?"))
    assert (colleague.role, colleague.department) == ("M1203", "80")
    override = merge_profiles(colleague, extract("et en ligne ?"), Profile(format="présentiel"))
    assert override.format == "présentiel"
