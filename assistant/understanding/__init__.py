"""Understanding a conversation: each question read once into a ``Reading``, then turned into
explicit events on the ``DialogueState`` (who asks, who is to be trained and their job sheet,
place, constraints, audience, language, what is refused or corrected).

Vocabulary lives in ``lexicon.yaml``; the mechanism (dependency parse for negation and for
« pour mes 8 comptables », referential lookups for jobs and communes, relative and dropped
constraints) lives in this package.
"""

from __future__ import annotations

from ..models import Profile
from .lexicon import normalise_words
from .reading import JobMention, Reader, Reading
from .state import PROFILE_SLOTS, DialogueState, Event, Pending, Shown, plan

__all__ = [
    "DialogueState", "Event", "JobMention", "Pending", "Reader", "Reading", "Shown", "Understanding",
]


class Understanding:
    """Reads questions into the dialogue state, for one knowledge base version at a time."""

    def __init__(self) -> None:
        self._readers: dict[int, Reader] = {}

    def reader(self, kb) -> Reader:
        if kb.version not in self._readers:
            self._readers = {kb.version: Reader(kb.roles, kb.places)}
        return self._readers[kb.version]

    def update(
        self, question: str, state: DialogueState, kb, *, override: Profile | None = None
    ) -> tuple[Reading, list[Event]]:
        """Read ``question`` and apply its events to ``state`` (in place).

        Args:
            question: the new question.
            state: the conversation so far; updated.
            kb: the knowledge base version (its job sheets and communes).
            override: fields the person corrected by hand (they win, as ``correct`` events).

        Returns:
            The reading and the events applied this turn.
        """
        reader = self.reader(kb)
        turn = state.turn + 1
        reading = reader.read(question)
        if reading.safety in ("off_topic", "secrets"):
            # A request Orientia declines (« écris-moi une macro pour mes nomenclatures ») names
            # things of the task, not people to train; what the asker says of themself still
            # counts (« je cherche du taf comme hôtesse d'accueil, écris-moi mon CV »).
            reading.jobs = [j for j in reading.jobs if j.whose in ("self", "target")]
            reading.team, reading.learners_count = False, None
            if reading.audience_weak:
                reading.audience = None
        events = self._answer_to_pending(question, state, turn)
        if events is None and state.pending is not None and state.pending.slot == "job" and not reading.jobs:
            described = self._described_choice(reading, state, reader, turn)
            if described is not None:
                # The rest of the answer still counts (« au guichet, à distance si possible »).
                rest = [e for e in plan(reading, state, roles=kb.roles, jobs=reader.jobs, turn=turn) if e.slot != "pending"]
                events = described + rest
        if events is None:
            events = plan(reading, state, roles=kb.roles, jobs=reader.jobs, turn=turn)
        if override is not None:
            events.extend(_override_events(override, kb, turn))
        state.apply_all(events)
        state.turn = turn
        state.topic = list(dict.fromkeys([*reading.nouns, *state.topic]))[:40]
        return reading, events

    @staticmethod
    def _described_choice(reading: Reading, state: DialogueState, reader: Reader, turn: int) -> list[Event] | None:
        """The answer to « which job? » described rather than named (« je suis au guichet,
        j'accueille les clients »): the choice whose sheet's names share most of its words."""
        assert state.pending is not None
        values = list(state.pending.choices.values())
        candidates = list(dict.fromkeys([*values, *state.pending.candidates]))
        best = reader.jobs.by_context(candidates, set(reading.nouns), margin=2.0)
        if len(best) != 1:
            return None
        events = [Event(turn=turn, op="drop", slot="pending")]
        who = "learners_job" if state.learners_are_asker is False else "asker_job"
        events.append(Event(turn=turn, op="set", slot=who, value=best[0]))
        if who == "asker_job":
            events.append(Event(turn=turn, op="set", slot="learners_job", value=best[0]))
            events.append(Event(turn=turn, op="set", slot="learners_are_asker", value=True))
        return events

    @staticmethod
    def _answer_to_pending(question: str, state: DialogueState, turn: int) -> list[Event] | None:
        """A choice of the pending clarifying question, written or clicked."""
        if state.pending is None:
            return None
        wanted = normalise_words(question)
        for label, value in state.pending.choices.items():
            if normalise_words(label) == wanted or normalise_words(value) == wanted:
                slot = state.pending.slot
                events = [Event(turn=turn, op="drop", slot="pending")]
                if slot == "job":
                    who = "learners_job" if state.learners_are_asker is False else "asker_job"
                    events.append(Event(turn=turn, op="set", slot=who, value=value))
                    if who == "asker_job":
                        events.append(Event(turn=turn, op="set", slot="learners_job", value=value))
                        events.append(Event(turn=turn, op="set", slot="learners_are_asker", value=True))
                else:
                    events.append(Event(turn=turn, op="set", slot="department", value=value))
                return events
        return None


def _override_events(override: Profile, kb, turn: int) -> list[Event]:
    events = []
    fields = override.model_dump(exclude_unset=True)
    for slot in PROFILE_SLOTS:
        if slot in fields:
            events.append(Event(turn=turn, op="correct", slot=slot, value=fields[slot]))
    if "role" in fields:
        role = fields["role"] if fields["role"] in kb.roles else None
        events.append(Event(turn=turn, op="correct", slot="asker_job", value=role))
        events.append(Event(turn=turn, op="correct", slot="learners_job", value=role))
        events.append(Event(turn=turn, op="correct", slot="learners_are_asker", value=True if role else None))
        events.append(Event(turn=turn, op="correct", slot="target_job", value=None))
    return events
