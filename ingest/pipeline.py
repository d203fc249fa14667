"""Ingest: files -> validated records -> chunks -> a new index version, switched atomically."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.index import Index, PublishReport

from .chunking import chunk_records
from .loaders import SUPPORTED_SUFFIXES, LoadedRecord, load_file
from .problems import IngestError, Problem
from .validate import cross_check

__all__ = ["CheckResult", "assemble", "check", "collect_files", "ingest"]

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    """Records read and problems found, without writing anything."""

    records: list[LoadedRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    #: what was deliberately left out (not errors: they do not stop an import)
    notices: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.kind] = out.get(r.kind, 0) + 1
        return out


def collect_files(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Every supported file under ``paths`` with the name shown in messages."""
    from .referentials import is_referential_bundle

    out: list[tuple[Path, str]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir() and not is_referential_bundle(path):
            for folder, dirs, files in os.walk(path):
                here = Path(folder)
                # An official release folder (ROME, France compétences) is read as one unit.
                for sub in sorted(dirs):
                    if is_referential_bundle(here / sub):
                        out.append((here / sub, str((here / sub).relative_to(path.parent))))
                dirs[:] = sorted(d for d in dirs if not is_referential_bundle(here / d))
                for name in sorted(files):
                    file = here / name
                    if file.suffix.lower() in SUPPORTED_SUFFIXES and name not in ("README.md", "ATTRIBUTION.md", "release.yaml"):
                        out.append((file, str(file.relative_to(path.parent))))
        else:
            out.append((path, path.name))
    return sorted(out, key=lambda item: item[1])


def check(paths: Iterable[Path]) -> CheckResult:
    """Read and validate every file; report every problem (nothing is written)."""
    result = CheckResult()
    files = collect_files(paths)
    result.files = len(files)
    if not files:
        result.problems.append(Problem(file=", ".join(map(str, paths)), reason="aucun fichier à importer"))
    for file, display in files:
        if not file.exists():
            result.problems.append(Problem(file=display, reason="fichier introuvable"))
            continue
        records, problems = load_file(file, display=display)
        result.records.extend(records)
        result.problems.extend(p for p in problems if not p.notice)
        result.notices.extend(p for p in problems if p.notice)
    result.records, problems = assemble(result.records)
    result.problems.extend(problems)
    return result


def assemble(loaded: list[LoadedRecord]) -> tuple[list[LoadedRecord], list[Problem]]:
    """The records to publish from everything read together, and the problems found.

    Orientia's supplements (notes on ROME sheets and certifications) are applied to the records
    read with them and left out: they are not records of their own. Then the checks across files
    run on the result. Every path that publishes a version (:func:`ingest`,
    :func:`ingest.library.build`) goes through here.
    """
    from .referentials import apply_supplements

    records, problems = apply_supplements(loaded)
    return records, [*problems, *cross_check(records)]


def ingest(
    paths: Iterable[Path],
    index: Index,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> PublishReport:
    """Validate ``paths`` and publish them as the new index version.

    The new version is the content of ``paths``: records absent from them disappear from the
    index. Nothing is written when any file has a problem.

    Raises:
        IngestError: with every problem found; the previous version keeps serving.
    """
    paths = list(paths)
    result = check(paths)
    if result.problems:
        for problem in result.problems:
            log.warning("Ingest rejected: %s", problem)
        raise IngestError(result.problems)
    for notice in result.notices:
        log.info("Ingest note: %s", notice)
    chunks = chunk_records(result.records, model_name=index.embedder.name)
    rows = [
        {"key": r.key, "kind": r.kind, "source_file": r.source_file, "data": r.record.model_dump(mode="json", by_alias=True)}
        for r in result.records
    ]
    log.info("Ingesting %d records as %d chunks from %d files", len(rows), len(chunks), result.files)
    return index.publish(rows, chunks, progress=progress)
