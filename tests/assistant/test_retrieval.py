"""Intent, focus and query expansion: what the question asks for, and how it is searched."""

from __future__ import annotations

import pytest

from assistant.lexical import expand_query
from assistant.retrieval import detect_focus, detect_intents


@pytest.mark.parametrize(
    ("question", "ignore", "focus"),
    [
        # An explicit request for trainings wins over the scheme that would pay for them.
        ("Service RH : quelles formations IA certifiantes pour nos gestionnaires de paie, finançables par l'OPCO ?", [], "training"),
        ("Avec mon CPF, quelle formation IA à distance ?", [], "training"),
        ("Je voudrais apprendre à coder avec l'IA, en payant avec mon CPF.", [], "training"),
        ("AI training programs for nurses in Lille", [], "training"),
        # A scheme whose name contains "formation" is not a request for trainings.
        ("Le FNE-Formation peut-il financer une formation au numérique ?", [], "funding"),
        ("Je dois bâtir un plan de formation à l'IA pour nos salariés : comment le financer ?", [], "funding"),
        ("Mon employeur peut-il m'imposer une formation IA le samedi ?", [], "funding"),
        ("CPF IA", [], "funding"),
        # The asker's job title is not a request either.
        ("Responsable formation à Lille, qui paie une formation IA pour mon équipe ?", ["Responsable formation"], "funding"),
        ("Quelle certification pour un comptable qui veut se spécialiser en IA ?", [], "certification"),
        ("Le titre RNCP36129 est-il encore valide ?", [], "certification"),
        # "What should I learn" asks for the job's skills; "how do I" asks for an approach.
        ("Je suis comptable à Arras, que dois-je apprendre sur l'IA ?", [], None),
        ("Comment former mon équipe logistique à l'IA ?", [], None),
        ("Les infirmières vont-elles être remplacées par l'IA ?", [], None),
    ],
)
def test_focus_is_what_the_question_asks_for(question, ignore, focus):
    assert detect_focus(question, ignore=ignore) == focus


def test_intents_read_english_and_everyday_words():
    assert "training" in detect_intents("Certified AI developer program in Amiens")
    assert "funding" in detect_intents("J'aimerais faire reconnaître mes années d'expérience")
    assert "impact" in detect_intents("Les métiers de l'IA recrutent-ils ?")
    # "rester dans la course" is not a course.
    assert "training" not in detect_intents("Comment rester dans la course face à l'IA ?")


@pytest.mark.parametrize(
    ("question", "added"),
    [
        ("AI training online under 20 hours", ["formation", "distance", "heures", "IA"]),
        ("Free courses for beginners", ["gratuit", "débutant"]),
        ("Faire reconnaître mes années de pratique par un titre", ["VAE"]),
        ("Notre PME de 30 salariés veut former ses équipes", ["OPCO"]),
    ],
)
def test_lexical_query_expansion(question, added):
    expanded = expand_query(question)
    assert expanded.startswith(question)
    for word in added:
        assert word in expanded


def test_expansion_leaves_plain_french_alone():
    question = "Quelles formations en comptabilité à Arras ?"
    assert expand_query(question) == question
    # A company of 80 is not told about the OPCO rule for companies under 50.
    assert "OPCO" not in expand_query("Notre entreprise de 80 salariés veut se former")


def test_lexical_search_finds_french_passages_for_english_words(corpus_assistant):
    kb = corpus_assistant.knowledge()
    rows = kb.lexical.search("free AI courses for beginners", 5, None)
    keys = [kb.chunks[row].record_key for row, _ in rows]
    assert any(key in ("document:formations-gratuites-ia", "training:F087", "training:F088") for key in keys)
