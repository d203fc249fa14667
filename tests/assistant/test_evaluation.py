"""The conversation evaluation and the CI gate measure what their names say."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.evaluation import _check_turn, check_floors, run_conversations
from assistant.models import Profile


def test_conversations_are_scored_turn_by_turn(corpus_assistant, tmp_path):
    conversations = tmp_path / "c.yaml"
    conversations.write_text(
        """
- id: t1
  classes: [learners, constraints]
  turns:
    - say: "Je suis responsable RH à Saint-Quentin, je dois former mes 8 comptables à l'IA"
      expect: {job: M1203, learners_are_asker: false, audience: rh, department: "02"}
    - say: "plutôt à distance"
      expect: {format: distanciel, job: M1203, department: "02"}
- id: t2
  classes: [scope]
  turns:
    - say: "j'ai une grosse douleur dans la poitrine"
      expect: {refusal: emergency}
    - say: "je suis comptable à Arras"
      expect: {job: M1204}
""",
        encoding="utf-8",
    )
    report = run_conversations(corpus_assistant, conversations)
    assert report["conversations"] == 2 and report["turns"] == 4
    # The last expectation is deliberately wrong (comptable is M1203): the metric can fail.
    assert [f["id"] for f in report["failures"]] == ["t2#2"]
    assert report["turns_right"] == 0.75 and report["conversations_right"] == 0.5
    assert report["fields"]["job"] == {"accuracy": round(2 / 3, 3), "checks": 3}
    assert report["classes"]["learners"]["conversations_right"] == 1.0
    assert report["classes"]["scope"]["conversations_right"] == 0.0


def test_the_gate_fails_under_a_floor(tmp_path):
    floors = tmp_path / "floors.yaml"
    floors.write_text("dev:\n  conversations.turns_right: 0.5\nheldout:\n  questions.orientia.mrr: 0.6\n", encoding="utf-8")
    good = {"conversations": {"turns_right": 0.7}, "questions": {"orientia": {"mrr": 0.7}}}
    assert check_floors(good, floors, heldout=False) == []
    assert check_floors(good, floors, heldout=True) == []
    bad = {"conversations": {"turns_right": 0.4}, "questions": {"orientia": {}}}
    assert check_floors(bad, floors, heldout=False) == ["conversations.turns_right = 0.4 < 0.5"]
    assert check_floors(bad, floors, heldout=True) == ["questions.orientia.mrr = None < 0.6"]


def _shown(*values: float, attribute: str = "price_eur") -> SimpleNamespace:
    trainings = [SimpleNamespace(**{"price_eur": None, "duration_hours": None, attribute: v}) for v in values]
    return SimpleNamespace(trainings=trainings, profile=Profile())


def test_cheaper_means_cheaper_than_the_cheapest_shown_when_the_catalogue_has_one(corpus_assistant):
    kb = corpus_assistant.knowledge()
    context = (Profile(), "M1203")
    before = _shown(890.0, 450.0)
    assert _check_turn("cheaper_than_before", True, _shown(0.0, 290.0), kb, before, context)
    assert not _check_turn("cheaper_than_before", True, _shown(0.0, 490.0), kb, before, context)
    assert not _check_turn("cheaper_than_before", True, _shown(), kb, before, context)
    assert not _check_turn("cheaper_than_before", True, _shown(0.0), kb, None, context)


def test_nothing_cheaper_than_free_asks_only_not_to_offer_dearer(corpus_assistant):
    """When a free course was shown, « moins cher ? » cannot be met: saying so and keeping the
    free ones is right, offering a paying one as the answer is not."""
    kb = corpus_assistant.knowledge()
    context = (Profile(), "M1203")
    before = _shown(890.0, 0.0)
    assert _check_turn("cheaper_than_before", True, _shown(0.0), kb, before, context)
    assert _check_turn("cheaper_than_before", True, _shown(), kb, before, context)
    assert not _check_turn("cheaper_than_before", True, _shown(0.0, 450.0), kb, before, context)
    shorter = _shown(3.0, 14.0, attribute="duration_hours")
    assert _check_turn("shorter_than_before", True, _shown(3.0, attribute="duration_hours"), kb, shorter, context)
    assert not _check_turn("shorter_than_before", True, _shown(7.0, attribute="duration_hours"), kb, shorter, context)
