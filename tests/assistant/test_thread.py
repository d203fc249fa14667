"""Conversation threads, quick replies and next steps of the service (issue 15)."""

from __future__ import annotations

import pytest

from assistant import Assistant, Index
from assistant.models import Answer, Profile, TrainingSummary
from assistant.quick_replies import suggest

from ..conftest import make_settings

QUESTION = "Quelles formations en IA pour un comptable ?"


@pytest.fixture(scope="module")
def assistant(corpus_dir, tmp_path_factory, embedder):
    """An assistant over a private copy of the ingested corpus (it writes turns)."""
    import shutil

    data_dir = tmp_path_factory.mktemp("thread") / "data"
    shutil.copytree(corpus_dir, data_dir)
    settings = make_settings(data_dir)
    assistant = Assistant(settings, index=Index(settings, embedder=embedder))
    yield assistant
    assistant.index.close()


def test_each_answer_is_a_turn_of_the_thread(assistant):
    first = assistant.answer(QUESTION)
    second = assistant.answer("et à distance ?", conversation_id=first.conversation_id)
    thread = assistant.thread(first.conversation_id)
    assert [t.position for t in thread] == [1, 2]
    assert [t.question for t in thread] == [QUESTION, "et à distance ?"]
    assert thread[1].answer == second
    assert thread[0].created_at <= thread[1].created_at
    assert assistant.thread("inconnue") == [] and assistant.thread("") == []


def test_declined_questions_are_turns_too(assistant):
    answer = assistant.answer("Quelle est la recette de la tarte au maroilles ?")
    assert not answer.answered
    [turn] = assistant.thread(answer.conversation_id)
    assert not turn.answer.answered and len(turn.answer.quick_replies) >= 2


def test_the_question_is_scrubbed_but_public_numbers_in_answers_stay(assistant):
    answer = assistant.answer("Quelle est la recette de la tarte au maroilles ?")
    assert "0800 02 60 80" in answer.answer
    assert "0800 02 60 80" in assistant.thread(answer.conversation_id)[0].answer.answer
    asked = assistant.answer("Je suis comptable (paul@exemple.org, 07 11 22 33 44), quelles formations ?")
    [turn] = assistant.thread(asked.conversation_id)
    assert "paul@exemple.org" not in turn.question and "07 11 22 33 44" not in turn.question
    assert turn.question.startswith("Je suis comptable (")


def test_quick_replies_are_read_as_refinements(assistant):
    first = assistant.answer(QUESTION)
    assert 2 <= len(first.quick_replies) <= 4
    read = assistant.understanding.reader(assistant.knowledge()).read
    for reply in first.quick_replies:
        if reply.startswith("Moins cher"):
            assert read(reply).cheaper, reply
        if reply.startswith("Plus court"):
            assert read(reply).shorter, reply
        if reply.startswith("Et à distance"):
            assert read(reply).format == "distanciel"
    follow = assistant.answer(first.quick_replies[0], conversation_id=first.conversation_id)
    assert follow.answered, first.quick_replies[0]
    if first.quick_replies[0].startswith("Moins cher") and follow.trainings:
        assert max(t.price_eur for t in follow.trainings) < min(t.price_eur for t in first.trainings)


def _training(**values) -> TrainingSummary:
    data = {
        "id": "F001", "title": "IA", "provider": "Exemple", "city": "Arras", "department": "62",
        "format": "présentiel", "duration_hours": 14, "price_eur": 1200, "funding": [],
        "certification_code": None, "url": None,
    }
    data.update(values)
    return TrainingSummary(**data)


def _answer(profile: Profile, **values) -> Answer:
    return Answer(conversation_id="c", answered=True, answer="Réponse.", profile=profile, **values)


def test_suggest_follows_the_answer_and_the_profile():
    profile = Profile(role="comptable", role_label="Comptable", department="62", audience="eleve")
    replies = suggest(profile, _answer(profile, trainings=[_training()]))
    assert replies[0] == "Et expliqué plus simplement\u202f?"
    assert "Moins cher\u202f?" in replies
    assert "Et à distance\u202f?" in replies
    assert len(replies) == 4
    remote = Profile(format="distanciel", department="59", max_price=0)
    replies = suggest(remote, _answer(remote, trainings=[_training(price_eur=0, format="distanciel")]))
    assert "Et à distance\u202f?" not in replies and "Et dans le Pas-de-Calais\u202f?" in replies
    assert 2 <= len(replies) <= 4
    declined = Answer(conversation_id="c", answered=False, answer="Non.", profile=Profile())
    assert 2 <= len(suggest(Profile(), declined)) <= 4


def test_keep_and_kept(assistant):
    answer = assistant.answer(QUESTION)
    ids = [t.id for t in answer.trainings][:2]
    assert assistant.keep(answer.conversation_id, [*ids, ids[0]]) == ids
    assert [t.id for t in assistant.kept(answer.conversation_id)] == ids
    assert assistant.kept("inconnue") == []
    assistant.forget(answer.conversation_id)
    assert assistant.thread(answer.conversation_id) == []
    assert assistant.kept(answer.conversation_id) == []


def test_next_steps_cite_the_passage_that_says_them(assistant):
    steps = assistant.next_steps()
    assert len(steps) == 4
    from assistant.service import next_step_entries

    for step, entry in zip(steps, next_step_entries(), strict=True):
        passage = assistant.source(step.citation.id)
        assert entry["contains"] in passage.text, step.name
        assert passage.record_key == entry["record"]
    assert "0800 02 60 80" in assistant.source(steps[1].citation.id).text


def test_a_pupil_welcomed_is_offered_a_pupils_questions_not_a_simpler_version():
    pupil = Profile(audience="eleve", department="02")
    replies = suggest(pupil, _answer(pupil))
    assert "Et expliqué plus simplement\u202f?" not in replies
    assert "C’est quoi l’IA\u202f?" in replies and 2 <= len(replies) <= 4
