"""ROME 4.0 (France Travail, « RefRomeCsv »): one ``Role`` per job sheet.

Input: the release folder or its zip, files named ``unix_<table>_v<release>_utf8.csv`` (quoted,
comma-separated, UTF-8). Tables read:

- ``referentiel_code_rome``: the job sheets (code, label);
- ``referentiel_appellation``: the job titles (long and short forms) of each sheet;
- ``cr_gd_dp``: grand domaine and domaine professionnel of each sheet;
- ``texte``: definition and access sentences (``libelle_type_texte`` definition | acces_metier);
- ``liens_rome_referentiels`` (bloc 5: rubrique 1 savoir-faire, 2 savoir-être, 3 savoirs) with
  ``referentiel_competence`` and ``referentiel_savoir`` (``transition_num`` = O: digital transition)
  and ``coherence_item`` (``coeur_metier``);
- ``rubrique_mobilite``: close jobs, in ``numero_ordre`` order.

An optional ``release.yaml`` beside the files gives the release date shown in citations.
"""

from __future__ import annotations

import re
from collections import defaultdict

import yaml
from pydantic import ValidationError

from assistant.models import Role, RomeItem, rome_url

from ..problems import Problem, problems_from_validation
from ._files import Bundle, CsvRows, decode, read_csv, whitespace

__all__ = ["ROME_TABLES", "is_rome_release", "load_rome", "rome_source"]

#: table -> columns the importer needs
ROME_TABLES: dict[str, tuple[str, ...]] = {
    "referentiel_code_rome": ("code_rome", "libelle_rome"),
    "referentiel_appellation": ("code_ogr", "libelle_appellation_long", "libelle_appellation_court", "code_rome"),
    "cr_gd_dp": ("code_rome", "code_grand_domaine", "libelle_grand_domaine",
                 "code_domaine_professionel", "libelle_domaine_professionel"),
    "texte": ("code_rome", "libelle_type_texte", "position_phrase", "libelle_texte"),
    "liens_rome_referentiels": ("code_rome", "code_compo_bloc", "code_rubrique", "code_ogr"),
    "referentiel_competence": ("code_ogr", "libelle_competence", "sous_cat_comp", "transition_num"),
    "referentiel_savoir": ("code_ogr_savoir", "libelle_savoir", "categorie_savoir", "transition_num"),
    "coherence_item": ("code_rome", "code_ogr", "coeur_metier"),
    "rubrique_mobilite": ("code_rome", "code_rome_cible", "numero_ordre"),
}
_ROME_CODE = re.compile(r"^[A-N]\d{4}$")
_KINDS = {"1": "savoir-faire", "2": "savoir-etre", "3": "savoir"}


def _pattern(table: str) -> re.Pattern[str]:
    return re.compile(rf"^unix_{table}_v(\d+)_utf8\.csv$")


def is_rome_release(bundle: Bundle) -> bool:
    """True when the folder or zip holds a RefRomeCsv job-sheet table."""
    return bundle.find(_pattern("referentiel_code_rome")) is not None


def rome_source(version: str, date: str | None) -> str:
    """How a ROME sheet is cited."""
    when = f", {date}" if date else ""
    return f"France Travail — ROME 4.0 (version v{version}{when}), Licence Ouverte 2.0"


def load_rome(bundle: Bundle) -> tuple[list[Role], list[Problem]]:
    """Every job sheet of the release, or the problems that prevent reading it."""
    tables: dict[str, CsvRows] = {}
    problems: list[Problem] = []
    version = ""
    for table, columns in ROME_TABLES.items():
        name = bundle.find(_pattern(table))
        if name is None:
            problems.append(Problem(
                file=bundle.display,
                reason=f"fichier manquant dans la publication ROME : unix_{table}_v<version>_utf8.csv",
            ))
            continue
        version = version or _pattern(table).match(name.rsplit("/", 1)[-1]).group(1)  # type: ignore[union-attr]
        rows, found = read_csv(decode(bundle.read(name)), file=bundle.label(name), required=columns)
        problems.extend(found)
        if rows is not None:
            tables[table] = rows
    if len(tables) < len(ROME_TABLES):
        return [], problems
    date = _release_date(bundle)
    source = rome_source(version, date)

    sheets: dict[str, dict] = {}
    t = tables["referentiel_code_rome"]
    for line, row in t.rows:
        code, label = row["code_rome"].strip(), whitespace(row["libelle_rome"])
        if not _ROME_CODE.match(code):
            problems.append(Problem(file=t.file, line=line, record=code, reason="code ROME invalide (une lettre A-N et 4 chiffres)"))
            continue
        if not label:
            problems.append(Problem(file=t.file, line=line, record=code, reason="intitulé de fiche (libelle_rome) vide"))
            continue
        if code in sheets:
            problems.append(Problem(file=t.file, line=line, record=code, reason="fiche ROME en double"))
            continue
        sheets[code] = {"id": code, "rome_code": code, "label": label, "aliases": [], "url": rome_url(code),
                        "sources": [f"{source}, fiche {code}"]}
        # (an optional column: older exports have no parent sheets)
        parent = (row.get("code_rome_parent") or "").strip()
        if _ROME_CODE.match(parent) and parent != code:
            sheets[code]["parent"] = parent

    def known(table: str, line: int, code: str) -> bool:
        if code in sheets:
            return True
        problems.append(Problem(file=tables[table].file, line=line, record=code, reason="code ROME absent du référentiel des fiches"))
        return False

    t = tables["referentiel_appellation"]
    for line, row in t.rows:
        code = row["code_rome"].strip()
        if not known("referentiel_appellation", line, code):
            continue
        names = sheets[code]["aliases"]
        for column in ("libelle_appellation_long", "libelle_appellation_court"):
            name = whitespace(row[column])
            if name and name not in names:
                names.append(name)
        if not whitespace(row["libelle_appellation_long"]):
            problems.append(Problem(file=t.file, line=line, record=row["code_ogr"], reason="appellation sans intitulé"))

    for line, row in tables["cr_gd_dp"].rows:
        code = row["code_rome"].strip()
        if known("cr_gd_dp", line, code):
            sheets[code].update(
                grand_domain_code=row["code_grand_domaine"].strip(),
                grand_domain_label=whitespace(row["libelle_grand_domaine"]),
                domain_code=row["code_domaine_professionel"].strip(),
                domain_label=whitespace(row["libelle_domaine_professionel"]),
            )

    sentences: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    t = tables["texte"]
    for line, row in t.rows:
        code, kind = row["code_rome"].strip(), row["libelle_type_texte"].strip()
        if not known("texte", line, code):
            continue
        try:
            position = int(row["position_phrase"] or 0)
        except ValueError:
            problems.append(Problem(file=t.file, line=line, record=code, reason="position_phrase : nombre entier attendu"))
            continue
        # The texte file escapes every apostrophe SQL-style (« d''une ») : one is meant.
        sentences[(code, kind)].append((position, whitespace(row["libelle_texte"].replace("''", "'"))))
    for (code, kind), parts in sentences.items():
        field = {"definition": "definition", "acces_metier": "access"}.get(kind)
        if field:
            sheets[code][field] = " ".join(text for _, text in sorted(parts) if text)

    skills = {row["code_ogr"]: row for _, row in tables["referentiel_competence"].rows}
    knowledge = {row["code_ogr_savoir"]: row for _, row in tables["referentiel_savoir"].rows}
    core = {(row["code_rome"], row["code_ogr"]): row["coeur_metier"].strip() for _, row in tables["coherence_item"].rows}
    items: dict[str, list[RomeItem]] = defaultdict(list)
    t = tables["liens_rome_referentiels"]
    for line, row in t.rows:
        if row["code_compo_bloc"].strip() != "5":
            continue  # other blocs link appellations, contexts, the sheet itself
        code, ogr, rubric = row["code_rome"].strip(), row["code_ogr"].strip(), row["code_rubrique"].strip()
        if not known("liens_rome_referentiels", line, code):
            continue
        item_kind = _KINDS.get(rubric)
        if item_kind == "savoir":
            item = knowledge.get(ogr)
            label, category = (item["libelle_savoir"] or "", item["categorie_savoir"] or "") if item else ("", "")
        else:
            item = skills.get(ogr)
            label, category = (item["libelle_competence"] or "", item["sous_cat_comp"] or "") if item else ("", "")
        if item_kind is None or item is None:
            problems.append(Problem(file=t.file, line=line, record=ogr, reason="élément (code_ogr) absent des référentiels de compétences et de savoirs"))
            continue
        items[code].append(RomeItem(
            label=whitespace(label), digital=item["transition_num"].strip() == "O", kind=item_kind,
            category=whitespace(category), core=core.get((code, ogr), ""),
        ))
    for code, sheet_items in items.items():
        # Digital-transition items first, then the core of the job, then ROME's order.
        ranked = sorted(sheet_items, key=lambda i: (not i.digital, i.core != "Principale"))
        sheets[code]["skills"] = [i for i in ranked if i.kind != "savoir"]
        sheets[code]["knowledge"] = [i for i in ranked if i.kind == "savoir"]

    targets: dict[str, list[tuple[int, str]]] = defaultdict(list)
    t = tables["rubrique_mobilite"]
    for line, row in t.rows:
        code, target = row["code_rome"].strip(), row["code_rome_cible"].strip()
        if known("rubrique_mobilite", line, code) and known("rubrique_mobilite", line, target):
            targets[code].append((int(row["numero_ordre"] or 0) if row["numero_ordre"].strip().isdigit() else 0, target))
    for code, ordered in targets.items():
        sheets[code]["mobility"] = list(dict.fromkeys(target for _, target in sorted(ordered)))

    roles: list[Role] = []
    for code, data in sheets.items():
        try:
            roles.append(Role.model_validate(data))
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, file=tables["referentiel_code_rome"].file, record=code))
    return roles, problems


def _release_date(bundle: Bundle) -> str | None:
    name = bundle.find(re.compile(r"^release\.ya?ml$"))
    if name is None:
        return None
    try:
        data = yaml.safe_load(decode(bundle.read(name))) or {}
    except yaml.YAMLError:
        return None
    return str(data.get("date") or "") or None
