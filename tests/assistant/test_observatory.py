"""Observatory rules on their own: the unmet-constraint sentence, reasons, public merging, storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assistant.models import Profile
from assistant.observatory import (
    ObservatoryFilters,
    build_report,
    conversation_key,
    parse_reason,
    purge,
    unmet_sentence,
)
from assistant.store import Store


@pytest.mark.parametrize(
    ("profile", "sentence"),
    [
        (Profile(format="distanciel", max_hours=14, department="02"), "aucune formation à distance d'au plus 14 h dans l'Aisne"),
        (Profile(certifying=True, format="présentiel", max_price=0, department="80"), "aucune formation certifiante en présentiel gratuite dans la Somme"),
        (Profile(max_price=499.5, funding=["cpf", "opco"], department="62"), "aucune formation à 499,5 € au plus finançable par CPF ou OPCO dans le Pas-de-Calais"),
        (Profile(role="comptable"), ""),
    ],
)
def test_unmet_sentence(profile, sentence):
    assert unmet_sentence(profile) == sentence


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Il manque des sources", "sources_manquantes"),
        ("  il manque   des SOURCES ", "sources_manquantes"),
        ("La formation ne correspond pas a ma situation", "formation_inadaptee"),
        ("reponse_incomplete", "reponse_incomplete"),
        ("Réponse incomplète", "reponse_incomplete"),
        ("informations fausses", "informations_fausses"),
        ("Autre", "autre"),
        ("", None),
        (None, None),
    ],
)
def test_parse_reason(value, code):
    assert parse_reason(value) == code


def test_unknown_reason_lists_the_choices():
    with pytest.raises(ValueError, match="Raison inconnue.*« Réponse incomplète »"):
        parse_reason("trop long")


def _record(store: Store, *, key: str, department: str | None, audience: str | None, answered: bool = True, when=None, unmet: str = ""):
    store.add_observation({
        "created_at": when or datetime.now(UTC), "conversation_key": conversation_key(key), "turn": 1,
        "audience": audience, "department": department, "answered": answered, "latency_ms": 5.0,
        "unmet": unmet, "data": {"topics": ["training"], "trainings": ["F001"]}, "question": f"question {key}",
    })


@pytest.fixture
def store(database_url):
    """A new store on SQLite, then on PostgreSQL."""
    store = Store(database_url)
    yield store
    store.dispose()


def test_public_view_merges_counts_under_five(store):
    for i in range(6):
        _record(store, key=f"n{i}", department="59", audience="salarie")
    for i in range(2):
        _record(store, key=f"a{i}", department="02", audience="rh", unmet="aucune formation à distance dans l'Aisne")
    _record(store, key="s", department="80", audience="eleve", answered=False)
    for i in range(2):
        _record(store, key=f"e{i}", department="60", audience="entreprise")
    admin = build_report(store, ObservatoryFilters(), public=False)
    public = build_report(store, ObservatoryFilters(), public=True)
    assert admin.questions_total == public.questions_total == 11
    assert {c.key: c.count for c in admin.by_audience} == {"salarie": 6, "rh": 2, "eleve": 1, "entreprise": 2}
    assert {c.key: c.count for c in public.by_audience} == {"salarie": 6, "autres": 5}
    assert {c.key: c.count for c in public.by_department} == {"59": 6, "autres": 5}
    assert public.unmet == [], "two questions, even merged, stay under 5: left out"
    assert public.questions == [] and public.unanswered == []
    assert [r.question for r in admin.unanswered] == ["question s"]
    assert build_report(store, ObservatoryFilters(department="02"), public=False).questions_total == 2
    assert {c.key: c.count for c in admin.topics} == {"training": 11}
    assert {c.key: c.count for c in build_report(store, ObservatoryFilters(audience="rh"), public=False).trainings} == {"F001": 2}


def test_period_and_purge(store):
    _record(store, key="old", department="62", audience="salarie", when=datetime.now(UTC) - timedelta(days=40))
    _record(store, key="new", department="62", audience="salarie")
    store.save_feedback(conversation_key=conversation_key("new"), turn=1, useful=True, reason=None, comment="")
    assert build_report(store, ObservatoryFilters(period_days=30), public=False).questions_total == 1
    assert build_report(store, ObservatoryFilters(), public=False).questions_total == 2
    removed = purge(store, retention_days=30, conversation_ttl_hours=24)
    assert removed["records"] == 1 and removed["feedback"] == 0
    report = build_report(store, ObservatoryFilters(), public=False)
    assert report.questions_total == 1 and report.feedback_total == 1
    assert store.count_observation_codes()["topics"] == {"training": 1}, "the codes of purged records go too"


def test_one_opinion_per_answer(store):
    key = conversation_key("c")
    assert store.save_feedback(conversation_key=key, turn=1, useful=False, reason="autre", comment="a") is True
    assert store.save_feedback(conversation_key=key, turn=1, useful=True, reason=None, comment="b") is False
    assert store.save_feedback(conversation_key=key, turn=2, useful=True, reason=None, comment="") is True
    rows = store.load_feedback()
    assert [(r["turn"], r["useful"], r["comment"]) for r in rows] == [(1, True, "b"), (2, True, "")]


def test_a_legacy_feedback_table_is_kept_scrubbed(tmp_path):
    """A database from before the observatory: free comments in clear, tied to nothing."""
    url = f"sqlite:///{tmp_path / 'ancien.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY, created_at DATETIME NOT NULL, "
            "conversation_id VARCHAR(64), helpful BOOLEAN NOT NULL, comment TEXT NOT NULL)"
        ))
        conn.execute(sa.text(
            "INSERT INTO feedback (created_at, conversation_id, helpful, comment) VALUES "
            "('2026-01-01 10:00:00', 'abc', 1, 'écrivez à paul.durand@example.fr ou au 06 12 34 56 78')"
        ))
    engine.dispose()
    store = Store(url)
    with store.engine.connect() as conn:
        legacy = conn.execute(sa.text("SELECT comment, conversation_id FROM feedback_legacy")).one()
    assert legacy.comment == "écrivez à [courriel] ou au [téléphone]" and legacy.conversation_id is None
    assert store.save_feedback(conversation_key="k", turn=1, useful=True, reason=None, comment="") is True
    store.dispose()
    Store(url).dispose()  # opening again changes nothing
    for path in tmp_path.iterdir():
        assert b"paul.durand" not in path.read_bytes(), path
