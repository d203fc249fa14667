"""Recommendations: hard constraints, relax-and-explain, reasons, code lookups, blocs."""

from __future__ import annotations

import pytest

from assistant import Profile
from assistant.recommend import learners_of, violations


@pytest.mark.parametrize(
    ("question", "check"),
    [
        ("formation IA dans la Somme", lambda t: t.department == "80" or t.format == "distanciel"),
        ("formation IA en ligne", lambda t: t.format == "distanciel"),
        ("formation IA en présentiel à Lille", lambda t: t.format == "présentiel" and t.department == "59"),
        ("formation IA de moins de 10 heures", lambda t: t.duration_hours <= 10),
        ("formation IA gratuite", lambda t: t.price_eur == 0),
        ("formation IA non certifiante à Amiens", lambda t: t.certification_code is None),
        ("formation IA hybride de moins de 2000 € dans le Nord", lambda t: t.format == "mixte" and t.price_eur <= 2000),
    ],
)
def test_each_constraint_is_met(corpus_assistant, question, check):
    answer = corpus_assistant.answer(question)
    assert answer.trainings, question
    assert all(check(t) for t in answer.trainings), [(t.id, t.why) for t in answer.trainings]
    assert all(not t.relaxed for t in answer.trainings)


def test_no_training_breaking_a_constraint_when_one_meets_them(corpus_assistant):
    kb = corpus_assistant.knowledge()
    profile = Profile(department="02", format="présentiel", max_hours=14)
    assert any(not violations(t, profile) for t in kb.trainings.values())
    answer = corpus_assistant.answer("formation IA en présentiel dans l'Aisne de 14 heures maximum")
    assert answer.trainings and all(not violations(kb.trainings[t.id], profile) for t in answer.trainings)


def test_relax_and_explain_when_nothing_meets_every_constraint(corpus_assistant):
    kb = corpus_assistant.knowledge()
    question = "formation IA certifiante gratuite en présentiel dans l'Aisne de moins de 5 heures"
    answer = corpus_assistant.answer(question)
    profile = answer.profile
    assert not any(not violations(t, profile) for t in kb.trainings.values())
    assert answer.trainings
    assert "Aucune formation du catalogue ne correspond à une formation" in answer.answer
    for t in answer.trainings:
        assert t.relaxed, "each proposal names what it relaxes"
        assert f"assouplit {', '.join(t.relaxed)}" in answer.answer


@pytest.mark.parametrize("question", ["formation IA finançable avec mon CPF", "formation IA certifiante"])
def test_cpf_or_certifying_requests_are_relaxed_openly(corpus_assistant, question):
    """The examples claim no real certification, so none is CPF-funded: proposals say what they relax."""
    kb = corpus_assistant.knowledge()
    assert not any(t.certification_code or "cpf" in t.funding for t in kb.trainings.values() if t.illustrative)
    answer = corpus_assistant.answer(question)
    assert all(t.relaxed for t in answer.trainings)


def test_why_states_the_fit(corpus_assistant):
    answer = corpus_assistant.answer("formation IA à distance pour un comptable")
    assert answer.trainings
    for t in answer.trainings:
        assert "à distance" in t.why
        assert t.why.count("\u00a0h") == 1


def test_no_training_of_another_trade_when_none_fits_the_job(corpus_assistant):
    """A comptable asking for a CPF distance training gets the nearest comptable trainings, with
    what they relax, never a course for another trade (issue 10, class 8)."""
    answer = corpus_assistant.answer("formation IA à distance éligible au CPF pour un comptable")
    kb = corpus_assistant.knowledge()
    for t in answer.trainings:
        codes = kb.trainings[t.id].rome_codes
        assert not codes or any(c.startswith("M12") for c in codes), t.title
        assert ("CPF" in t.why and "à distance" in t.why) or t.relaxed


def test_a_bloc_question_cites_the_fiche_and_no_example_claims_it(corpus_assistant):
    answer = corpus_assistant.answer("Quelles formations préparent le bloc RNCP37827BC02 ?")
    cited = [c for c in answer.citations if c.id.startswith("certification:RNCP37827")]
    assert cited and cited[0].url == "https://www.francecompetences.fr/recherche/rncp/37827/"
    assert not any("RNCP37827BC02" in t.blocs for t in answer.trainings)


@pytest.mark.parametrize(
    ("question", "record"),
    [
        ("RNCP37827", "certification:RNCP37827"),
        ("Que contient le bloc RNCP38777BC04 ?", "certification:RNCP38777"),
        ("RS6776", "certification:RS6776"),
        ("Fiche ROME M1805 : quel impact de l'IA ?", "role:M1805"),
    ],
)
def test_code_lookups(corpus_assistant, question, record):
    answer = corpus_assistant.answer(question)
    assert answer.answered
    assert record in [":".join(c.id.split(":")[:2]) for c in answer.citations[:3]]


def test_certifications_attest_the_role(corpus_assistant):
    answer = corpus_assistant.answer("Je suis développeur à Lille, quelles compétences IA ?")
    assert answer.profile.role == "M1805"
    assert answer.certifications
    assert all(c.status != "inactive" for c in answer.certifications)


def test_citations_name_their_real_source(corpus_assistant):
    """ROME sheets cite France Travail with the sheet's URL; the team's notes cite Orientia."""
    answer = corpus_assistant.answer("Je suis comptable à Arras, que dois-je apprendre sur l'IA ?")
    by_id = {c.id: c for c in answer.citations}
    sheet = by_id.get("role:M1203:1")
    note = by_id.get("role:M1203:2")
    assert sheet is not None and note is not None, list(by_id)
    assert "France Travail" in sheet.source and sheet.url.endswith("/fiche-metier/M1203")
    assert (note.kind, note.source, note.url) == ("orientia", "Orientia", None)
    for c in answer.citations:
        if c.kind == "study":
            assert "Orientia" not in c.source


def test_nearest_options_relax_the_fewest_constraints(corpus_assistant):
    """When nothing meets every constraint, only the options relaxing the fewest are offered."""
    answer = corpus_assistant.answer("formation IA certifiante gratuite en présentiel dans l'Aisne de moins de 5 heures")
    assert answer.trainings
    assert len({len(t.relaxed) for t in answer.trainings}) == 1, [(t.id, t.relaxed) for t in answer.trainings]


def test_a_required_bound_is_never_relaxed(corpus_assistant):
    """« moins cher » after a list: nothing dearer is offered again, whatever else is relaxed."""
    kb = corpus_assistant.knowledge()
    profile = Profile(department="02", format="présentiel", max_price=100, certifying=True, max_hours=5)
    assert not any(not violations(t, profile) for t in kb.trainings.values())
    vector = corpus_assistant.retriever.embed("formation IA")
    rec = corpus_assistant.recommender.recommend(kb, "formation IA", profile, vector=vector, required={"max_price"})
    assert rec.trainings and not rec.all_constraints_met
    assert all(t.price_eur <= 100 for t in rec.trainings)
    assert all("le budget" not in t.relaxed for t in rec.trainings)


def test_a_training_meant_for_others_is_not_recommended(corpus_assistant):
    """A free workshop for job seekers (catalogue column ``public``) is offered to a job seeker,
    never to an employee of the same trade (issue 10, class 8)."""
    kb = corpus_assistant.knowledge()
    reserved = {t.id for t in kb.trainings.values() if t.public == ["demandeur_emploi"]}
    assert reserved
    employee = corpus_assistant.answer("je suis magasinier à Lille, une formation IA gratuite en présentiel ?")
    seeker = corpus_assistant.answer("je suis au chômage, j'étais magasinier à Lille, une formation IA gratuite en présentiel ?")
    assert employee.trainings and not reserved & {t.id for t in employee.trainings}
    assert reserved & {t.id for t in seeker.trainings}


@pytest.mark.parametrize(
    ("profile", "learners"),
    [
        (Profile(audience="eleve"), "eleve"),
        (Profile(audience="salarie", situation="demandeur_emploi"), "demandeur_emploi"),
        (Profile(audience="rh", learners_are_asker=False), "salarie"),
        (Profile(audience="entreprise", learners_are_asker=True), "dirigeant"),
        (Profile(audience="entreprise", learners_are_asker=False), "salarie"),
        (Profile(situation="independant"), "independant"),
    ],
)
def test_who_the_learners_are(profile, learners):
    assert learners_of(profile) == learners


@pytest.mark.parametrize("rome", ["D1202", "H2913", "K2106"])
def test_no_bloc_that_shares_only_generic_words_with_the_job(corpus_assistant, rome):
    """A hairdresser's « organisation d'évènements professionnels » is not « piloter
    l'organisation d'événements sportifs »; a teacher's « gérer un projet » is not « gérer un
    projet IA »: a bloc matches a job's skill on its topic and most of its title."""
    from assistant.skillmatch import blocs_for_role

    kb = corpus_assistant.knowledge()
    role = kb.roles[rome]
    assert blocs_for_role(role, list(kb.certifications.values())) == []


def test_a_developer_still_gets_the_blocs_of_his_trade(corpus_assistant):
    from assistant.skillmatch import blocs_for_role

    kb = corpus_assistant.knowledge()
    found = blocs_for_role(kb.roles["M1805"], list(kb.certifications.values()))
    assert any("application" in m.bloc.title.lower() for m in found)
