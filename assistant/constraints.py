"""The practical constraints on a training, written once.

One model says what a person can do (place, teaching mode, hours, price, funding, certifying)
and compiles to everything that applies it: the check of a training (``violations``), the
Chroma ``where`` clause over training chunks, the chunk metadata that clause reads
(``metadata``), and the French sentence that names what could not be met (``describe``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .models import DEPARTMENTS, FUNDING_LABELS, Format, Funding, Profile, Training

__all__ = ["Constraints", "CONSTRAINT_LABELS"]

#: what each constraint is called when it is relaxed (« assouplit la durée »)
CONSTRAINT_LABELS = {
    "department": "le lieu",
    "format": "la modalité",
    "max_hours": "la durée",
    "max_price": "le budget",
    "funding": "le financement",
    "certifying": "la certification",
}

_DEPARTMENT_IN = {"02": "dans l'Aisne", "59": "dans le Nord", "60": "dans l'Oise", "62": "dans le Pas-de-Calais", "80": "dans la Somme"}
#: how ``describe`` words each constraint, by language
_WORDS: dict[str, dict[str, Any]] = {
    "fr": {
        "training": "une formation", "certifying": "certifiante", "not_certifying": "non certifiante",
        "formats": {"distanciel": "à distance", "présentiel": "en présentiel", "mixte": "en formule mixte"},
        "hours": "d'au plus {n} h", "price": "à {n} € au plus", "under": "de moins de", "free": "gratuite",
        "funding": "finançable par {routes}", "or": " ou ", "funding_labels": {},
        "departments": _DEPARTMENT_IN, "department": "dans le département {name}",
    },
    "en": {
        "training": "a training", "certifying": "that leads to a certification", "not_certifying": "with no certification",
        "formats": {"distanciel": "online", "présentiel": "in person", "mixte": "blended (online and in person)"},
        "hours": "of at most {n} h", "price": "at {n} € at most", "under": "under", "free": "for free",
        "funding": "fundable by {routes}", "or": " or ",
        "funding_labels": {"plan": "the employer's skills development plan", "region": "the Hauts-de-France Region"},
        "departments": {}, "department": "in the {name} département",
    },
}


class Constraints(BaseModel):
    """What a recommended training must meet; ``None``/empty means "any"."""

    department: str | None = None
    format: Format | None = None
    max_hours: float | None = Field(default=None, gt=0)
    max_price: float | None = Field(default=None, ge=0)
    funding: list[Funding] = Field(default_factory=list)
    certifying: bool | None = None

    @classmethod
    def of(cls, profile: Profile) -> Constraints:
        return cls(**profile.model_dump(include=set(cls.model_fields)))

    def __bool__(self) -> bool:
        return any(getattr(self, name) not in (None, []) for name in type(self).model_fields)

    # -- the check ---------------------------------------------------------------------------

    def violations(self, t: Training) -> list[str]:
        """The constraints ``t`` breaks (empty when it fits). Distance learning fits any place."""
        broken = []
        if self.department and t.format != "distanciel" and t.department != self.department:
            broken.append("department")
        if self.format and t.format != self.format:
            broken.append("format")
        if self.max_hours is not None and t.duration_hours > self.max_hours:
            broken.append("max_hours")
        if self.max_price is not None and t.price_eur > self.max_price:
            broken.append("max_price")
        if self.funding and not set(self.funding) & set(t.funding):
            broken.append("funding")
        if self.certifying is not None and bool(t.certification_code) != self.certifying:
            broken.append("certifying")
        return broken

    # -- the same, for Chroma ------------------------------------------------------------------

    @staticmethod
    def metadata(t: Training) -> dict[str, Any]:
        """The fields of a training chunk that ``where`` reads."""
        meta: dict[str, Any] = {
            "department": t.department or "",
            "format": t.format,
            "duration_hours": float(t.duration_hours),
            "price_eur": float(t.price_eur),
            "certifying": bool(t.certification_code),
        }
        for code in FUNDING_LABELS:
            meta[f"fund_{code}"] = code in t.funding
        return meta

    def where(self) -> dict | None:
        """The Chroma ``where`` filter equivalent to ``violations`` over training chunks."""
        clauses: list[dict] = []
        if self.department:
            clauses.append({"$or": [{"department": self.department}, {"format": "distanciel"}]})
        if self.format:
            clauses.append({"format": self.format})
        if self.max_hours is not None:
            clauses.append({"duration_hours": {"$lte": float(self.max_hours)}})
        if self.max_price is not None:
            clauses.append({"price_eur": {"$lte": float(self.max_price)}})
        if self.funding:
            options = [{f"fund_{code}": True} for code in self.funding]
            clauses.append(options[0] if len(options) == 1 else {"$or": options})
        if self.certifying is not None:
            clauses.append({"certifying": self.certifying})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    # -- in words -----------------------------------------------------------------------------

    def describe(self, language: str = "fr") -> str:
        """« une formation à distance d'au plus 14 h finançable par CPF dans l'Aisne »
        (« a training online of at most 14 h fundable by CPF in the Aisne département »)."""
        words = _WORDS.get(language, _WORDS["fr"])
        parts = [words["training"]]
        if self.certifying:
            parts.append(words["certifying"])
        elif self.certifying is False:
            parts.append(words["not_certifying"])
        if self.format:
            parts.append(words["formats"][self.format])
        if self.max_hours is not None:
            parts.append(_bound(self.max_hours, "h", words["hours"], under=words["under"]))
        if self.max_price is not None:
            parts.append(words["free"] if self.max_price == 0 else _bound(self.max_price, "€", words["price"], under=words["under"]))
        if self.funding:
            routes = words["or"].join(words["funding_labels"].get(f, FUNDING_LABELS[f]) for f in self.funding)
            parts.append(words["funding"].format(routes=routes))
        if self.department:
            name = DEPARTMENTS.get(self.department, self.department)
            parts.append(words["departments"].get(self.department) or words["department"].format(name=name))
        return " ".join(parts)


def _bound(value: float, unit: str, pattern: str, *, under: str) -> str:
    """« d'au plus 14 h »; a bound set just under a value shown (« moins cher ») reads « de moins de »."""
    if value != round(value, 1):
        return f"{under} {_number(round(value + 0.01, 1))} {unit}"
    return pattern.format(n=_number(value))


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")
