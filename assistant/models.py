"""Pydantic models that cross package boundaries (records, profile, answer)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DEPARTMENTS",
    "MAX_HOURS",
    "MAX_PRICE",
    "FORMATS",
    "FUNDING_LABELS",
    "Audience",
    "Answer",
    "Learners",
    "certification_url",
    "rome_url",
    "Bloc",
    "Certification",
    "CertificationSummary",
    "Chunk",
    "Citation",
    "Clarify",
    "Document",
    "Format",
    "Funding",
    "Kind",
    "NextStep",
    "Place",
    "Profile",
    "Provenance",
    "Role",
    "RomeItem",
    "SourcePassage",
    "StudySection",
    "Training",
    "TrainingSummary",
    "Turn",
]

DEPARTMENTS: dict[str, str] = {
    "02": "Aisne",
    "59": "Nord",
    "60": "Oise",
    "62": "Pas-de-Calais",
    "80": "Somme",
}
FORMATS = ("présentiel", "distanciel", "mixte")
FUNDING_LABELS: dict[str, str] = {
    "cpf": "CPF",
    "plan": "plan de développement des compétences",
    "opco": "OPCO",
    "region": "Région Hauts-de-France",
    "france_travail": "France Travail",
    "transitions_pro": "Transitions Pro",
}

#: Upper bounds of a profile's constraints (longer or dearer than any training offer).
MAX_HOURS = 10_000.0
MAX_PRICE = 1_000_000.0

Kind = Literal["study", "certification", "training", "role", "document", "orientia"]
Format = Literal["présentiel", "distanciel", "mixte"]
Funding = Literal["cpf", "plan", "opco", "region", "france_travail", "transitions_pro"]
Audience = Literal["salarie", "rh", "eleve", "entreprise"]
Exposure = Literal["forte", "moyenne", "faible"]
Situation = Literal["demandeur_emploi", "independant", "fonction_publique"]
#: whom a training is meant for (LHEO « public visé »): people in work, job seekers, company
#: heads, the self-employed, pupils and students
Learners = Literal["salarie", "demandeur_emploi", "dirigeant", "independant", "eleve"]

_ROME = re.compile(r"^[A-N]\d{4}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: RNCP and RS numbers are not zero-padded in the registers (RNCP183, RNCP37827, RS6776).
_CERT_CODE = re.compile(r"^(RNCP\d{1,6}|RS\d{1,6})$")
#: Who wrote a passage: ``sources`` (it reports what its cited sources say) or ``orientia``
#: (the team's own analysis or advice, cited as Orientia).
Provenance = Literal["sources", "orientia"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sources: list[str] = Field(default_factory=list)
    illustrative: bool = Field(
        default=False, validation_alias=AliasChoices("illustratif", "illustrative")
    )

    @model_validator(mode="after")
    def _sourced_unless_illustrative(self):
        if not self.illustrative and not self.sources:
            raise ValueError("source manquante pour une entrée non illustrative")
        return self


def _check_rome(codes: list[str]) -> list[str]:
    for code in codes:
        if not _ROME.match(code):
            raise ValueError(f"code ROME invalide : {code!r} (attendu : une lettre A-N et 4 chiffres)")
    return codes


class _Text(_Record):
    """Fields shared by Markdown records: a slug id, a title, a body, the jobs and audiences."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    title: str
    rome_codes: list[str] = Field(default_factory=list)
    audience: list[Audience] = Field(default_factory=list)
    body: str = ""
    #: who wrote the record's passages (``sources`` or ``orientia``), decided per record...
    provenance: Provenance = "sources"
    #: ...and per ``##`` heading: sections of a ``sources`` record written by the team
    orientia_sections: list[str] = Field(default_factory=list)
    #: public pages of the cited sources, when their address is known
    urls: list[str] = Field(default_factory=list)

    _rome = field_validator("rome_codes")(_check_rome)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"identifiant invalide : {value!r} (minuscules, chiffres et tirets)")
        return value


class StudySection(_Text):
    """A section of the regional study (or its context)."""

    type: Literal["cadrage", "chiffres", "secteurs", "famille", "suite", "contexte"]
    sector: str | None = None
    exposure: Exposure | None = None


class Document(_Text):
    """A guide page or any other text document (kind ``document``)."""

    type: str = "guide"


class Bloc(BaseModel):
    """A bloc de compétences of a certification."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str
    title: str
    skills: list[str] = Field(default_factory=list)
    evaluation: str | None = None


class Certification(_Record):
    """A certification of the RNCP or of the Répertoire spécifique."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    code: str
    #: only when read from the fiche and cited: the CSV export has no titles
    title: str | None = None
    level: int | None = Field(default=None, ge=3, le=8)
    certifier: str | None = None
    validity_end: date | None = None
    #: None when the source does not say (the CSV export gives no status)
    status: Literal["active", "inactive"] | None = "active"
    vae: bool = False
    audience: Literal["specialistes", "tous"] = "tous"
    summary: str = ""
    blocs: list[Bloc] = Field(default_factory=list)
    rome_codes: list[str] = Field(default_factory=list)
    #: the fiche on francecompetences.fr
    url: str | None = None
    #: succession in the register (France compétences « ancienne / nouvelle certification »)
    replaces: list[str] = Field(default_factory=list)
    replaced_by: list[str] = Field(default_factory=list)

    _rome = field_validator("rome_codes")(_check_rome)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CERT_CODE.match(value):
            raise ValueError(f"code de certification invalide : {value!r} (RNCPnnnnn ou RSnnnn)")
        return value

    @property
    def display_title(self) -> str:
        """The title read from the fiche, or « Certification RNCPnnnnn » when it is not known."""
        return self.title or f"Certification {self.code}"

    @property
    def fiche_url(self) -> str:
        """The public fiche on francecompetences.fr."""
        return self.url or certification_url(self.code)

    @model_validator(mode="after")
    def _bloc_codes(self):
        for bloc in self.blocs:
            if not re.fullmatch(rf"{self.code}BC\d{{1,3}}", bloc.code):
                raise ValueError(f"code de bloc {bloc.code!r} : attendu {self.code}BCnn")
        return self


class Training(_Record):
    """A training offer (after LHEO / Mon Compte Formation)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    title: str
    objectives: str = ""
    content: str = ""
    provider: str
    city: str | None = None
    department: str | None = None
    format: Format
    duration_hours: float = Field(gt=0)
    price_eur: float = Field(ge=0)
    funding: list[Funding] = Field(default_factory=list)
    entry_level: str = ""
    exit_level: str = ""
    certification_code: str | None = None
    blocs: list[str] = Field(default_factory=list)
    rome_codes: list[str] = Field(default_factory=list)
    #: whom it is meant for; empty: everyone
    public: list[Learners] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    sessions: list[date] = Field(default_factory=list)
    disability_access: bool = True
    url: str | None = None

    _rome = field_validator("rome_codes")(_check_rome)

    @field_validator("department")
    @classmethod
    def _department(cls, value: str | None) -> str | None:
        if value is not None and value not in DEPARTMENTS:
            raise ValueError(
                f"département inconnu : {value!r} (attendu : {', '.join(DEPARTMENTS)})"
            )
        return value

    @model_validator(mode="after")
    def _place(self):
        if self.department is None and self.format != "distanciel":
            raise ValueError("département manquant pour une formation en présentiel ou mixte")
        if self.blocs and not self.certification_code:
            raise ValueError("des blocs sont indiqués sans code de certification")
        return self


def certification_url(code: str) -> str:
    """The public fiche of a RNCP or RS certification on francecompetences.fr."""
    register = "rncp" if code.startswith("RNCP") else "rs"
    return f"https://www.francecompetences.fr/recherche/{register}/{code.removeprefix('RNCP').removeprefix('RS')}/"


def rome_url(code: str) -> str:
    """The public ROME job sheet on France Travail's Métierscope."""
    return f"https://candidat.francetravail.fr/metierscope/fiche-metier/{code}"


class RomeItem(BaseModel):
    """A skill (savoir-faire, savoir-être) or knowledge item (savoir) of a ROME job sheet."""

    model_config = ConfigDict(extra="forbid")

    label: str
    #: ROME's ``transition_num`` flag: the item matters for the digital transition
    digital: bool = False
    #: ``savoir-faire`` | ``savoir-etre`` | ``savoir``
    kind: str = "savoir-faire"
    #: ROME category (``sous_cat_comp`` / ``categorie_savoir``), e.g. « Technique »
    category: str = ""
    #: ROME's ``coeur_metier`` for this sheet: « Principale », « Émergente » or empty
    core: str = ""


class Role(_Record):
    """A ROME 4.0 job sheet (France Travail), with the team's notes where Orientia has some.

    ``id`` is the ROME code. ``aliases`` are the sheet's official job titles (appellations, long
    and short forms as published); ``everyday_names`` are the names people use, collected by the
    Orientia team (cited as Orientia, like ``exposure_summary`` and ``skills_to_build``).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    rome_code: str
    definition: str = ""
    access: str = ""
    skills: list[RomeItem] = Field(default_factory=list)
    knowledge: list[RomeItem] = Field(default_factory=list)
    #: close jobs (ROME ``rubrique_mobilite``), in ROME's order
    mobility: list[str] = Field(default_factory=list)
    #: the sheet this one details (ROME 4.0 ``code_rome_parent``: « Soudeur TIG » details
    #: « Soudeur »), None for a sheet of its own
    parent: str | None = Field(default=None, pattern=r"^[A-N]\d{4}$")
    domain_code: str = ""
    domain_label: str = ""
    grand_domain_code: str = ""
    grand_domain_label: str = ""
    url: str | None = None
    #: the study family (``famille-*``) through ``knowledge/orientia/rome_to_study.yaml``
    sector: str | None = None
    #: Orientia's estimate from the study family's exposure; None where the study is silent
    ai_exposure: Exposure | None = None
    exposure_rule: str = ""
    # -- Orientia's notes (knowledge/orientia/job_notes.yaml) --
    everyday_names: list[str] = Field(default_factory=list)
    exposure_summary: str = ""
    skills_to_build: list[str] = Field(default_factory=list)
    note_sources: list[str] = Field(default_factory=list)

    @field_validator("rome_code")
    @classmethod
    def _rome_code(cls, value: str) -> str:
        _check_rome([value])
        return value

    @property
    def names(self) -> list[str]:
        """Every name of the job: label, official titles, then the everyday names."""
        return [self.label, *self.aliases, *self.everyday_names]

    def key_skills(self, limit: int = 5) -> tuple[list[str], list[str]]:
        """The sheet's skills to show first: those ROME flags for the digital transition, then,
        to make up ``limit``, its core skills (« Principale »), each in ROME's order."""
        digital = [s.label for s in self.skills if s.digital][:limit]
        core = [s.label for s in self.skills if not s.digital and s.core == "Principale"]
        return digital, core[: max(0, limit - len(digital))] if len(digital) < 3 else []


class Place(BaseModel):
    """A commune of the region (INSEE Code officiel géographique), keyed by its INSEE code."""

    model_config = ConfigDict(extra="forbid")

    #: INSEE code, the key: commune names are not unique
    insee: str = Field(pattern=r"^\d[0-9AB]\d{3}$")
    commune: str
    department: str
    postal_codes: list[str] = Field(default_factory=list)
    population: int | None = Field(default=None, ge=0)

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        Training._department(value)
        return value


class Chunk(BaseModel):
    """One indexed passage of a record."""

    id: str
    record_key: str
    kind: Kind
    title: str
    section: str = ""
    text: str
    source: str
    illustrative: bool = False
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)
    hash: str = ""
    #: a public page where the passage's source can be checked
    url: str | None = None


# -- Question side ---------------------------------------------------------------------------


class Profile(BaseModel):
    """Who is asking and what they can do: extracted from the question, merged over a conversation."""

    role: str | None = Field(default=None, max_length=100)
    role_label: str | None = Field(default=None, max_length=200)
    rome_code: str | None = Field(default=None, pattern=r"^[A-N]\d{4}$")
    sector: str | None = Field(default=None, max_length=100)
    department: str | None = None
    format: Format | None = None
    # Finite and bounded: an infinite budget would reach Chroma's where clause.
    max_hours: float | None = Field(default=None, gt=0, le=MAX_HOURS, allow_inf_nan=False)
    max_price: float | None = Field(default=None, ge=0, le=MAX_PRICE, allow_inf_nan=False)
    funding: list[Funding] = Field(default_factory=list, max_length=len(FUNDING_LABELS))
    certifying: bool | None = None
    audience: Audience | None = None
    #: False when the asker asks for others (« mes 8 comptables »): the job fields are theirs
    learners_are_asker: bool | None = None
    learners_count: int | None = Field(default=None, ge=1, le=100_000)
    #: the job the asker wants to move to (« je veux devenir développeur »)
    target_role: str | None = Field(default=None, max_length=100)
    target_role_label: str | None = Field(default=None, max_length=200)
    #: the asker's situation, for the next step
    situation: Situation | None = None
    #: the asker's company headcount (« on est 45 salariés »): funding routes turn on it
    company_size: int | None = Field(default=None, ge=1, le=10_000_000)

    @field_validator("department", mode="before")
    @classmethod
    def _department(cls, value):
        if value is None or value == "":
            return None
        value = str(value).zfill(2)
        if len(value) > 3:  # not echoed back: it may be huge
            raise ValueError(f"département inconnu (attendu : {', '.join(DEPARTMENTS)})")
        if value not in DEPARTMENTS:
            raise ValueError(f"département inconnu : {value!r} (attendu : {', '.join(DEPARTMENTS)})")
        return value


class Citation(BaseModel):
    """A numbered source of an answer: ``[n]`` in the text is ``citations[n-1]``."""

    id: str
    kind: Kind
    title: str
    source: str
    excerpt: str
    illustrative: bool = False
    #: a public page where the source can be checked (France compétences fiche, ROME sheet...)
    url: str | None = None


class SourcePassage(Citation):
    """A cited passage in full."""

    text: str
    record_key: str
    section: str = ""


class TrainingSummary(BaseModel):
    """A training as listed by the API, with why it was recommended."""

    id: str
    title: str
    provider: str
    city: str | None
    department: str | None
    format: Format
    duration_hours: float
    price_eur: float
    funding: list[Funding]
    certification_code: str | None
    url: str | None
    why: str = ""
    illustrative: bool = False
    blocs: list[str] = Field(default_factory=list)
    next_session: date | None = None
    relaxed: list[str] = Field(default_factory=list)

    @classmethod
    def from_training(cls, training: Training, *, why: str = "", relaxed: list[str] | None = None):
        upcoming = sorted(training.sessions)
        return cls(
            **training.model_dump(
                include={
                    "id", "title", "provider", "city", "department", "format", "duration_hours",
                    "price_eur", "funding", "certification_code", "url", "illustrative", "blocs",
                }
            ),
            why=why,
            next_session=upcoming[0] if upcoming else None,
            relaxed=relaxed or [],
        )


class CertificationSummary(BaseModel):
    """A certification as listed in an answer, with the blocs that matter for the profile."""

    code: str
    title: str | None
    level: int | None
    certifier: str | None
    status: str | None
    illustrative: bool
    blocs: list[Bloc] = Field(default_factory=list)
    why: str = ""
    url: str | None = None

    @property
    def display_title(self) -> str:
        """The title read from the fiche, or « Certification RNCPnnnnn »."""
        return self.title or f"Certification {self.code}"


class Clarify(BaseModel):
    """One short question Orientia asks before answering, with the choices to pick from."""

    question: str
    choices: list[str] = Field(default_factory=list)


class Answer(BaseModel):
    """What the assistant returns for a question."""

    conversation_id: str
    answered: bool
    answer: str
    profile: Profile
    citations: list[Citation] = Field(default_factory=list)
    trainings: list[TrainingSummary] = Field(default_factory=list)
    certifications: list[CertificationSummary] = Field(default_factory=list)
    next_step: str = ""
    #: null, or one short question to ask before answering (e.g. which of two jobs)
    clarify: Clarify | None = None
    #: 2-4 likely next questions, chosen from the dialogue state (quick-reply buttons)
    quick_replies: list[str] = Field(default_factory=list)
    #: language of the answer's own sentences: "fr", or "en" for a question in English
    language: Literal["fr", "en"] = "fr"
    #: why Orientia did not answer as usual: a health emergency, a medical question, a task
    #: outside its scope (a cover letter, code) or a request for its settings or secrets
    refusal: Literal["emergency", "medical", "off_topic", "secrets"] | None = None


class Turn(BaseModel):
    """One question and its answer in a conversation's thread, as stored (personal data scrubbed)."""

    conversation_id: str
    #: 1 for the first question of the conversation, then 2, 3...
    position: int
    created_at: datetime
    question: str
    answer: Answer


class NextStep(BaseModel):
    """A next step of the summary page: who to contact, and the passage of the corpus that says so."""

    name: str
    text: str
    contact: str
    citation: Citation
