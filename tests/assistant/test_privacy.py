"""Personal data scrubbing: every kind, in the forms people type them, and what must stay."""

from __future__ import annotations

import pytest
from stdnum import iban, luhn
from stdnum.fr import nir

from assistant.privacy import PLACEHOLDERS, scrub

# Valid numbers, built with python-stdnum's own check-digit functions.
NIR_BODY = "2850862123456"  # woman, born 1985-08, Pas-de-Calais (62), commune 123, order 456
NIR = NIR_BODY + nir.calc_check_digits(NIR_BODY)
NIR_SPACED = " ".join([NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]])
IBAN_FR = "FR7630006000011234567890189"
IBAN_SPACED = " ".join(IBAN_FR[i:i + 4] for i in range(0, len(IBAN_FR), 4))
CARD_BODY = "497010000000000"
CARD = CARD_BODY + luhn.calc_check_digit(CARD_BODY)
CARD_SPACED = " ".join(CARD[i:i + 4] for i in range(0, 16, 4))


def test_the_test_numbers_are_valid():
    assert nir.is_valid(NIR) and iban.is_valid(IBAN_FR) and luhn.is_valid(CARD)


@pytest.mark.parametrize(
    ("text", "secret", "placeholder"),
    [
        ("Écrivez-moi à jean.dupont@example.fr merci", "jean.dupont@example.fr", "email"),
        ("mon mail : Marie_Curie+ia@univ-lille.fr.", "Marie_Curie+ia@univ-lille.fr", "email"),
        ("contact : jean (at) example (dot) com", "example (dot) com", "email"),
        ("Appelez le 06 12 34 56 78 svp", "06 12 34 56 78", "phone"),
        ("tél 0612345678", "0612345678", "phone"),
        ("tel: 03.21.45.67.89 (bureau)", "03.21.45.67.89", "phone"),
        ("joignable au +33 6 12 34 56 78", "+33 6 12 34 56 78", "phone"),
        ("ou au 0033 3 22 45 67 89", "3 22 45 67 89", "phone"),
        ("London office +44 20 7946 0958", "+44 20 7946 0958", "phone"),
        ("Bonjour, je m'appelle Marie Lefebvre et je suis comptable", "Marie Lefebvre", "name"),
        ("je m’appelle jean dupont je cherche une formation", "jean dupont", "name"),
        ("Mon nom est Durand, aide-soignante à Lens", "Durand", "name"),
        ("Hello, my name is John Smith and I work in Lille", "John Smith", "name"),
        ("Moi c'est Kévin, j'ai 17 ans", "Kévin", "name"),
        ("Je travaille avec Mme Fournier au service RH", "Fournier", "name"),
        ("Je suis Jean-Baptiste Wattrelot, rappelez-moi", "Jean-Baptiste Wattrelot", "name"),
        ("I'm Sarah Connor from Lille", "Sarah Connor", "name"),
        ("J'habite 12 rue de la Paix, 59000 Lille", "12 rue de la Paix", "address"),
        ("J'habite 12 rue de la Paix, 59000 Lille", "59000 Lille", "address"),
        ("adresse : 3 bis avenue Jean Jaurès 62000 Arras", "avenue Jean Jaurès", "address"),
        ("au 7 place du Général de Gaulle à Amiens", "place du Général de Gaulle", "address"),
        ("code postal 02100 Saint-Quentin", "02100 Saint-Quentin", "address"),
        (f"mon numéro de sécu est {NIR}", NIR, "nir"),
        (f"sécu : {NIR_SPACED}.", NIR_SPACED, "nir"),
        (f"sans la clé : {NIR_BODY}", NIR_BODY, "nir"),
        (f"IBAN {IBAN_FR} pour le virement", IBAN_FR, "iban"),
        (f"IBAN : {IBAN_SPACED} merci", IBAN_SPACED, "iban"),
        (f"ma carte {CARD} expire bientôt", CARD, "card"),
        (f"carte {CARD_SPACED}", CARD_SPACED, "card"),
    ],
)
def test_scrub_removes_each_kind(text, secret, placeholder):
    cleaned = scrub(text)
    assert secret not in cleaned
    assert PLACEHOLDERS[placeholder] in cleaned


def test_scrub_removes_everything_at_once():
    text = (
        f"Bonjour, je m'appelle Sophie Martin, sophie.martin@example.org, 06 98 76 54 32, "
        f"4 impasse des Lilas 80000 Amiens, sécu {NIR}, IBAN {IBAN_FR}. Quelles formations IA pour une comptable ?"
    )
    cleaned = scrub(text)
    for secret in ("Sophie", "Martin", "sophie.martin", "98 76 54 32", "Lilas", "80000", NIR, IBAN_FR):
        assert secret not in cleaned, (secret, cleaned)
    assert cleaned.endswith("Quelles formations IA pour une comptable ?")


@pytest.mark.parametrize(
    "text",
    [
        "Je suis comptable à Arras, quelles formations à l'IA ?",
        "Formations IA courtes en distanciel pour 10 assistants de direction, finançables par l'OPCO",
        "Le bloc RNCP37827BC02 et la certification RS9101 sont-ils éligibles au CPF ?",
        "Une formation de 21 h à 1 050 € à Saint-Quentin dans l'Aisne (02) en 2027",
        "12 cours de Python et 3 places disponibles, 35 heures, session du 08/03/2027",
        "Quel salaire pour un technicien de maintenance en 2030 ? 45 000 emplois concernés",
        "je suis aide-soignante et je voudrais me former",
        "Je suis RH dans une PME, je suis responsable formation",
        "Je suis au lycée, et je suis en Terminale",
        "",
    ],
)
def test_scrub_keeps_ordinary_questions(text):
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je m'appelle marie j'ai 40 ans", "je m'appelle [nom] j'ai 40 ans"),
        ("Je m'appelle Marie comptable à Lens", "Je m'appelle [nom] comptable à Lens"),
        ("Mon nom est Jean de La Fontaine.", "Mon nom est [nom]."),
        ("Cordialement, Paul Durand", "Cordialement, [nom]"),
        ("Appelez-moi (06 12 34 56 78) demain", "Appelez-moi ([téléphone]) demain"),
    ],
)
def test_scrub_keeps_the_words_around(text, expected):
    assert scrub(text) == expected


def test_scrub_is_stable():
    once = scrub(f"je m'appelle Paul Durand, 06 12 34 56 78, {IBAN_FR}")
    assert scrub(once) == once
