"""Reading official releases: a folder or a zip of files, CSV text in UTF-8 (or Windows-1252).

Official files are read as published: the reader finds each expected file by a pattern on its
name (the release number changes), decodes it, and gives rows with their line numbers so that
problems name the file and the line.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..problems import Problem

__all__ = ["Bundle", "CsvRows", "decode", "read_csv", "whitespace"]

_SPACES = re.compile(r"\s+")


def whitespace(text: str | None) -> str:
    """Tabs, newlines and runs of spaces as one space, trimmed (official titles hold stray tabs)."""
    return _SPACES.sub(" ", text or "").strip()


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (older France compétences exports)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@dataclass
class Bundle:
    """The files of a release: a folder or a zip archive, found by name pattern."""

    path: Path
    display: str

    def names(self) -> list[str]:
        if self.path.is_dir():
            # Only the folder's own files: a parent folder of a release is not the release.
            return sorted(p.name for p in self.path.iterdir() if p.is_file())
        with zipfile.ZipFile(self.path) as archive:
            return sorted(n for n in archive.namelist() if not n.endswith("/"))

    def find(self, pattern: re.Pattern[str]) -> str | None:
        """The first file whose base name matches ``pattern``."""
        for name in self.names():
            if pattern.search(name.rsplit("/", 1)[-1]):
                return name
        return None

    def read(self, name: str) -> bytes:
        if self.path.is_dir():
            return (self.path / name).read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(name)

    def label(self, name: str) -> str:
        """How a file of the release is named in messages."""
        return f"{self.display}/{name.rsplit('/', 1)[-1]}"


@dataclass
class CsvRows:
    """Rows of an official CSV file, each with its line number (the header is line 1)."""

    file: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


def read_csv(
    text: str, *, file: str, required: tuple[str, ...], delimiter: str | None = None
) -> tuple[CsvRows | None, list[Problem]]:
    """Parse ``text`` as CSV; check the header; report malformed rows by line.

    The delimiter is sniffed from the header line (``,`` or ``;``) unless given.
    """
    first = text.split("\n", 1)[0]
    if delimiter is None:
        delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return None, [Problem(file=file, reason="le fichier est vide")]
    missing = [c for c in required if c not in header]
    if missing:
        return None, [Problem(file=file, line=1, reason=f"colonnes manquantes : {', '.join(missing)}")]
    problems: list[Problem] = []
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for values in reader:
            line = reader.line_num
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                problems.append(Problem(
                    file=file, line=line,
                    reason=f"{len(values)} colonnes au lieu de {len(header)}",
                ))
                continue
            rows.append((line, dict(zip(header, values, strict=True))))
    except csv.Error as exc:
        problems.append(Problem(file=file, line=reader.line_num, reason=f"CSV illisible ({exc})"))
    return CsvRows(file, header, rows), problems

