"""The dialogue state: what Orientia holds about a conversation, changed only by events.

As in Rasa's tracker, the slots are what the events make of them: each turn's reading becomes a
list of explicit operations (set, replace, relax, drop, negate, correct), appended to the log
and applied in order, so a correction is a new event that wins and a conversation can be
replayed from its events.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import MAX_HOURS, MAX_PRICE, Audience, Clarify, Format, Funding, Profile, Situation
from .lexicon import normalise_words
from .reading import Reading

__all__ = ["DialogueState", "Event", "Pending", "Shown", "plan"]

Op = Literal["set", "replace", "relax", "drop", "negate", "correct"]

#: slots a profile override (the page's form, the API's ``profile``) may correct
PROFILE_SLOTS = ("department", "format", "max_hours", "max_price", "funding", "certifying", "audience")


class Event(BaseModel):
    """One change of the state."""

    turn: int
    op: Op
    slot: str
    value: Any = None


class Pending(BaseModel):
    """A clarifying question waiting for its answer: each choice and the value it sets."""

    slot: Literal["job", "department"]
    question: str
    choices: dict[str, str]
    #: every sheet the words could name (the choices show the first few)
    candidates: list[str] = Field(default_factory=list)


class Shown(BaseModel):
    """A training shown in the previous answer (for « moins cher », « plus court »)."""

    id: str
    price: float
    hours: float


class DialogueState(BaseModel):
    """The slots of a conversation and the events that made them."""

    model_config = ConfigDict(validate_assignment=True)

    turn: int = 0
    events: list[Event] = Field(default_factory=list)
    language: Literal["fr", "en"] = "fr"
    audience: Audience | None = None
    situation: Situation | None = None
    asker_job: str | None = None
    learners_job: str | None = None
    learners_are_asker: bool | None = None
    learners_count: int | None = None
    company_size: int | None = None
    target_job: str | None = None
    job_words: dict[str, str] = Field(default_factory=dict)
    refused_jobs: list[str] = Field(default_factory=list)
    department: str | None = None
    commune: str | None = None
    format: Format | None = None
    max_hours: float | None = None
    max_price: float | None = None
    funding: list[Funding] = Field(default_factory=list)
    certifying: bool | None = None
    pending: Pending | None = None
    shown: list[Shown] = Field(default_factory=list)
    cited: list[str] = Field(default_factory=list)
    #: the last answer's own lines, so the next one does not repeat them word for word
    said: list[str] = Field(default_factory=list)
    #: the fixed notices given in this conversation (``Draft.told``): each is said once
    told: list[str] = Field(default_factory=list)
    question: str = ""
    #: the nouns of the last questions (``Reading.nouns``): what a job title is said about
    topic: list[str] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)
    focus: str | None = None

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Apply one event to the slots and log it."""
        slot, value = event.slot, event.value
        if event.op == "negate":
            if value not in self.refused_jobs:
                self.refused_jobs.append(value)
            for name in ("asker_job", "learners_job", "target_job"):
                if getattr(self, name) == value:
                    setattr(self, name, None)
        elif event.op in ("drop", "relax") and value is None:
            setattr(self, slot, [] if slot == "funding" else None)
        elif event.op == "drop":
            if slot == "funding" and value is not None:
                self.funding = [f for f in self.funding if f != value]
            else:
                setattr(self, slot, [] if slot == "funding" else None)
        elif slot == "funding" and event.op == "set":
            self.funding = list(dict.fromkeys([*self.funding, *value]))
        else:
            setattr(self, slot, value)
        self.events.append(event)

    def apply_all(self, events: list[Event]) -> None:
        for event in events:
            self.apply(event)

    @classmethod
    def replay(cls, events: list[Event]) -> DialogueState:
        """The state a list of events makes (tests and audits replay conversations)."""
        state = cls()
        state.apply_all(events)
        state.turn = max((e.turn for e in events), default=0)
        return state

    # -- views -------------------------------------------------------------------------------

    @property
    def job(self) -> str | None:
        """The job the recommendation is for: the learners', or the one the asker aims at."""
        return self.target_job or self.learners_job or self.asker_job

    def profile(self, roles: dict) -> Profile:
        """What was understood, as the API shows it (job fields describe the learners)."""
        # Others to train whose job is not known yet: the asker's own job is not theirs.
        job = self.learners_job or (self.asker_job if self.learners_are_asker is not False else None)
        role = roles.get(job) if job else None
        target = roles.get(self.target_job) if self.target_job else None
        return Profile(
            role=role.id if role else None,
            role_label=self.job_words.get(role.id, role.label) if role else None,
            rome_code=role.rome_code if role else None,
            sector=role.sector if role else None,
            department=self.department,
            format=self.format,
            max_hours=self.max_hours,
            max_price=self.max_price,
            funding=list(self.funding),
            certifying=self.certifying,
            audience=self.audience,
            learners_are_asker=self.learners_are_asker,
            learners_count=self.learners_count,
            target_role=target.id if target else None,
            target_role_label=self.job_words.get(target.id, target.label) if target else None,
            situation=self.situation,
            company_size=self.company_size,
        )

    def clarify(self) -> Clarify | None:
        if self.pending is None:
            return None
        return Clarify(question=self.pending.question, choices=list(self.pending.choices))


def plan(reading: Reading, state: DialogueState, *, roles: dict, jobs, turn: int) -> list[Event]:
    """The events one reading makes, given the state before it.

    Args:
        reading: what the question states.
        state: the conversation so far.
        roles: the job sheets by id.
        jobs: the title index (``referentials.JobIndex``), for how titles are shown.
        turn: the number of this turn.
    """
    from ..compose import phrases  # the clarifying questions in the asker's language

    events: list[Event] = []
    correcting = reading.correction or reading.instead

    def put(slot: str, value: Any, *, op: Op | None = None) -> None:
        current = getattr(state, slot)
        if current == value and op is None:
            return
        chosen: Op = op or ("correct" if correcting and current is not None else "replace" if current is not None else "set")
        events.append(Event(turn=turn, op=chosen, slot=slot, value=value))

    if reading.language_request:
        put("language", reading.language_request)
    elif reading.language != state.language and reading.language_said:
        put("language", reading.language)
    if reading.situation:
        put("situation", reading.situation)
    if reading.company_size:
        put("company_size", reading.company_size)

    # Jobs: refused ones first, then whose each stated one is.
    for mention in reading.jobs:
        if mention.negated:
            for role_id in mention.role_ids:
                events.append(Event(turn=turn, op="negate", slot="job", value=role_id))
    refused = set(state.refused_jobs) | {e.value for e in events if e.op == "negate"}
    context = {*state.topic, *reading.nouns}
    said_own = [m.role_ids[0] for m in reading.jobs if m.whose == "self" and not m.negated and len(m.role_ids) == 1]
    own_job = state.asker_job or (said_own[0] if said_own else None)
    if own_job is not None:
        # The asker's own trade, known or said now, says where the learners work (« boulanger »:
        # his shop's « vendeuses » sell in a bakery).
        from .lexicon import lexicon

        equivalents = lexicon().context_equivalents
        own_words = jobs.name_stems.get(own_job, frozenset())
        context |= {e for w in own_words for e in equivalents.get(w, ())}
    asks_for_others = state.learners_are_asker is False
    peers = False
    for mention in reading.jobs:
        if mention.negated or mention.whose == "other":
            continue
        ids = [i for i in mention.role_ids if i not in refused]
        if not ids:
            continue
        said = {w for w in normalise_words(mention.words) if len(w) > 3}
        kept = [
            j for j in (state.learners_job, state.asker_job)
            if j is not None and j not in ids and said and said <= jobs.name_stems.get(j, frozenset())
        ]
        if kept and not reading.correction and mention.whose in ("learners", "unspecified"):
            # « des formations pour les pharmacies ? » from a préparatrice en pharmacie: words of
            # the job already known name it again (its workplace), not another sheet.
            peers = True
            continue
        known = [i for i in [*ids, *mention.alternatives] if i in (state.asker_job, state.learners_job, state.target_job)]
        if state.pending is not None and state.pending.slot == "job":
            # The answer to « which job? » written in the person's own words.
            known = known or [i for i in ids if i in state.pending.choices.values()]
        own = set(normalise_words(mention.words))
        if own_job is not None and mention.fuzzy and len(mention.alternatives) > 1 and mention.whose == "learners":
            # « boulanger …, j'ai 2 vendeuses »: the sheet of his trade's shop among the titles
            # the words begin (the reader chose from the question's words alone).
            trade = jobs.by_context(
                list(mention.alternatives), (context | jobs.name_stems.get(own_job, frozenset())) - set(reading.nouns), own=own,
            )
            if len(trade) == 1 and trade != ids:
                ids = trade
        known = list(dict.fromkeys(known))
        if len(known) > 1:
            known = jobs.by_context(known, context, own=own)
        if known and (len(ids) > 1 or mention.alternatives):
            ids = known if len(known) > 1 else known[:1]
        if len(ids) > 1:
            # The conversation's other words choose between sheets (« vendeuses » of a bakery).
            narrowed = jobs.by_context(ids, context, own=own, near=set(mention.near))
            if narrowed == ids and mention.fuzzy and mention.near and _generic_title(mention.words):
                # None of them says the words around the title (« ouvrier du textile »): the
                # sheets that do are the ones to choose from.
                ids = jobs.named_with(set(mention.near), own=own) or ids
            else:
                ids = narrowed
        if len(ids) > 1:
            # The most likely sheets first: those the team wrote about (common jobs), then
            # those whose own title starts with the words used, sheets of their own before the
            # sheets detailing another (ROME 4.0 parent sheets: « Architecte du bâtiment »
            # before « Architecte cloud »).
            first = mention.words.split()[0].lower()[:5]

            def likely(i: str, first: str = first) -> tuple[bool, bool, bool, str]:
                role = roles.get(i)
                label = role.label if role is not None else i
                noted = bool(getattr(role, "exposure_summary", "") or getattr(role, "everyday_names", []))
                return (not noted, not label.lower().startswith(first), i in jobs.parents, label)

            ids = sorted(ids, key=likely)
            if mention.whose == "learners":
                # « mes préparatrices »: which sheet is asked, but they are others to train (what
                # the asker's own title set for the learners this turn is undone).
                own = {e.value for e in events if e.slot == "asker_job"}
                events[:] = [
                    e for e in events
                    if not (e.slot == "learners_job" and e.value in own) and not (e.slot == "learners_are_asker" and e.value)
                ]
                put("learners_are_asker", False)
            options = {roles[i].label if i in roles else i: i for i in ids[:4]}
            events.append(Event(turn=turn, op="set", slot="pending", value=Pending(
                slot="job", question=phrases(reading.language)["clarify_job"].format(words=mention.words), choices=options,
                candidates=ids[:40],
            ).model_dump()))
            continue
        job = ids[0]
        whose = mention.whose
        if whose == "learners" and (
            (job == state.asker_job and state.learners_are_asker)
            or (
                job in said_own and len(said_own) == 1 and not mention.owned
            )
        ):
            # An aide-soignante asking « une formation pour les aides-soignantes ? » is one of
            # them (« I'm a welder, is there training for welders? » too): nothing changes, and
            # she does not become a company.
            peers = True
            continue
        if whose == "unspecified":
            whose = "learners" if (asks_for_others or reading.team or reading.audience in ("rh", "entreprise")) else "self"
        events.append(Event(turn=turn, op="set", slot="job_words", value={**state.job_words, job: jobs.display(roles[job], mention.words)}))
        if whose == "target":
            put("target_job", job)
        elif whose in ("learners", "relative"):
            put("learners_job", job)
            put("learners_are_asker", False)
            if reading.learners_count:
                put("learners_count", reading.learners_count)
            elif job != state.learners_job:
                put("learners_count", None)  # other people: the 12 secretaries were counted, not them
        else:  # the asker's own job
            put("asker_job", job)
            if reading.correction or not asks_for_others:
                put("learners_job", job)
                put("learners_are_asker", True)
                put("learners_count", None)
    own_title = any(m.whose == "self" and not m.negated for m in reading.jobs)
    if (
        reading.team and own_title and reading.audience == "entreprise" and not reading.correction
        and not any(m.whose == "learners" for m in reading.jobs)
    ):
        # « chef d'entreprise …, former mes salariés »: the boss's own title is not the staff's
        # (what this turn set for the learners from that title is undone).
        events[:] = [e for e in events if e.slot not in ("learners_job", "learners_are_asker", "learners_count")]
        put("learners_are_asker", False)
        put("learners_job", None)
        if reading.learners_count:
            put("learners_count", reading.learners_count)
    elif reading.team and not peers and not any(e.slot == "learners_are_asker" for e in events) and state.learners_are_asker is not False:
        if not own_title:
            put("learners_are_asker", False)
            if reading.learners_count:
                put("learners_count", reading.learners_count)
            if state.learners_job == state.asker_job and state.asker_job:
                put("learners_job", None)

    if (
        reading.for_myself and state.learners_are_asker is False and not reading.team
        and not any(e.slot in ("learners_job", "learners_are_asker") for e in events)
    ):
        # « et une formation pour moi, le dirigeant ? » after training the staff: the asker now.
        put("learners_are_asker", True)
        put("learners_job", state.asker_job)
        put("learners_count", None)
    elif reading.for_myself and state.learners_are_asker is None and not reading.team and not any(
        e.slot == "learners_are_asker" for e in events
    ):
        put("learners_are_asker", True)
    elif reading.not_for_me and not any(e.slot == "learners_are_asker" for e in events):
        # « c'est pas pour moi : c'est pour les demandeurs d'emploi que j'accompagne »
        put("learners_are_asker", False)
        if state.learners_job is not None and state.learners_job == state.asker_job:
            put("learners_job", None)
        put("learners_count", None)

    # Who asks: a correction that makes the asker the learner also undoes a wrong "company".
    if peers and reading.audience == "entreprise":
        # (read from « pour les aides-soignantes » alone: the asker is one of them)
        if said_own and state.audience is None:
            put("audience", "salarie")
    elif reading.audience and not (reading.audience_weak and state.audience in ("rh", "entreprise")):
        put("audience", reading.audience)
    elif reading.correction and any(m.whose == "self" for m in reading.jobs) and state.audience in ("entreprise", "rh"):
        put("audience", "salarie")

    # Place.
    if reading.departments:
        put("department", reading.departments[-1])
        put("commune", reading.commune)
    elif reading.ambiguous_departments and reading.commune:
        events.append(Event(turn=turn, op="set", slot="pending", value=Pending(
            slot="department",
            question=phrases(reading.language)["clarify_commune"].format(commune=reading.commune),
            choices={
                f"{reading.ambiguous_communes.get(d, reading.commune)} ({d})": d for d in reading.ambiguous_departments
            },
        ).model_dump()))
    # Constraints stated, then relative ones, then what is let go.
    for slot in ("format", "max_hours", "max_price", "certifying"):
        value = getattr(reading, slot)
        if slot == "certifying" and value is False and state.certifying is True:
            # « sans le certifiant alors », after asking for one: the requirement is let go.
            events.append(Event(turn=turn, op="relax", slot="certifying"))
            continue
        if value is not None:
            put(slot, value)
    if reading.bare_limit is not None and reading.max_hours is None and reading.max_price is None:
        # « en fait c'est 800 max » after « 500 € par personne »: a number with no unit changes
        # the limit the conversation last set (none set: it says nothing).
        last = next((e.slot for e in reversed(state.events) if e.slot in ("max_price", "max_hours") and e.value is not None), None)
        if last == "max_price" and 0 <= reading.bare_limit <= MAX_PRICE:
            put("max_price", reading.bare_limit)
        elif last == "max_hours" and 0 < reading.bare_limit <= MAX_HOURS:
            put("max_hours", reading.bare_limit)
    if reading.funding:
        if reading.instead and state.funding:
            put("funding", reading.funding, op="replace")
        else:
            new = [f for f in reading.funding if f not in state.funding]
            if new:
                events.append(Event(turn=turn, op="set", slot="funding", value=new))
    if reading.cheaper and state.shown and reading.max_price is None:
        cheapest = min(s.price for s in state.shown)
        put("max_price", max(cheapest - 0.01, 0.0))
    if reading.shorter and state.shown and reading.max_hours is None:
        shortest = min(s.hours for s in state.shown)
        put("max_hours", max(shortest - 0.01, 0.5))
    for code in reading.funding_dropped:
        if code in state.funding or code in reading.funding:
            events.append(Event(turn=turn, op="drop", slot="funding", value=code))
    for slot in reading.dropped:
        if slot == "department":
            events.append(Event(turn=turn, op="drop", slot="commune"))
        events.append(Event(turn=turn, op="drop", slot=slot))
    if state.pending is not None and not any(e.slot == "pending" for e in events):
        events.append(Event(turn=turn, op="drop", slot="pending"))
    return events


def _generic_title(words: str) -> bool:
    """Whether a mention is a generic title (« ouvrier », « agent »): the words around it then
    say the trade (« ouvrier du textile »), which « mon projet » does not."""
    from .lexicon import lexicon

    return tuple(normalise_words(words)[:1]) in lexicon().ambiguous_titles
