"""Remove personal data from text before anything is stored or logged.

``scrub(text)`` replaces what identifies a person with a French placeholder:

- e-mail addresses -> « [courriel] »
- phone numbers, French and international (``phonenumbers``, Google's libphonenumber) ->
  « [téléphone] »
- IBANs (checksum checked by ``python-stdnum``) -> « [IBAN] »
- bank card numbers (13 to 19 digits passing the Luhn check of ``python-stdnum``) ->
  « [carte bancaire] »
- French social-security numbers (NIR, spaces or dots allowed): the structure (sex, year, month,
  place, order) is matched, the key checked by ``python-stdnum``'s ``fr.nir``; a number with that
  structure but a wrong or missing key is removed too, since a mistyped number still identifies
  someone (unless it is a 15-digit card number) -> « [numéro de sécurité sociale] »
- postal addresses (a number, a street type, a name; a postal code with a town) -> « [adresse] »
- names introduced by a cue (« je m'appelle », « mon nom est », « moi c'est », « my name is »,
  « Madame », « M. »…) -> « [nom] »

Names are found by these cues, not by a named-entity model: a model (spaCy's French ``PER``
entities) weighs tens of megabytes, runs in milliseconds per sentence where this runs in
microseconds (``scrub`` also guards every log line), misses the lower-case names people type in a
chat box and tags job titles and towns as people, which would erase what the observatory counts.
The cost: a name typed without a cue stays; the observatory stores no free text unless
``ORIENTIA_STORE_QUESTION_TEXT`` allows it, and only after this function.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["scrub", "PLACEHOLDERS"]

PLACEHOLDERS = {
    "email": "[courriel]",
    "phone": "[téléphone]",
    "name": "[nom]",
    "address": "[adresse]",
    "nir": "[numéro de sécurité sociale]",
    "iban": "[IBAN]",
    "card": "[carte bancaire]",
}

_EMAIL = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+\s?(?:@|\(at\)|\[at\]|\barobase\b)\s?[\w-]+(?:\s?(?:\.|\(dot\)|\[dot\])\s?[\w-]+)+",
    re.IGNORECASE,
)

# An IBAN: a country code, two check digits, then 11 to 30 letters or digits, in groups or not.
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}\b")

# NIR: sex (1, 2, or 3/4/7/8 for provisional numbers), year, month (01-12, 20-42, 50-99), place
# (département incl. 2A/2B, or 99 abroad, then commune or country), order number, optional key.
_NIR = re.compile(
    r"(?<![\dA-Za-z])[1-478][ .-]?\d{2}[ .-]?(?:0[1-9]|1[0-2]|[2-4]\d|[5-9]\d)[ .-]?(?:\d{2}|2[AaBb])"
    r"[ .-]?\d{3}[ .-]?\d{3}(?:[ .-]?\d{2})?(?![\dA-Za-z])"
)

# A run of 13 to 19 digits, possibly in groups of 2 to 6 separated by a space or a hyphen.
_CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")

_STREET_TYPES = (
    "rue", "avenue", "av", "boulevard", "bd", "bld", "impasse", "allée", "allee", "quai",
    "faubourg", "fbg", "résidence", "residence", "lotissement", "ruelle", "venelle", "sente",
    "esplanade", "parvis", "promenade", "hameau", "lieu-dit", "rond-point", "square",
)
# Words that are also common nouns ("3 places", "2 voies"): the name must be capitalised. "cours"
# is left out: "12 cours de Python" is far likelier in a question than "12 cours Victor Hugo".
_AMBIGUOUS_TYPES = ("place", "route", "chemin", "passage", "voie", "cité", "cite")
_PARTICLE = r"(?:de\s+la|de\s+l['’]|du|des|de|d['’]|la|le|les|l['’]|aux|au|à\s+la|à)"
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_WORD = r"[\wÀ-ÿ'’-]+"
_NUMBER = r"\b\d{1,4}(?:\s?(?:bis|ter|quater|[a-dA-D])\b)?,?\s+"
_ADDRESS = re.compile(
    _NUMBER
    + r"(?:"
    # rue de la Paix, avenue Jean Jaurès, rue des lilas
    + r"(?i:" + "|".join(re.escape(t) for t in _STREET_TYPES) + r")\.?\s+"
    + rf"(?:(?i:{_PARTICLE})\s*)?{_WORD}(?:\s+(?:(?i:{_PARTICLE})\s*)?(?:{_CAP}|\d{{1,4}}))*"
    + r"|"
    # place du Général de Gaulle, chemin des Dames
    + r"(?i:" + "|".join(re.escape(t) for t in _AMBIGUOUS_TYPES) + r")\s+"
    + rf"(?:(?i:{_PARTICLE})\s*)?{_CAP}(?:\s+(?:(?i:{_PARTICLE})\s*)?(?:{_CAP}|\d{{1,4}}))*"
    + r")"
    # an optional ", 59000 Lille" after the street
    + rf"(?:\s*,?\s*(?:\d{{5}}|\d{{2}}\s\d{{3}})\s+{_CAP}(?:[\s-](?:(?i:{_PARTICLE})[\s-]?)?{_CAP})*(?:\s+(?i:cedex)(?:\s\d+)?)?)?"
)
# A postal code followed by a town: "59000 Lille", "62000 ARRAS", "80 000 Amiens".
_POSTCODE_TOWN = re.compile(
    rf"(?<![\d\[])(?:0[1-9]|[1-8]\d|9[0-8]|2[AB])\s?\d{{3}}\s+{_CAP}(?:[\s-](?:(?i:{_PARTICLE})[\s-]?)?{_CAP})*(?:\s+(?i:cedex)(?:\s\d+)?)?"
)

# Cues that introduce a name. What follows is the name: up to three words, stopping at a word
# that cannot be part of it (a verb, a conjunction, punctuation).
_NAME_CUES = re.compile(
    r"(?i:\bje\s+m['’]\s?appelle|\bj['’]\s?m['’]\s?appelle|\bmon\s+nom\s+(?:est|c['’]est)|\bmon\s+pr[ée]nom\s+(?:est|c['’]est)"
    r"|\bmoi\s*,?\s+c['’]est|\bmy\s+name\s+is|\bi\s+am\s+called|\bje\s+me\s+nomme|\bnom\s*:|\bpr[ée]nom\s*:"
    r"|\bsign[ée]\s*:?|\bcordialement\s*,?)\s+"
)
# A title, or « je suis » / « I'm », followed by a capitalised word ("Je suis Kévin", not "je suis
# comptable"; acronyms such as RH are skipped by ``_names``).
_TITLE_CUES = re.compile(
    r"(?:\b(?:Madame|Monsieur|Mademoiselle|Mme|Mlle|Mr|Mrs|Ms|Dr\.?|Docteur|Maître|Me)\s+|\bM\.\s*"
    r"|\b(?i:je\s+suis|moi\s+je\s+suis|i['’]m|i\s+am)\s+)(?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])"
)
_NOT_A_NAME = frozenset(
    """et je j suis ai a à au aux de du des en pour par car mais ou où donc ni or que qui quoi
    comment est c ce cette mon ma mes votre vos notre nos le la les l un une et/ou avec sans sur
    dans chez travaille travaillais habite vis voudrais veux souhaite cherche aimerais
    and i i'm im am from in at of who work live want would like to the a an""".split()
)
_NAME_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’-]*")


def scrub(text: str) -> str:
    """Replace personal data in ``text`` with French placeholders.

    Args:
        text: any text a user typed (a question, a comment) or a log line.

    Returns:
        The text with e-mail addresses, phone numbers, bank and social-security numbers,
        postal addresses and introduced names replaced by « [courriel] », « [téléphone] »…
    """
    if not text:
        return text
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _IBAN.sub(_iban, text)
    text = _NIR.sub(_nir, text)
    text = _CARD.sub(_card, text)
    text = _phones(text)
    text = _ADDRESS.sub(PLACEHOLDERS["address"], text)
    text = _POSTCODE_TOWN.sub(PLACEHOLDERS["address"], text)
    text = _names(text)
    return text


def _compact(value: str) -> str:
    return re.sub(r"[\s.-]", "", value)


def _iban(match: re.Match) -> str:
    from stdnum import iban

    value = match.group(0)
    # The regex may swallow a word after the number ("FR76 3000 ... 189 merci"): try shorter ends.
    parts = re.split(r"([ -])", value)
    for end in range(len(parts), 0, -1):
        candidate = "".join(parts[:end]).rstrip(" -")
        if len(_compact(candidate)) >= 15 and iban.is_valid(candidate):
            rest = "".join(parts[end:])
            return PLACEHOLDERS["iban"] + rest
    return value


def _nir(match: re.Match) -> str:
    from stdnum.fr import nir

    value = match.group(0)
    compact = _compact(value).upper()
    if len(compact) == 15 and not nir.is_valid(compact) and _luhn(compact):
        # Fifteen digits with a wrong NIR key but a valid Luhn sum: a card number (some are 15).
        return PLACEHOLDERS["card"]
    # A valid NIR, or one whose key is wrong or missing: the structure (sex, month, place) is
    # that of a NIR, and a mistyped number still identifies someone.
    return PLACEHOLDERS["nir"]


def _luhn(digits: str) -> bool:
    from stdnum import luhn

    return digits.isdigit() and luhn.is_valid(digits)


def _card(match: re.Match) -> str:
    value = match.group(0)
    digits = _compact(value)
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return PLACEHOLDERS["card"]
    return value


@lru_cache(maxsize=1)
def _phone_module():
    import phonenumbers

    return phonenumbers


def _phones(text: str) -> str:
    phonenumbers = _phone_module()
    out, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, "FR", leniency=phonenumbers.Leniency.POSSIBLE):
        start = match.start
        if match.raw_string.startswith("(") and ")" not in match.raw_string:
            start += 1  # "(06 12 34 56 78)": the opening bracket is the sentence's, not the number's
        out.append(text[last:start])
        out.append(PLACEHOLDERS["phone"])
        last = match.end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _names(text: str) -> str:
    def replace_after(cue_end: int, text: str, *, capitalised: bool) -> tuple[str, int]:
        pos, words, end = cue_end, 0, cue_end
        while words < 3:
            found = _NAME_WORD.match(text, pos)
            if not found:
                break
            word = found.group(0)
            folded = word.lower().strip("'’")
            if folded in _NOT_A_NAME:
                # "Jean de La Fontaine": a particle is part of the name when a capital follows.
                if words and folded in {"de", "du", "des", "le", "la", "van", "von", "d"}:
                    after = re.match(r"(\s+)([A-ZÀ-ÖØ-Þ])", text[found.end():])
                    if after:
                        pos = found.end() + len(after.group(1))
                        continue
                break
            if capitalised and not word[0].isupper():
                break
            if not word[0].isupper() and ("'" in word or "’" in word):
                break  # "je m'appelle marie j'ai 40 ans": an elided word is not part of a name
            if words and not word[0].isupper() and text[cue_end].isupper():
                break  # "Marie comptable": a lower-case word after a capitalised name ends it
            words += 1
            end = found.end()
            gap = re.match(r"[ \t]+", text[end:])
            if not gap:
                break
            pos = end + len(gap.group(0))
        if not words:
            return text, cue_end
        return text[:cue_end] + PLACEHOLDERS["name"] + text[end:], cue_end + len(PLACEHOLDERS["name"])

    for pattern, capitalised in ((_NAME_CUES, False), (_TITLE_CUES, True)):
        pos = 0
        while True:
            cue = pattern.search(text, pos)
            if not cue:
                break
            text, pos = replace_after(cue.end(), text, capitalised=capitalised)
            pos = max(pos, cue.end())
    return text
