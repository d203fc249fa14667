"""INSEE Code officiel géographique, communes (Etalab « découpage administratif » CSV): ``Place``.

Header ``code_insee,nom,departement,region,codes_postaux,population,siren``; postal codes are
``|``-separated; lines end with CRLF. Only the communes of the region's départements are kept
(the national file works too).
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from assistant.models import DEPARTMENTS, Place

from ..problems import Problem, problems_from_validation
from ._files import read_csv, whitespace

__all__ = ["COG_COLUMNS", "is_cog_header", "load_cog", "cog_source"]

COG_COLUMNS = ("code_insee", "nom", "departement", "codes_postaux", "population")
_POSTAL = re.compile(r"^\d{5}$")


def is_cog_header(header: list[str]) -> bool:
    return set(COG_COLUMNS) <= {h.strip() for h in header}


def cog_source(year: str) -> str:
    return f"INSEE — Code officiel géographique {year} (via Etalab, découpage administratif), Licence Ouverte"


def load_cog(text: str, *, file: str) -> tuple[list[Place], list[Problem]]:
    """The communes of the region's départements, with problems by line."""
    rows, problems = read_csv(text, file=file, required=COG_COLUMNS, delimiter=",")
    if rows is None:
        return [], problems
    places: list[Place] = []
    seen: set[str] = set()
    for line, row in rows.rows:
        insee, department = row["code_insee"].strip(), row["departement"].strip()
        if department and department not in DEPARTMENTS and re.fullmatch(r"\d[0-9AB]", department):
            continue  # another région's commune in a national file
        if insee in seen:
            problems.append(Problem(file=file, line=line, record=insee, reason="code INSEE en double"))
            continue
        postal = [p.strip() for p in row["codes_postaux"].split("|") if p.strip()]
        bad = [p for p in postal if not _POSTAL.match(p)]
        if bad:
            problems.append(Problem(file=file, line=line, record=insee, reason=f"code postal invalide : {', '.join(bad)}"))
            continue
        population = row["population"].strip()
        if population and not population.isdigit():
            problems.append(Problem(file=file, line=line, record=insee, reason=f"population : nombre entier attendu, lu {population!r}"))
            continue
        name = whitespace(row["nom"])
        if not name:
            problems.append(Problem(file=file, line=line, record=insee, reason="nom de commune vide"))
            continue
        try:
            places.append(Place(
                insee=insee, commune=name, department=department, postal_codes=postal,
                population=int(population) if population else None,
            ))
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, file=file, record=insee, line=line))
            continue
        seen.add(insee)
    return places, problems
