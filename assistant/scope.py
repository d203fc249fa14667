"""Scope rules (``templates/scope.yaml``): what the assistant answers, what it never repeats."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .text import plain

__all__ = ["scope_rules", "is_injection"]


@lru_cache(maxsize=1)
def scope_rules() -> dict:
    import yaml

    path = Path(__file__).parent / "templates" / "scope.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        "dense_strong": float(raw["dense_strong"]),
        "domain_terms": re.compile(r"\b(" + "|".join(raw["domain_terms"]) + r")\b"),
        "injection": re.compile(r"\b(" + "|".join(f"(?:{p})" for p in raw["injection"]) + r")\b"),
    }


def is_injection(text: str) -> bool:
    """Whether a text tries to change the assistant's instructions or extract its secrets."""
    return bool(scope_rules()["injection"].search(plain(text)))
