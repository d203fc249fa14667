"""Validation problems, reported per file and record, in French for users."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

__all__ = ["Problem", "IngestError", "problems_from_validation"]


class Problem(BaseModel):
    """One thing wrong with an input file."""

    file: str
    record: str = ""
    line: int | None = None
    reason: str
    #: not an error: something deliberately left out (e.g. offers outside the region)
    notice: bool = False

    def __str__(self) -> str:
        where = ("(information) " if self.notice else "") + self.file
        if self.line is not None:
            where += f", ligne {self.line}"
        if self.record:
            where += f", enregistrement « {self.record} »"
        return f"{where} : {self.reason}"


class IngestError(Exception):
    """Raised when the input cannot be ingested; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the input; nothing was written")


_FIELD_LABELS = {
    "department": "département", "format": "modalité", "duration_hours": "durée (heures)",
    "price_eur": "prix (€)", "funding": "financements", "rome_codes": "codes ROME", "public": "public visé",
    "rome_code": "code ROME", "certification_code": "code de certification",
    "sessions": "prochaines sessions", "title": "titre", "provider": "organisme", "id": "id",
    "code": "code", "level": "niveau", "blocs": "blocs", "sources": "sources",
    "sector": "secteur", "ai_exposure": "exposition à l'IA", "label": "intitulé",
    "validity_end": "fin de validité", "status": "statut", "type": "type",
    "insee": "code INSEE", "postal_codes": "codes postaux", "population": "population",
    "rome_to_study": "correspondance ROME - étude", "domains": "domaines", "notes": "notes",
}

_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "greater_than": "doit être strictement positif",
    "greater_than_equal": "ne peut pas être négatif",
    "less_than_equal": "valeur trop grande",
    "literal_error": "valeur non autorisée",
    "float_parsing": "nombre attendu",
    "int_parsing": "nombre entier attendu",
    "date_from_datetime_parsing": "date attendue au format AAAA-MM-JJ",
    "date_parsing": "date attendue au format AAAA-MM-JJ",
    "extra_forbidden": "champ inconnu",
    "bool_parsing": "oui/non attendu",
    "string_pattern_mismatch": "format invalide",
}


def problems_from_validation(
    error: ValidationError, *, file: str, record: str = "", line: int | None = None
) -> list[Problem]:
    """Turn a pydantic error into French problems naming the field."""
    out = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        field = _FIELD_LABELS.get(loc[0], loc[0]) if loc else ""
        if len(loc) >= 3 and loc[1].isdigit():
            # An item of a nested list (a note, a bloc): say which one and which of its fields.
            field = f"{field} n° {int(loc[1]) + 1}, {_FIELD_LABELS.get(loc[2], loc[2])}"
        if item["type"] == "value_error":
            message = str(item["msg"]).removeprefix("Value error, ")
        else:
            message = _MESSAGES.get(item["type"], item["msg"])
            if item["type"] == "literal_error":
                # pydantic writes « 'a', 'b' or 'c' »: French, « ou »
                expected = str(item.get("ctx", {}).get("expected", "")).replace("' or '", "' ou '")
                message = f"valeur non autorisée {item.get('input')!r} (attendu : {expected})"
        where = f"{field} : " if field else ""
        out.append(Problem(file=file, record=record, line=line, reason=f"{where}{message}"))
    return out
