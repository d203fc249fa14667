"""Structure and reference checks of the conversation evaluation sets.

These tests read the two YAML files only; they never call the assistant. They check that every
conversation is well formed, that every ROME code exists in the official ROME 4.0 referential
(the shared copy of the France Travail release when present, else the copy bundled under
knowledge/), that every département is one of the region's five, that each direct-answer
expectation is grounded in the bundled corpus, and that both sets cover every persona and every
class of the issue.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = ROOT / "tests" / "eval"
SETS = {
    "dev": (EVAL_DIR / "conversations.yaml", "cd"),
    "heldout": (EVAL_DIR / "conversations_heldout.yaml", "ch"),
}
SHARED_DATA = Path("/work/shared/data")

PERSONAS = {
    "magasinier",
    "infirmiere",
    "guichetiere",
    "chauffeur",
    "designer",
    "rh",
    "eleve",
    "patron",
    "demandeur_emploi",
    "technicien_labo",
    "petite_commune",
    "intitule_officiel",
    "nom_courant",
}
CLASSES = {
    "negation",
    "correction",
    "learners",
    "constraints",
    "audience",
    "job",
    "direct_answer",
    "nothing_fits",
    "follow_up",
    "language",
    "scope",
}
DEPARTMENTS = {"02", "59", "60", "62", "80"}
FORMATS = {"présentiel", "distanciel", "mixte"}
AUDIENCES = {"salarie", "rh", "eleve", "entreprise"}
FUNDING = {"cpf", "plan", "opco", "region", "france_travail", "transitions_pro"}
LANGUAGES = {"fr", "en"}
REFUSALS = {"emergency", "medical", "off_topic", "secrets", "none"}
EXPECT_FIELDS = {
    "job",
    "not_jobs",
    "learners_are_asker",
    "audience",
    "department",
    "format",
    "max_hours",
    "max_price",
    "cheaper_than_before",
    "shorter_than_before",
    "funding",
    "certifying",
    "clarify",
    "nothing_fits",
    "language",
    "refusal",
    "answer_mentions",
    "trainings_fit_job",
}
ROME_CODE = re.compile(r"^[A-N]\d{4}$")

MIN_CONVERSATIONS = 32
MIN_TURNS = 95
MIN_PER_PERSONA = 3
MIN_PER_CLASS = 3


def _rome_referential() -> Path:
    """The ROME 4.0 job-sheet file: the shared official copy first, else the bundled one."""
    shared = sorted(SHARED_DATA.glob("rome4-*/unix_referentiel_code_rome_*.csv"))
    if shared:
        return shared[-1]
    bundled = sorted((ROOT / "knowledge").rglob("*referentiel_code_rome*.csv"))
    if bundled:
        return bundled[-1]
    pytest.fail(
        "Référentiel ROME introuvable : ni /work/shared/data/rome4-*/ ni une copie "
        "unix_referentiel_code_rome*.csv sous knowledge/."
    )


@pytest.fixture(scope="module")
def rome_codes() -> set[str]:
    with _rome_referential().open(encoding="utf-8", newline="") as handle:
        return {row["code_rome"].strip() for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def corpus_text() -> str:
    parts = [
        path.read_text(encoding="utf-8")
        for folder in ("study", "guide")
        for path in sorted((ROOT / "knowledge" / folder).glob("*.md"))
    ]
    assert parts, "corpus knowledge/study et knowledge/guide vide"
    return _normalise("\n".join(parts))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).casefold()


def _load(name: str) -> list[dict[str, Any]]:
    path, _ = SETS[name]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{path.name} : une liste de conversations est attendue"
    return data


@pytest.fixture(scope="module", params=sorted(SETS))
def conversation_set(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, _load(request.param)


def _turns(conversations: list[dict[str, Any]]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for conversation in conversations:
        for index, turn in enumerate(conversation["turns"]):
            yield conversation["id"], index, turn


def test_files_start_with_a_french_header() -> None:
    for path, _ in SETS.values():
        head = path.read_text(encoding="utf-8").splitlines()[:3]
        assert head and all(line.startswith("#") for line in head), path.name
    heldout_head = SETS["heldout"][0].read_text(encoding="utf-8")[:2000].casefold()
    assert "gel" in heldout_head  # the held-out header says the set is frozen (« gelé »)


def test_region_departements_match_the_official_geography() -> None:
    """The five allowed codes are the région's départements in the COG (or the bundled places)."""
    cog = sorted(SHARED_DATA.glob("cog-*/departements_hdf.json"))
    if cog:
        codes = {entry["code"] for entry in json.loads(cog[-1].read_text(encoding="utf-8"))}
    else:
        with (ROOT / "knowledge" / "places.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        column = next(name for name in rows[0] if name.startswith("dep"))
        codes = {row[column].strip() for row in rows}
    assert codes == DEPARTMENTS


def test_conversation_shape(conversation_set) -> None:
    name, conversations = conversation_set
    prefix = SETS[name][1]
    ids = [conversation["id"] for conversation in conversations]
    assert len(ids) == len(set(ids)), "identifiants en double"
    for conversation in conversations:
        cid = conversation["id"]
        assert re.fullmatch(prefix + r"\d{3}", cid), cid
        assert set(conversation) == {"id", "persona", "personas", "classes", "turns"}, cid
        assert isinstance(conversation["persona"], str) and conversation["persona"].strip(), cid
        assert conversation["personas"] and set(conversation["personas"]) <= PERSONAS, cid
        assert conversation["classes"] and set(conversation["classes"]) <= CLASSES, cid
        assert 2 <= len(conversation["turns"]) <= 5, cid
        for turn in conversation["turns"]:
            assert set(turn) == {"say", "expect"}, cid
            assert isinstance(turn["say"], str) and turn["say"].strip(), cid


def test_every_turn_checks_at_least_two_known_fields(conversation_set) -> None:
    _, conversations = conversation_set
    for cid, index, turn in _turns(conversations):
        expect = turn["expect"]
        assert isinstance(expect, dict) and len(expect) >= 2, (cid, index)
        unknown = set(expect) - EXPECT_FIELDS
        assert not unknown, (cid, index, unknown)


def test_expected_values_are_well_typed(conversation_set, rome_codes) -> None:
    _, conversations = conversation_set
    for cid, index, turn in _turns(conversations):
        where = (cid, index)
        e = turn["expect"]
        if "job" in e:
            assert e["job"] is None or e["job"] in rome_codes, (where, e["job"])
        if "not_jobs" in e:
            assert e["not_jobs"], where
            for code in e["not_jobs"]:
                assert ROME_CODE.match(code) and code in rome_codes, (where, code)
            assert e.get("job") not in e["not_jobs"], where
        if "department" in e:
            assert e["department"] is None or e["department"] in DEPARTMENTS, where
        if "format" in e:
            assert e["format"] is None or e["format"] in FORMATS, where
        if "audience" in e:
            assert e["audience"] in AUDIENCES, where
        for field in ("max_hours", "max_price"):
            if field in e:
                value = e[field]
                assert value is None or (
                    isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
                ), where
        if "funding" in e:
            assert isinstance(e["funding"], list) and set(e["funding"]) <= FUNDING, where
        for field in ("certifying",):
            if field in e:
                assert e[field] is None or isinstance(e[field], bool), where
        for field in ("learners_are_asker", "clarify", "nothing_fits", "trainings_fit_job"):
            if field in e:
                assert isinstance(e[field], bool), (where, field)
        for field in ("cheaper_than_before", "shorter_than_before"):
            if field in e:
                assert e[field] is True, where
                assert index > 0, (where, "no previous turn to compare with")
        if "language" in e:
            assert e["language"] in LANGUAGES, where
        if "refusal" in e:
            assert e["refusal"] in REFUSALS, where
        if "answer_mentions" in e:
            mentions = e["answer_mentions"]
            assert isinstance(mentions, list) and mentions, where
            assert all(isinstance(m, str) and m.strip() for m in mentions), where


def test_direct_answers_are_grounded_in_the_corpus(conversation_set, corpus_text) -> None:
    """Outside refusals, at least one expected mention of each turn is a fact of the corpus."""
    _, conversations = conversation_set
    for cid, index, turn in _turns(conversations):
        e = turn["expect"]
        if "answer_mentions" not in e or e.get("refusal", "none") != "none":
            continue
        assert any(_normalise(m) in corpus_text for m in e["answer_mentions"]), (
            cid,
            index,
            e["answer_mentions"],
        )


def test_emergencies_point_to_the_emergency_number(conversation_set) -> None:
    _, conversations = conversation_set
    emergencies = [
        turn for _, _, turn in _turns(conversations) if turn["expect"].get("refusal") == "emergency"
    ]
    assert emergencies
    for turn in emergencies:
        assert "112" in turn["expect"].get("answer_mentions", []), turn["say"]


def test_size_and_coverage(conversation_set) -> None:
    name, conversations = conversation_set
    turns = sum(len(conversation["turns"]) for conversation in conversations)
    assert len(conversations) >= MIN_CONVERSATIONS, name
    assert turns >= MIN_TURNS, name
    assert turns / len(conversations) >= 3, name
    personas = Counter(p for c in conversations for p in c["personas"])
    classes = Counter(k for c in conversations for k in c["classes"])
    missing_personas = {p: personas[p] for p in PERSONAS if personas[p] < MIN_PER_PERSONA}
    missing_classes = {k: classes[k] for k in CLASSES if classes[k] < MIN_PER_CLASS}
    assert not missing_personas, (name, missing_personas)
    assert not missing_classes, (name, missing_classes)


def test_english_conversations_expect_english_answers(conversation_set) -> None:
    _, conversations = conversation_set
    tagged = [c for c in conversations if "language" in c["classes"]]
    assert tagged
    for conversation in tagged:
        languages = {t["expect"].get("language") for t in conversation["turns"]}
        assert "en" in languages, conversation["id"]


def test_both_sets_are_distinct() -> None:
    dev = {t["say"].casefold() for _, _, t in _turns(_load("dev"))}
    heldout = {t["say"].casefold() for _, _, t in _turns(_load("heldout"))}
    assert not dev & heldout
