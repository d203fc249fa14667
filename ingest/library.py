"""The index content an admin manages: the bundled knowledge plus every active uploaded document.

:func:`build` reads the bundled files and the uploaded ones, applies editions (a newer upload
that shares record ids with an older file replaces that file whole, so records gone from a new
edition of a catalogue disappear), validates everything together and publishes one new index
version through :meth:`assistant.index.Index.publish`: vectors of unchanged passages are reused,
only new passages are embedded, and the live version serves until the atomic switch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.index import Index, PublishReport

from .chunking import chunk_records
from .loaders import LoadedRecord, load_file
from .pipeline import assemble, collect_files
from .problems import IngestError, Problem

__all__ = ["Upload", "BuildProgress", "BuildResult", "build", "read_upload"]

log = logging.getLogger(__name__)


@dataclass
class Upload:
    """An uploaded file that takes part in a build."""

    id: int
    path: Path
    filename: str
    #: part of the job being run (a clash with another new file is an error, not an edition)
    new: bool = False


@dataclass
class BuildProgress:
    """Where a build is: read by the job runner to show a progress bar."""

    stage: str = "lecture"
    files_read: int = 0
    files_total: int = 0
    records: int = 0
    #: passages of the new version, and among them those being embedded (the others are reused)
    chunks: int = 0
    passages_done: int = 0
    passages_total: int = 0
    embed_started: float | None = None

    def seconds_left(self) -> float | None:
        if not self.embed_started or not self.passages_done or not self.passages_total:
            return None
        elapsed = time.perf_counter() - self.embed_started
        return elapsed / self.passages_done * (self.passages_total - self.passages_done)


@dataclass
class BuildResult:
    """What a build published, per uploaded document."""

    report: PublishReport
    #: upload id -> (records, passages, title)
    documents: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    #: uploads replaced by a newer edition: upload id -> the id of the one replacing it
    replaced: dict[int, int] = field(default_factory=dict)
    #: bundled files replaced by an upload: display name -> upload id
    bundled_replaced: dict[str, int] = field(default_factory=dict)
    #: what the importers reported without refusing anything (French)
    notices: list[str] = field(default_factory=list)


def read_upload(upload: Upload) -> tuple[list[LoadedRecord], list[Problem]]:
    """Parse one uploaded file; its records cite the file they came from."""
    records, problems = load_file(upload.path, display=upload.filename)
    for item in records:
        sources = getattr(item.record, "sources", None)
        if isinstance(sources, list) and upload.filename not in sources and not getattr(item.record, "illustrative", False):
            sources.append(upload.filename)
    return records, problems


def build(
    bundled: Path,
    uploads: Sequence[Upload],
    index: Index,
    *,
    progress: BuildProgress | None = None,
    on_progress: Callable[[BuildProgress], None] | None = None,
) -> BuildResult:
    """Validate the bundled knowledge and ``uploads`` (oldest first), then publish them.

    Raises:
        IngestError: with every problem found (nothing is written; the live version serves).
    """
    state = progress or BuildProgress()
    notify = on_progress or (lambda _state: None)
    bundled_files = collect_files([bundled])
    state.files_total = len(bundled_files) + len(uploads)
    notify(state)

    problems: list[Problem] = []
    sources: list[tuple[str, int | None, list[LoadedRecord]]] = []  # (name, upload id, records)
    notices: list[Problem] = []

    def keep(found: list[Problem]) -> None:
        # Notices (e.g. offers outside the region skipped by an importer) never block an import.
        problems.extend(p for p in found if not p.notice)
        notices.extend(p for p in found if p.notice)

    for file, display in bundled_files:
        records, found = load_file(file, display=display)
        keep(found)
        sources.append((display, None, records))
        state.files_read += 1
        state.records += len(records)
        notify(state)
    new_ids = {u.id for u in uploads if u.new}
    for upload in uploads:
        records, found = read_upload(upload)
        keep(found)
        if not records and not found:
            problems.append(Problem(file=upload.filename, reason="aucun enregistrement trouvé dans ce fichier"))
        sources.append((upload.filename, upload.id, records))
        state.files_read += 1
        state.records += len(records)
        notify(state)
    if problems:
        raise IngestError(problems)

    # Editions: walking from the newest, a source whose records share an id with a newer kept
    # upload is replaced by it whole (two new files of one job clashing is reported instead).
    result_replaced: dict[int, int] = {}
    bundled_replaced: dict[str, int] = {}
    owner: dict[str, int | None] = {}
    kept: list[tuple[str, int | None, list[LoadedRecord]]] = []
    for name, upload_id, records in reversed(sources):
        keys = {r.key for r in records if r.kind != "place"}
        clash = {owner[k] for k in keys if k in owner}
        clash.discard(None)
        newer = next(iter(sorted(c for c in clash if c is not None)), None)
        if newer is not None and not (upload_id in new_ids and newer in new_ids):
            if upload_id is None:
                bundled_replaced[name] = newer
            else:
                result_replaced[upload_id] = newer
            continue
        for key in keys:
            owner.setdefault(key, upload_id)
        kept.append((name, upload_id, records))
    kept.reverse()

    # Supplements are applied to the records read with them and leave the list.
    loaded, problems = assemble([r for _, _, records in kept for r in records])
    if problems:
        raise IngestError(problems)

    state.stage = "passages"
    chunks = chunk_records(loaded, model_name=index.embedder.name)
    by_record = {r.key: upload_id for _, upload_id, records in kept for r in records}
    for chunk in chunks:
        if by_record.get(chunk.record_key) is not None:
            # Admin-uploaded knowledge: the assistant answers from it even outside its usual scope.
            chunk.metadata["uploaded"] = True
    rows = [
        {"key": r.key, "kind": r.kind, "source_file": r.source_file, "data": r.record.model_dump(mode="json", by_alias=True)}
        for r in loaded
    ]

    def embedded(done: int, total: int) -> None:
        if state.embed_started is None:
            state.embed_started = time.perf_counter()
        state.passages_done, state.passages_total = done, total
        notify(state)

    state.embed_started = time.perf_counter()
    state.chunks = len(chunks)
    notify(state)
    log.info("Building a version: %d records, %d passages, %d uploaded files", len(rows), len(chunks), len(uploads))
    report = index.publish(rows, chunks, progress=embedded)
    state.stage = "terminé"
    state.passages_done = state.passages_total = report.embedded
    notify(state)

    result = BuildResult(report=report, replaced=result_replaced, bundled_replaced=bundled_replaced,
                         notices=[str(n) for n in notices])
    passages: dict[int, int] = {}
    for chunk in chunks:
        upload_id = by_record.get(chunk.record_key)
        if upload_id is not None:
            passages[upload_id] = passages.get(upload_id, 0) + 1
    for _, upload_id, records in kept:
        if upload_id is None:
            continue
        title = ""
        if len(records) == 1:
            title = getattr(records[0].record, "title", "") or ""
        result.documents[upload_id] = (len(records), passages.get(upload_id, 0), title)
    return result
