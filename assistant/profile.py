"""Who is asking: a ``Profile`` extracted from a French (or English) question.

Rules over accent-folded text; job names matched through the aliases of ``roles.yaml`` with
``rapidfuzz`` for typos; places through the communes of ``places.csv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .models import DEPARTMENTS, MAX_HOURS, MAX_PRICE, Profile
from .text import fold

__all__ = ["ProfileExtractor", "merge_profiles"]

_DEPARTMENT_NAMES = {
    "aisne": "02",
    "nord": "59",
    "oise": "60",
    "pas de calais": "62",
    "somme": "80",
}

_FORMATS = [
    ("mixte", r"\b(hybride|mixte|blended|en partie a distance)\b"),
    ("distanciel", r"\b(a distance|distanciel(le)?|en ligne|e ?learning|online|remote|remotely|en visio|visioconference|depuis chez moi|de chez moi|mooc|sans me deplacer)\b"),
    ("présentiel", r"\b(presentiel(le)?|sur place|en salle|in person|on site|face a face)\b"),
]

_FUNDING = [
    ("cpf", r"\b(cpf|compte personnel de formation|mon compte formation|moncompteformation)\b"),
    ("opco", r"\b(opco|operateur de competences|akto|atlas|constructys|ocapiat|afdas)\b"),
    ("plan", r"\b(plan de developpement|plan de formation|mon employeur|par (l )?employeur|par mon entreprise|budget formation de (l )?entreprise)\b"),
    ("region", r"\b((financ\w*|pris\w* en charge|aide\w*|paye\w*|subvention\w*) (\w+ ){0,2}(par |de )?(la )?region|region hauts de france|pass formation|proch emploi)\b"),
    ("france_travail", r"\b(france travail|pole emploi|demandeu(r|se)s? (d )?emploi|au chomage|chomeur|chomeuse|job seeker|unemployed)\b"),
    ("transitions_pro", r"\b(transitions? pro|projet de transition professionnelle|ptp)\b"),
]

_AUDIENCES = [
    ("eleve", r"\b(eleve|lyceen(ne)?|collegien(ne)?|etudiant(e)?s?|college|lycee|seconde|terminale|3e|troisieme|bac pro|parcoursup|pupil|student|high school|je suis jeune|en classe)\b"),
    ("rh", r"\b(rh|drh|ressources humaines|nous devons former|former (nos|mes|les) \d+|former \d+|formons \d+|responsable formation|service formation|human resources|hr team|pour (mes|nos) (salaries|collaborateurs|equipes?)|pour \d+ \w+|plan de formation de (l )?entreprise)\b"),
    ("entreprise", r"\b(mon entreprise|notre entreprise|ma pme|notre pme|dirigeant(e)?|chef (d )?entreprise|gerant(e)?|manager|mon equipe|notre equipe|my team|my company|tpe|pme|startup)\b"),
    ("salarie", r"\b(je suis|je travaille|mon metier|mon poste|salarie(e)?|i am an?|i work as)\b"),
]

_SECTOR_WORDS = {
    "famille-comptabilite-finance": r"\b(comptab\w*|financ(e|ier)s?|audit|paie)\b",
    "famille-banque-assurance": r"\b(banques?|bancaires?|assurances?|assureurs?|mutuelles?)\b",
    "famille-support-administratif-rh": r"\b(administratif|secretariat|ressources humaines|assistanat)\b",
    "famille-relation-client": r"\b(relation client|service client|centre (d )?appels?|call center)\b",
    "famille-commerce-marketing": r"\b(marketing|commercial(e|es|aux)?|vente b2b|prospection)\b",
    "famille-logistique-transport": r"\b(logistique|entrepots?|transports?|supply chain)\b",
    "famille-industrie-maintenance": r"\b(industrie(l|lle)?s?|usines?|maintenance|production industrielle)\b",
    "famille-btp": r"\b(btp|batiment|chantiers?|construction|travaux publics)\b",
    "famille-sante-soin": r"\b(sante|soins?|hopital|clinique|medical|ehpad)\b",
    "famille-commerce-detail": r"\b(commerce de detail|magasins?|grande distribution|retail|boutiques?)\b",
    "famille-numerique-data": r"\b(numerique|informatique|data|donnees|developpement logiciel|digital)\b",
    "famille-agriculture-agroalimentaire": r"\b(agricult\w*|agroalimentaire|agri|ferme|exploitation agricole)\b",
    "famille-services-publics-enseignement": r"\b(fonction publique|service public|collectivites?|enseignement|education nationale|mairie)\b",
    "famille-communication-medias": r"\b(communication|medias?|journalisme|presse|graphisme)\b",
}

_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "dix": 10, "quinze": 15, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    "cent": 100, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10,
}
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_UPPER = r"(?:moins de|maximum|max|au plus|pas plus de|jusqu a|jusqu au|n excedant pas|under|less than|at most|up to|maxi|inferieure? a|en)"
_UNIT_HOURS = {"h": 1, "heure": 1, "heures": 1, "hour": 1, "hours": 1, "jour": 7, "jours": 7, "journee": 7,
               "journees": 7, "day": 7, "days": 7, "semaine": 35, "semaines": 35, "week": 35, "weeks": 35,
               "mois": 140, "month": 140, "months": 140}
# Prepositions that introduce a place ("à Laon", "près de Beauvais", "in Lille").
_PLACE_LEAD = r"(?:a|au|aux|pres de|pres|autour de|vers|sur|de|du|in|near|around|region de|secteur de|cote de|proche de|habite|j habite|vis|je vis|basee?|situee?)"


def _number(text: str) -> float:
    text = text.replace(",", ".")
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text)


@dataclass
class _Alias:
    folded: str
    role: str


class ProfileExtractor:
    """Extracts a profile; built once per knowledge version (roles and places)."""

    def __init__(self, roles: dict, places: dict) -> None:
        self._roles = roles
        aliases: dict[str, str] = {}
        for role in roles.values():
            for name in [role.label, *role.aliases]:
                folded = _norm(name)
                if len(folded) >= 3:
                    aliases.setdefault(folded, role.id)
        self._aliases = aliases
        self._alias_keys = sorted(aliases, key=len, reverse=True)
        self._alias_re = re.compile(
            r"\b(" + "|".join(re.escape(a) for a in self._alias_keys) + r")(s|x|e|es)?\b"
        ) if aliases else None
        communes: dict[str, str] = {}
        for place in places.values():
            communes.setdefault(_norm(place.commune), place.department)
        self._communes = communes
        keys = sorted(communes, key=len, reverse=True)
        self._commune_re = re.compile(
            rf"\b{_PLACE_LEAD}\s+(" + "|".join(re.escape(c) for c in keys) + r")\b"
        ) if communes else None
        self._commune_bare_re = re.compile(
            r"\b(" + "|".join(re.escape(c) for c in keys if len(c) >= 6) + r")\b"
        ) if communes else None

    def extract(self, question: str) -> Profile:
        """The profile stated in one question (fields not stated stay empty)."""
        text = _norm(question)
        data: dict = {}
        role = self._role(text)
        if role is not None:
            data.update(role=role.id, role_label=role.label, rome_code=role.rome_code, sector=role.sector)
        else:
            for sector, pattern in _SECTOR_WORDS.items():
                if re.search(pattern, text):
                    data["sector"] = sector
                    break
        department = self._department(text, question)
        if department:
            data["department"] = department
        for value, pattern in _FORMATS:
            if re.search(pattern, text):
                data["format"] = value
                break
        # Out of Profile's bounds ("moins de 10^400 heures"): no real limit, nothing to keep.
        hours = _max_hours(text)
        if hours and hours <= MAX_HOURS:
            data["max_hours"] = hours
        price = _max_price(text)
        if price is not None and price <= MAX_PRICE:
            data["max_price"] = price
        funding = [code for code, pattern in _FUNDING if re.search(pattern, text)]
        if funding:
            data["funding"] = funding
        if re.search(r"\b(non certifiante?s?|sans certification|pas besoin de certification|not certified)\b", text):
            data["certifying"] = False
        elif re.search(r"\b(certifiante?s?|certifications?|certificats?|diplomante?s?|diplome|rncp|certified|certification)\b", text):
            data["certifying"] = True
        for value, pattern in _AUDIENCES:
            if re.search(pattern, text):
                data["audience"] = value
                break
        return Profile(**data)

    def _role(self, text: str):
        for code in re.findall(r"\b([a-n]\d{4})\b", text):
            for role in self._roles.values():
                if role.rome_code.lower() == code:
                    return role
        if self._alias_re is not None:
            found = self._alias_re.search(text)
            if found:
                return self._roles[self._aliases[found.group(1)]]
        # Typos: compare each 1-3 word window to the aliases.
        words = text.split()
        windows = [" ".join(words[i : i + n]) for n in (3, 2, 1) for i in range(len(words) - n + 1)]
        windows = [w for w in windows if len(w) >= 6]
        best = None
        for window in windows:
            match = process.extractOne(window, self._alias_keys, scorer=fuzz.ratio, score_cutoff=91)
            if match and (best is None or match[1] > best[1]):
                best = match
        return self._roles[self._aliases[best[0]]] if best else None

    def _department(self, text: str, original: str) -> str | None:
        if self._commune_re is not None:
            found = self._commune_re.search(text)
            if found:
                return self._communes[found.group(1)]
        found = re.search(r"\b(?:dans le|dans l|departement|dept|le|du|en)\s+(aisne|nord|oise|pas de calais|somme)\b", text)
        if found:
            return _DEPARTMENT_NAMES[found.group(1)]
        if re.search(r"(?<!mer du )\bNord\b(?![- ]?(Europe|Pas))", original):
            return "59"
        found = re.search(r"\b(aisne|pas de calais|somme|oise)\b", text)
        if found and not re.search(r"\bbaie de (la )?somme\b", text):
            return _DEPARTMENT_NAMES[found.group(1)]
        found = re.search(r"\b(?:dans le|departement|dept|le|du|en)\s+(02|59|60|62|80)\b(?!\s*(h|heures?|euros?|e|%))", text)
        if found:
            return found.group(1)
        found = re.search(r"\((02|59|60|62|80)\)", text)
        if found:
            return found.group(1)
        if self._commune_bare_re is not None:
            found = self._commune_bare_re.search(text)
            if found:
                return self._communes[found.group(1)]
        return None


def _norm(text: str) -> str:
    """Folded text with punctuation and hyphens as single spaces."""
    text = fold(text).replace("€", " euros ")
    text = re.sub(r"(\d)\s+(\d{3})\b", r"\1\2", text)  # "1 000" -> "1000"
    return re.sub(r"[^a-z0-9.,%]+", " ", text).replace(" ,", " ").strip()


def _max_hours(text: str) -> float | None:
    found = re.search(rf"\b{_UPPER}\s+{_NUM}\s*(h|heures?|hours?|jours?|journees?|days?|semaines?|weeks?|mois|months?)\b", text)
    if not found:
        found = re.search(rf"\b{_NUM}\s*(h|heures?|hours?|jours?|journees?|days?|semaines?|weeks?)\s+(maximum|max|maxi|au plus|at most|or less|ou moins)\b", text)
    if found:
        return _number(found.group(1)) * _UNIT_HOURS[found.group(2)]
    found = re.search(r"\b(une|1|one|a)\s+(journee|day)\b|\b(demi journee|half day)\b", text)
    if found and re.search(r"\b(formation|training|course|cours)\b", text):
        return 3.5 if found.group(3) else 7.0
    found = re.search(r"(?<!par )\b(une|1)\s+semaine\b(?! sur)|\b(one|a)\s+week\b", text)
    if found:
        return 35.0
    if re.search(r"\b(courtes?|short)\b", text):
        return 35.0
    return None


def _max_price(text: str) -> float | None:
    if re.search(r"\b(gratuite?s?|free|sans frais|0 euros?|gratuitement|sans payer)\b", text):
        return 0.0
    found = re.search(rf"\b(?:{_UPPER}|budget( de)?|pour|a|under|below|less than)\s+{_NUM}\s*(euros?|eur)\b", text)
    if found:
        return _number(found.group(found.lastindex - 1))
    found = re.search(rf"\b{_NUM}\s*(euros?|eur)\s+(maximum|max|au plus|at most)\b", text)
    if found:
        return _number(found.group(1))
    return None


def merge_profiles(previous: Profile | None, new: Profile, override: Profile | None = None) -> Profile:
    """Conversation memory: what the new question states wins, the rest is kept.

    ``override`` (an explicit profile sent with the request) wins over both.
    """
    data = previous.model_dump() if previous else {}
    for key, value in new.model_dump(exclude_defaults=True).items():
        data[key] = value
    if new.role:
        # A new job replaces the whole job description.
        data.update(role_label=new.role_label, rome_code=new.rome_code, sector=new.sector)
    if override is not None:
        for key, value in override.model_dump(exclude_unset=True).items():
            data[key] = value
    return Profile(**data)


def department_label(code: str | None) -> str:
    return f"{DEPARTMENTS[code]} ({code})" if code else ""
