"""Importers for training offers in the two official formats.

- **Mon Compte Formation** national catalogue (Caisse des Dépôts open data, dataset
  ``moncompteformation_catalogueformation``): one CSV row per training offer and département,
  separator ``;`` (``,`` accepted), UTF-8 with or without BOM. Column names of both published
  generations are read (``date_extract``/``date_chargement``, ``siret``/``siret_of``,
  ``code_inventaire``/``code_rs``).
- **LHÉO** XML (Carif-Oref exchange format, versions 2.x, including EDOF exports): one record per
  ``<action>`` of each ``<formation>`` (an action has its own place, mode, price and sessions).

Only offers taught in Hauts-de-France (départements 02, 59, 60, 62, 80) are kept; the others are
counted and reported as notices, not as errors. Every kept offer is validated and each problem is
reported with its file, line and official offer number. Record ids are stable hashes of the
official identifiers, so re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from assistant.models import DEPARTMENTS, Training

from .problems import Problem, problems_from_validation

__all__ = [
    "LHEO_ROOT",
    "MCF_SOURCE",
    "certification_code",
    "is_mcf_file",
    "is_mcf_header",
    "load_lheo",
    "load_mcf",
    "load_mcf_file",
]

MCF_SOURCE = "Mon Compte Formation — catalogue des formations (Caisse des Dépôts, open data)"
LHEO_SOURCE = "Catalogue de formations au format LHÉO"
LHEO_ROOT = "lheo"

#: What tells a Mon Compte Formation catalogue from any other CSV.
_MCF_SIGNATURE = {"nom_of", "nb_session_a_distance"}
#: Columns renamed between releases of the dataset: the first name found is read.
_MCF_ALIASES = {
    "date": ("date_extract", "date_chargement"),
    "siret": ("siret", "siret_of"),
    "code_rs": ("code_inventaire", "code_rs"),
}
_MCF_REQUIRED = (
    "nom_of",
    "numero_formation",
    "intitule_formation",
    "code_departement",
    "code_rncp",
    "nb_session_active",
    "nb_session_a_distance",
    "frais_ttc_tot_mean",
    "nombre_heures_total_mean",
)
_MAX_TEXT = 1200
#: How many offending offers a notice names before « … ».
_NOTICE_EXAMPLES = 5


# -- Shared rules ---------------------------------------------------------------------------------


def offer_id(prefix: str, *parts: str) -> str:
    """A stable id from the official identifiers (same file, same ids)."""
    digest = hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def certification_code(kind: str, raw: str) -> str:
    """``RNCP<n>`` or ``RS<n>`` from a register number written bare (``35584``) or prefixed.

    Real register numbers have 1 to 5 digits for the RNCP (old fiches such as RNCP474 are
    still cited) and 1 to 4 for the Répertoire spécifique.

    Raises:
        ValueError: with a French message when the code is not a register number.
    """
    value = raw.strip().upper().replace(" ", "")
    kind = kind.upper()
    digits = value.removeprefix(kind)
    limit = 5 if kind == "RNCP" else 4
    if not re.fullmatch(rf"\d{{1,{limit}}}", digits) or int(digits) == 0:
        raise ValueError(
            f"code {kind} invalide : {raw.strip()!r} (attendu : {kind} suivi de 1 à {limit} chiffres)"
        )
    return f"{kind}{int(digits)}"


def department_of(*, department: str = "", insee: str = "", postcode: str = "") -> str | None:
    """The département of an address: its stated département, else its INSEE code, else its postal code."""
    for value in (department, insee[:2] if insee else "", postcode[:2] if postcode else ""):
        value = value.strip()
        if value:
            return value.zfill(2) if value.isdigit() else value.upper()
    return None


def _number(raw: str | None) -> float | None:
    """A number written ``1200``, ``1200.5``, ``1 200,50``; None when empty or ``-1`` (not given)."""
    value = (
        (raw or "")
        .strip()
        .replace("\u202f", "")
        .replace("\xa0", "")
        .replace(" ", "")
        .replace("€", "")
    )
    if not value or value == "-1":
        return None
    return float(value.replace(",", "."))


def _plain_text(raw: str | None, limit: int = _MAX_TEXT) -> str:
    """Text of a field that may hold HTML (catalogues often do), shortened at a word boundary."""
    text = (raw or "").strip()
    if not text or text == "-":
        return ""
    if "<" in text and ">" in text:
        from lxml import etree, html

        try:
            text = " ".join(html.fragment_fromstring(text, create_parent="div").itertext())
        except (etree.ParserError, ValueError):
            text = text.replace("<", " <")  # not HTML after all: kept as written
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return text


def _fr_number(value: float) -> str:
    return (
        f"{value:,.0f}".replace(",", "\u202f") if value >= 1000 else f"{value:g}".replace(".", ",")
    )


def _skipped(what: str, count: int, where: list[str]) -> str:
    examples = ", ".join(where[:_NOTICE_EXAMPLES]) + (" …" if len(where) > _NOTICE_EXAMPLES else "")
    return f"{count} {what} ignorée(s)" + (f" ({examples})" if examples else "")


def _validate(
    data: dict, *, file: str, record: str, line: int | None
) -> tuple[Training | None, list[Problem]]:
    try:
        return Training.model_validate(data), []
    except ValidationError as exc:
        return None, problems_from_validation(exc, file=file, record=record, line=line)


# -- Mon Compte Formation CSV -----------------------------------------------------------------------


def is_mcf_header(header: list[str]) -> bool:
    """Whether a CSV header is the Mon Compte Formation catalogue's."""
    return _MCF_SIGNATURE <= {h.strip().lower() for h in header}


def is_mcf_file(path: Path) -> bool:
    """Whether a CSV file's header line is the Mon Compte Formation catalogue's (reads one line)."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(64_000).decode("utf-8-sig", errors="replace")
    except OSError:
        return False
    return is_mcf_header(re.split(r"[;,\t]", first.strip().replace('"', "")))


def load_mcf_file(path: Path, name: str):
    """Stream a Mon Compte Formation CSV (the national file is large: it is never held whole)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
            delimiter = ";" if header.count(";") >= header.count(",") else ","
            handle.seek(0)  # back to the start: the decoder skips the BOM again
            return load_mcf(csv.DictReader(handle, delimiter=delimiter), name)
    except UnicodeDecodeError:
        return [], [Problem(file=name, reason="le fichier n'est pas encodé en UTF-8")]
    except OSError as exc:
        return [], [Problem(file=name, reason=f"lecture impossible ({exc.strerror})")]


def _mcf_date(raw: str) -> str:
    value = raw.strip()[:10]
    try:
        return f"extrait du {date.fromisoformat(value):%d/%m/%Y}"
    except ValueError:
        return f"extrait du {value}" if value else "extrait non daté"


def load_mcf(reader: csv.DictReader, name: str):
    """Rows of a Mon Compte Formation catalogue -> ``training`` records (Hauts-de-France only).

    Mapping: title ``intitule_formation``; provider ``nom_of``; département ``code_departement``;
    mode from the session counts (all remote: distanciel, some: mixte, none: présentiel); duration
    the mean of the sessions' total hours (``nombre_heures_total_mean``, else the maximum); price the
    mean total price TTC (``frais_ttc_tot_mean``, else the maximum), the ranges being stated in the
    content; funding CPF (the catalogue lists CPF offers only); certification from ``code_rncp`` or the
    RS number; ROME codes ``code_rome_1..5``. The file holds no city and no session dates.
    """
    from .loaders import LoadedRecord

    fields = {h.strip().lower(): h for h in reader.fieldnames or []}
    columns = {
        key: next((fields[c] for c in names if c in fields), None)
        for key, names in _MCF_ALIASES.items()
    }
    missing = [c for c in _MCF_REQUIRED if c not in fields]
    missing += [
        names[-1] for key, names in _MCF_ALIASES.items() if key != "date" and columns[key] is None
    ]
    if missing:
        return [], [
            Problem(
                file=name,
                line=1,
                reason=f"catalogue Mon Compte Formation : colonnes manquantes : {', '.join(missing)}",
            )
        ]

    def cell(row: dict, column: str | None) -> str:
        if column is None:
            return ""
        value = (row.get(fields.get(column, column)) or "").strip()
        return "" if value == "-1" else value

    loaded, problems = [], []
    outside: Counter[str] = Counter()
    no_department: list[str] = []
    previous_end = 1
    for row in reader:
        line, previous_end = previous_end + 1, reader.line_num
        number = cell(row, "numero_formation")
        record = number or f"ligne {line}"
        if None in row:
            problems.append(
                Problem(
                    file=name, line=line, record=record, reason="trop de colonnes sur cette ligne"
                )
            )
            continue
        department = department_of(department=cell(row, "code_departement"))
        if department is None:
            no_department.append(f"ligne {line}")
            continue
        if department not in DEPARTMENTS:
            outside[department] += 1
            continue
        data, row_problems = _mcf_fields(row, cell, columns, department)
        if not number:
            row_problems.append("numéro de formation (numero_formation) manquant")
        if row_problems:
            problems.extend(
                Problem(file=name, line=line, record=record, reason=r) for r in row_problems
            )
            continue
        data["id"] = offer_id("mcf", cell(row, columns["siret"]), number, department)
        training, errors = _validate(data, file=name, record=record, line=line)
        if errors:
            problems.extend(errors)
        elif training is not None:
            loaded.append(LoadedRecord("training", training, name))
    if outside:
        listed = ", ".join(f"{d} ({n})" for d, n in sorted(outside.items())[:8])
        more = " …" if len(outside) > 8 else ""
        problems.append(
            Problem(
                file=name,
                notice=True,
                reason=f"{sum(outside.values())} offre(s) hors Hauts-de-France ignorée(s) (départements {listed}{more})",
            )
        )
    if no_department:
        problems.append(
            Problem(
                file=name,
                notice=True,
                reason=_skipped("offre(s) sans département", len(no_department), no_department),
            )
        )
    return loaded, problems


def _mcf_fields(row: dict, cell, columns: dict, department: str) -> tuple[dict, list[str]]:
    """The Training fields of one row, and the French reasons it cannot be read."""
    errors: list[str] = []

    def number(column: str) -> float | None:
        try:
            return _number(cell(row, column))
        except ValueError:
            errors.append(f"{column} : nombre attendu, trouvé {cell(row, column)!r}")
            return None

    hours = number("nombre_heures_total_mean")
    hours = number("nombre_heures_total_max") if hours is None else hours
    price = number("frais_ttc_tot_mean")
    price = number("frais_ttc_tot_max") if price is None else price
    active, remote = cell(row, "nb_session_active"), cell(row, "nb_session_a_distance")
    fmt = None
    if not (active or "0").isdigit() or not (remote or "0").isdigit():
        errors.append(
            f"modalité inconnue : nombres de sessions illisibles (nb_session_active={active!r}, "
            f"nb_session_a_distance={remote!r})"
        )
    else:
        n_active, n_remote = int(active or 0), int(remote or 0)
        fmt = (
            "distanciel"
            if n_active and n_remote >= n_active
            else "mixte"
            if n_remote
            else "présentiel"
        )
    kind = cell(row, "type_referentiel").upper()
    rncp, rs = cell(row, "code_rncp"), cell(row, columns["code_rs"])
    code = None
    try:
        if kind == "RS" or (not rncp and rs):
            code = certification_code("RS", rs) if rs else None
        elif rncp:
            code = certification_code("RNCP", rncp)
    except ValueError as exc:
        errors.append(str(exc))
    if code is None and not errors:
        errors.append(
            "code de certification manquant : le catalogue Mon Compte Formation ne recense que des "
            "formations certifiantes (code_rncp ou code RS attendu)"
        )
    if errors:
        return {}, errors

    content = [_plain_text(cell(row, "contenu_formation"))]
    ranges = []
    low_h, high_h = (
        _number(cell(row, "nombre_heures_total_min")),
        _number(cell(row, "nombre_heures_total_max")),
    )
    if low_h is not None and high_h is not None and low_h != high_h:
        ranges.append(f"de {_fr_number(low_h)} à {_fr_number(high_h)} h")
    low_p, high_p = _number(cell(row, "frais_ttc_tot_min")), _number(cell(row, "frais_ttc_tot_max"))
    if low_p is not None and high_p is not None and low_p != high_p:
        ranges.append(f"de {_fr_number(low_p)} à {_fr_number(high_p)} € TTC")
    if ranges:
        content.append(
            f"Selon les sessions : {' ; '.join(ranges)} (durée et prix indiqués : moyennes du catalogue)."
        )
    domain = cell(row, "libelle_code_formacode_principal")
    if domain:
        content.append(f"Domaine (Formacode) : {domain}.")
    certification = cell(row, "intitule_certification")
    if certification:
        content.append(f"Certification visée : {certification} ({code}).")
    objectives = _plain_text(cell(row, "objectif_formation")) or _plain_text(
        cell(row, "points_forts")
    )
    rome = list(
        dict.fromkeys(c.upper() for c in (cell(row, f"code_rome_{i}") for i in range(1, 6)) if c)
    )
    data = {
        "title": cell(row, "intitule_formation"),
        "objectives": objectives,
        "content": " ".join(c for c in content if c),
        "provider": cell(row, "nom_of"),
        "department": department,
        "format": fmt,
        "duration_hours": round(hours, 1) if hours is not None else None,
        "price_eur": round(price, 2) if price is not None else None,
        "funding": ["cpf"],
        "exit_level": cell(row, "libelle_niveau_sortie_formation"),
        "certification_code": code,
        "rome_codes": rome,
        "disability_access": False,  # not in the file: shown as « non précisé »
        "sources": [f"{MCF_SOURCE}, {_mcf_date(cell(row, columns['date']))}"],
        "illustrative": False,
    }
    return {k: v for k, v in data.items() if v not in (None, "")}, []


# -- LHÉO XML -----------------------------------------------------------------------------------------

#: dict-modalites-enseignement (LHÉO): 0 entièrement présentielle, 1 mixte, 2 entièrement à distance.
_LHEO_MODES = {"0": "présentiel", "1": "mixte", "2": "distanciel"}
#: dict-financeurs (LHÉO) -> our funding routes; the other payers have no counterpart.
_LHEO_FUNDERS = {
    "2": "region",
    "4": "france_travail",
    "5": "plan",
    "16": "opco",
    "17": "transitions_pro",
}
_HOURS_TEXT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:h|heures?)\b", re.IGNORECASE)


def _child(element, *path: str):
    """The first descendant along ``path`` (local names, any LHÉO namespace), or None."""
    for step in path:
        if element is None:
            return None
        element = element.find(f"{{*}}{step}")
    return element


def _children(element, name: str) -> list:
    return [] if element is None else element.findall(f"{{*}}{name}")


def _text(element, *path: str) -> str:
    found = _child(element, *path) if path else element
    return "" if found is None else "".join(found.itertext()).strip()


def _lheo_date(raw: str) -> date | None:
    """``AAAAMMJJ``; unknown (00000000, 99999999) or partial (month, year) dates give None."""
    if not re.fullmatch(r"\d{8}", raw):
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


def _url(raw: str) -> str | None:
    value = raw.strip()
    if not value or value == "-":
        return None
    return value if re.match(r"^https?://", value, re.IGNORECASE) else f"http://{value}"


def load_lheo(path: Path, name: str):
    """A LHÉO document -> one ``training`` record per action taught in Hauts-de-France.

    Mapping: title ``intitule-formation``; objectives ``objectif-formation``; content
    ``contenu-formation`` and ``resultats-attendus``; provider ``nom-organisme`` (else
    ``raison-sociale``) of ``organisme-formation-responsable``; place the first
    ``lieu-de-formation`` address (département from ``departement``, else the INSEE code, else the
    postal code); mode ``modalites-enseignement``; hours ``nombre-heures-total`` (else « N heures » in
    ``duree-indicative``); price ``prix-total-TTC`` (else ``prix-horaire-TTC`` × hours); sessions the
    exact ``session/periode/debut`` dates; certification ``code-RNCP`` or ``code-RS``; ROME codes;
    URL ``url-action`` else ``url-formation``; funding from ``code-financeur``.
    """
    from .loaders import LoadedRecord
    from .xmlsafe import XMLRefused, iterparse

    loaded: list[LoadedRecord] = []
    problems: list[Problem] = []
    outside: list[str] = []
    unpriced: list[str] = []
    position = 0
    try:
        for _event, element in iterparse(path, events=("end",), tag="{*}formation"):
            position += 1
            records, found, skipped = _lheo_formation(element, name, position)
            loaded.extend(LoadedRecord("training", t, name) for t in records)
            problems.extend(found)
            outside.extend(skipped["outside"])
            unpriced.extend(skipped["unpriced"])
            # Free what was read: a regional catalogue holds thousands of offers.
            element.clear()
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except XMLRefused as exc:
        return [], [exc.problem(name)]
    if position == 0:
        problems.append(Problem(file=name, reason="document LHÉO sans aucune offre (<formation>)"))
    if outside:
        problems.append(
            Problem(
                file=name,
                notice=True,
                reason=_skipped("action(s) hors Hauts-de-France", len(outside), outside),
            )
        )
    if unpriced:
        problems.append(
            Problem(
                file=name,
                notice=True,
                reason=_skipped(
                    "action(s) sans prix (ni prix-total-TTC ni prix-horaire-TTC) ou sans durée",
                    len(unpriced),
                    unpriced,
                ),
            )
        )
    return loaded, problems


def _lheo_formation(formation, name: str, position: int):
    number = formation.get("numero") or f"n° {position}"
    line = formation.sourceline
    problems: list[Problem] = []
    skipped: dict[str, list[str]] = {"outside": [], "unpriced": []}
    title = _text(formation, "intitule-formation")
    responsible = _child(formation, "organisme-formation-responsable")
    provider = _text(responsible, "nom-organisme") or _text(responsible, "raison-sociale")
    provider = "" if provider == "-" else provider
    siret = _text(responsible, "SIRET-organisme-formation", "SIRET")
    code = None
    for certification in _children(formation, "certification"):
        for kind, tag in (("RNCP", "code-RNCP"), ("RS", "code-RS")):
            raw = _text(certification, tag)
            if raw and code is None:
                try:
                    code = certification_code(kind, raw)
                except ValueError as exc:
                    problems.append(
                        Problem(
                            file=name,
                            line=_child(certification, tag).sourceline,
                            record=number,
                            reason=str(exc),
                        )
                    )
    rome = list(
        dict.fromkeys(
            _text(c).upper()
            for c in _children(_child(formation, "domaine-formation"), "code-ROME")
            if _text(c)
        )
    )
    objectives = _plain_text(_text(formation, "objectif-formation"))
    results = _plain_text(_text(formation, "resultats-attendus"))
    content = _plain_text(_text(formation, "contenu-formation"))
    if results:
        content = f"{content} Résultats attendus : {results}".strip()
    if not title:
        problems.append(
            Problem(
                file=name, line=line, record=number, reason="titre : intitule-formation manquant"
            )
        )
    formation_url = _url(_text(formation, "url-formation", "urlweb"))
    stamp = formation.get("datemaj") or ""
    # The file does not say who published it (a Carif-Oref, an EDOF export…): name the file.
    source = f"{LHEO_SOURCE}, fichier « {Path(name).name} »" + (
        f", offre mise à jour le {_lheo_date(stamp):%d/%m/%Y}" if _lheo_date(stamp) else ""
    )
    if problems:
        return [], problems, skipped
    actions = _children(formation, "action")
    if not actions:
        return (
            [],
            [
                Problem(
                    file=name,
                    line=line,
                    record=number,
                    reason="offre sans action de formation (<action>)",
                )
            ],
            skipped,
        )
    out: list[Training] = []
    for index, action in enumerate(actions, start=1):
        action_number = action.get("numero") or f"action {index}"
        record = f"{number} / {action_number}"
        where = f"{record} (ligne {action.sourceline})"
        mode_raw = _text(action, "modalites-enseignement")
        fmt = _LHEO_MODES.get(mode_raw)
        if fmt is None:
            problems.append(
                Problem(
                    file=name,
                    line=_line(action, "modalites-enseignement"),
                    record=record,
                    reason=f"modalité inconnue : modalites-enseignement {mode_raw!r} (attendu : 0 présentiel, 1 mixte, 2 à distance)",
                )
            )
            continue
        address = _child(action, "lieu-de-formation", "coordonnees", "adresse")
        city = _city(_text(address, "ville"))
        department = department_of(
            department=_text(address, "departement"),
            insee=_text(address, "code-INSEE-commune"),
            postcode=_text(address, "codepostal"),
        )
        if department is not None and department not in DEPARTMENTS:
            skipped["outside"].append(where)
            continue
        try:
            hours = _number(_text(action, "nombre-heures-total"))
            if hours is None:
                match = _HOURS_TEXT.match(_text(action, "duree-indicative"))
                hours = float(match.group(1).replace(",", ".")) if match else None
            price = _number(_text(action, "prix-total-TTC"))
            hourly = _number(_text(action, "prix-horaire-TTC"))
        except ValueError:
            problems.append(
                Problem(
                    file=name,
                    line=action.sourceline,
                    record=record,
                    reason="nombre illisible dans nombre-heures-total, prix-total-TTC ou prix-horaire-TTC",
                )
            )
            continue
        if price is None and hourly is not None and hours is not None:
            price = round(hourly * hours, 2)
        if price is None or hours is None:
            skipped["unpriced"].append(where)
            continue
        sessions = sorted(
            {
                d
                for s in _children(action, "session")
                if (d := _lheo_date(_text(s, "periode", "debut")))
            }
        )
        funding = list(
            dict.fromkeys(
                _LHEO_FUNDERS[c]
                for c in (
                    _text(f, "code-financeur") for f in _children(action, "organisme-financeur")
                )
                if c in _LHEO_FUNDERS
            )
        )
        access = _text(action, "acces-handicapes")
        data = {
            "id": offer_id("lheo", siret, number, action_number),
            "title": title,
            "objectives": objectives,
            "content": content,
            "provider": provider,
            "city": city or None,
            "department": department,
            "format": fmt,
            "duration_hours": hours,
            "price_eur": price,
            "funding": funding,
            "certification_code": code,
            "rome_codes": rome,
            "sessions": sessions,
            "disability_access": bool(access) and access != "-",
            "url": _url(_text(action, "url-action", "urlweb")) or formation_url,
            "sources": [source],
            "illustrative": False,
        }
        training, errors = _validate(
            {k: v for k, v in data.items() if v not in (None, "")},
            file=name,
            record=record,
            line=action.sourceline,
        )
        if errors:
            problems.extend(errors)
        elif training is not None:
            out.append(training)
    return out, problems, skipped


_LOWER_WORDS = {
    "sur",
    "sous",
    "en",
    "de",
    "des",
    "du",
    "la",
    "le",
    "les",
    "lès",
    "lez",
    "et",
    "aux",
    "au",
}


def _city(raw: str) -> str:
    """A commune as written in running text: « VILLENEUVE-D'ASCQ » -> « Villeneuve-d'Ascq »."""
    if not raw.isupper():
        return raw

    def word(part: str, first: bool) -> str:
        lowered = part.lower()
        if lowered.startswith(("d'", "l'")) and len(lowered) > 2:
            return lowered[:2] + lowered[2:].capitalize()
        return lowered if lowered in _LOWER_WORDS and not first else lowered.capitalize()

    parts = re.split(r"([ -])", raw)
    return "".join(p if p in (" ", "-") else word(p, i == 0) for i, p in enumerate(parts))


def _line(element, tag: str) -> int | None:
    found = _child(element, tag)
    return (found if found is not None else element).sourceline
