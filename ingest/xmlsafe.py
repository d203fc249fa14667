"""Read untrusted XML safely, with line numbers.

lxml is used (not ``xml.etree``) because every element keeps its ``sourceline``, so a problem is
reported at its line, and ``iterparse`` reads a whole regional catalogue without holding it in
memory. The parser never expands an entity (``resolve_entities=False``), never loads a DTD or
touches the network (``load_dtd=False``, ``no_network=True``) and keeps libxml2's size limits
(``huge_tree=False``). On top of that, a document that declares a DOCTYPE is refused before any
of its content is read: the official exchange formats (LHÉO, France compétences) are described by
XML Schemas and never need one, while entity tricks (« billion laughs », external entities that
read local files) all need one. ``defusedxml.lxml`` is deprecated; its advice is exactly this
parser configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .problems import Problem

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = ["XMLRefused", "iterparse", "localname", "root_name"]


class XMLRefused(Exception):
    """The document cannot be read: unsafe or not well-formed. ``reason`` is French."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line

    def problem(self, file: str) -> Problem:
        return Problem(file=file, line=self.line, reason=self.reason)


def localname(element) -> str:
    """The tag without its namespace (LHÉO has several: 2.0, 2.2, 2.3, EDOF)."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _refuse_declarations(element) -> None:
    info = element.getroottree().docinfo
    dtd = info.internalDTD
    if dtd is None and not info.doctype:
        return
    entities = list(dtd.iterentities()) if dtd is not None else []
    if any(e.system_url for e in entities):
        raise XMLRefused(
            "fichier refusé : il déclare une entité XML externe (qui pourrait lire un fichier ou une "
            "adresse réseau) ; les formats officiels n'en utilisent jamais"
        )
    if entities:
        raise XMLRefused(
            "fichier refusé : il déclare des entités XML (technique d'expansion dite « billion "
            "laughs ») ; les formats officiels n'en utilisent jamais"
        )
    raise XMLRefused(
        "fichier refusé : il contient une déclaration DOCTYPE, que les formats officiels n'utilisent pas"
    )


def iterparse(
    path: Path, *, events: tuple[str, ...] = ("start", "end"), tag: str | None = None
) -> Iterator[tuple[str, _Element]]:
    """``lxml.etree.iterparse`` with the safe configuration; the first event checks for a DOCTYPE.

    ``tag`` (e.g. ``{*}formation``) filters events inside libxml2, which is much faster than
    filtering them in Python on a large catalogue.

    Raises:
        XMLRefused: a DOCTYPE or entity declaration, or XML that is not well-formed.
    """
    from lxml import etree

    wanted = set(events)
    parser_events = tuple(sorted(wanted | {"start"}))
    stream = etree.iterparse(
        str(path),
        events=parser_events,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        tag=tag,
    )
    checked = False
    try:
        for event, element in stream:
            if not checked:
                _refuse_declarations(element)
                checked = True
            if event in wanted:
                yield event, element
    except etree.XMLSyntaxError as exc:
        raise XMLRefused(f"XML mal formé ({exc.msg})", line=exc.lineno or None) from None


def root_name(path: Path) -> str:
    """The local name of the root element, reading no further than its start tag."""
    for _event, element in iterparse(path, events=("start",)):
        return localname(element)
    raise XMLRefused("document XML vide")
