"""Uploaded documents and ingest jobs: their tables, the files on disk and the job runner.

One job runs at a time, in a thread of the serving process (an embedded Chroma is not shared
between processes); the next ones wait as ``queued`` in the database. A job rebuilds the index
from the bundled knowledge and every active document (``ingest.library.build``): the live
version keeps serving until the new one is complete, verified and switched to in one transaction.
A process killed during a job leaves the job ``running`` and the version ``building``: both are
cleaned at the next start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from assistant import Assistant
from assistant.store import row_dict

from .accounts import Accounts, _pk

__all__ = ["Library", "JobRunner", "StoredFile"]

log = logging.getLogger(__name__)

metadata = sa.MetaData()

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False, default=""),
    sa.Column("uploaded_by", sa.String(128), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    # pending (its job has not run) | active | deleted | replaced | rejected | withdrawn (rollback)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("records", sa.Integer, nullable=False, default=0),
    sa.Column("passages", sa.Integer, nullable=False, default=0),
    sa.Column("version", sa.Integer),
    sa.Column("job_id", sa.Integer),
    sa.Column("note", sa.Text, nullable=False, default=""),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # upload | delete | reindex
    sa.Column("status", sa.String(16), nullable=False),  # queued | running | done | failed
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("document_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("progress", sa.Text, nullable=False, default="{}"),
    sa.Column("errors", sa.Text, nullable=False, default="[]"),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("version", sa.Integer),
    #: ``host:pid`` of the process running the job, and when it last reported progress
    sa.Column("worker", sa.String(300), nullable=False, default=""),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
)

#: a running job whose process is on another machine and silent this long is taken as dead
STALE_AFTER_SECONDS = 15 * 60

#: which uploaded documents each index version holds (applied again on rollback)
version_documents = sa.Table(
    "version_documents",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("document_ids", sa.Text, nullable=False),
)

ACTIVE_JOB = ("queued", "running")


def _now() -> datetime:
    return datetime.now(UTC)


class StoredFile:
    """An accepted upload, already on disk under ``uploads/<sha256>/<name>``."""

    def __init__(self, *, filename: str, kind: str, sha256: str, size: int, path: Path) -> None:
        self.filename, self.kind, self.sha256, self.size, self.path = filename, kind, sha256, size, path


class Library:
    """The documents and jobs tables, and the uploads folder."""

    def __init__(self, engine: sa.Engine, uploads: Path) -> None:
        self.engine = engine
        self.uploads = uploads
        from assistant.migrations import upgrade

        upgrade(engine)  # nothing to do once the store opened it (the schema is at head)

    # -- files -----------------------------------------------------------------------------------

    def store_file(self, temp: Path, *, filename: str, kind: str, suffix: str) -> StoredFile:
        """Move an accepted temporary file to ``uploads/<sha256>/<name>``."""
        digest = hashlib.sha256()
        with open(temp, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
        name = _safe_name(filename, suffix)
        folder = self.uploads / sha
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if not target.exists():
            shutil.move(str(temp), target)
        return StoredFile(filename=name, kind=kind, sha256=sha, size=target.stat().st_size, path=target)

    def path_of(self, row: dict[str, Any]) -> Path:
        return self.uploads / row["sha256"] / row["filename"]

    # -- documents -------------------------------------------------------------------------------

    def active_with_sha(self, sha256: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(documents).where(documents.c.sha256 == sha256, documents.c.status.in_(["active", "pending"]))
            ).mappings().first()
        return row_dict(row) if row else None

    def add_documents(self, files: list[StoredFile], *, actor: str) -> tuple[int, list[int], list[str]]:
        """Queue an upload job for ``files``; returns (job id, new document ids, notes).

        A file identical (same SHA-256) to an active or pending document changes nothing.
        """
        notes: list[str] = []
        now = _now()
        actor = actor[:128]  # a token's actor carries its label: PostgreSQL enforces the length
        with self.engine.begin() as conn:
            job_id = _pk(conn.execute(jobs.insert().values(
                kind="upload", status="queued", created_by=actor, created_at=now,
                document_ids="[]", progress=json.dumps({"stage": "en attente"}), errors="[]", message="",
            )))
            ids: list[int] = []
            for f in files:
                same = conn.execute(
                    sa.select(documents.c.id, documents.c.filename)
                    .where(documents.c.sha256 == f.sha256, documents.c.status.in_(["active", "pending"]))
                ).first()
                if same is not None:
                    notes.append(f"{f.filename} : fichier identique à « {same.filename} », déjà importé ; rien à changer")
                    continue
                ids.append(_pk(conn.execute(documents.insert().values(
                    filename=f.filename, kind=f.kind, sha256=f.sha256, size=f.size, title="",
                    uploaded_by=actor, uploaded_at=now, status="pending", records=0, passages=0,
                    job_id=job_id, note="",
                ))))
            values: dict[str, Any] = {"document_ids": json.dumps(ids)}
            if not ids:
                values.update(status="done", finished_at=now, message=" ; ".join(notes),
                              progress=json.dumps({"stage": "terminé", "percent": 100}))
            elif notes:
                values["message"] = " ; ".join(notes)
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))
        return job_id, ids, notes

    def document(self, doc_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(documents).where(documents.c.id == doc_id)).mappings().first()
        return row_dict(row) if row else None

    def documents(self, *, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        query = sa.select(documents).order_by(documents.c.id.desc())
        if statuses:
            query = query.where(documents.c.status.in_(statuses))
        with self.engine.connect() as conn:
            return [row_dict(r) for r in conn.execute(query).mappings()]

    def queue_job(self, kind: str, *, actor: str, document_ids: list[int] | None = None) -> int:
        with self.engine.begin() as conn:
            return _pk(conn.execute(jobs.insert().values(
                kind=kind, status="queued", created_by=actor[:128], created_at=_now(),
                document_ids=json.dumps(document_ids or []), progress=json.dumps({"stage": "en attente"}),
                errors="[]", message="",
            )))

    # -- jobs --------------------------------------------------------------------------------------

    def job(self, job_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return _job(row) if row else None

    def recent_jobs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)).mappings()]

    def busy(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(jobs.c.id).where(jobs.c.status.in_(ACTIVE_JOB)).limit(1)).first() is not None

    def next_queued(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(jobs).where(jobs.c.status == "queued").order_by(jobs.c.id).limit(1)
            ).mappings().first()
        return _job(row) if row else None

    def claim(self, job_id: int) -> bool:
        """Mark a queued job running; False when another runner took it first."""
        with self.engine.begin() as conn:
            return conn.execute(
                jobs.update().where(jobs.c.id == job_id, jobs.c.status == "queued")
                .values(status="running", started_at=_now(), heartbeat_at=_now(), worker=_worker(),
                        progress=json.dumps({"stage": "lecture des fichiers"}))
            ).rowcount == 1

    def update_job(self, job_id: int, **values: Any) -> None:
        for key in ("progress", "errors"):
            if key in values and not isinstance(values[key], str):
                values[key] = json.dumps(values[key], ensure_ascii=False)
        values.setdefault("heartbeat_at", _now())
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))

    def running_elsewhere(self) -> bool:
        """Whether a job is running in another live process (then its half-built version is not ours to clean)."""
        with self.engine.connect() as conn:
            return any(
                not _is_dead(dict(r._mapping)) and r.worker != _worker()
                for r in conn.execute(sa.select(jobs.c.worker, jobs.c.heartbeat_at).where(jobs.c.status == "running"))
            )

    def fail_interrupted(self) -> int:
        """Jobs left running by a stopped process: failed, their new documents rejected.

        A job's process is known dead when it ran on this machine and its pid is gone, or when it
        ran elsewhere and has not reported progress for ``STALE_AFTER_SECONDS``.
        """
        with self.engine.begin() as conn:
            running = [row_dict(r) for r in conn.execute(sa.select(jobs).where(jobs.c.status == "running")).mappings()]
            stale = [r for r in running if _is_dead(r)]
            for row in stale:
                conn.execute(jobs.update().where(jobs.c.id == row["id"]).values(
                    status="failed", finished_at=_now(),
                    errors=json.dumps(["Import interrompu (arrêt du serveur) : la version précédente de l'index est restée en service."], ensure_ascii=False),
                ))
                if row["kind"] == "upload":
                    # The job's new documents carry its id in a column: no JSON to decode in SQL.
                    conn.execute(documents.update().where(
                        documents.c.job_id == row["id"], documents.c.status == "pending"
                    ).values(status="rejected", note="import interrompu"))
        return len(stale)

    # -- versions ----------------------------------------------------------------------------------

    def record_version(self, version: int, document_ids: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(version_documents.delete().where(version_documents.c.version == version))
            conn.execute(version_documents.insert().values(version=version, document_ids=json.dumps(sorted(document_ids))))

    def version_documents(self) -> dict[int, list[int]]:
        with self.engine.connect() as conn:
            return {r.version: json.loads(r.document_ids) for r in conn.execute(sa.select(version_documents))}

    def apply_version(self, version: int) -> None:
        """After a rollback: the documents of ``version`` are the active ones again."""
        ids = set(self.version_documents().get(version, []))
        with self.engine.begin() as conn:
            conn.execute(documents.update().where(documents.c.status == "active", documents.c.id.not_in(ids))
                         .values(status="withdrawn", note=f"retiré par le retour à la version {version}"))
            if ids:
                conn.execute(documents.update().where(documents.c.id.in_(ids)).values(status="active", note=""))


def _worker() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _is_dead(row: dict[str, Any]) -> bool:
    import os
    import socket

    host, _, pid = (row.get("worker") or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    # Silent for too long (another machine, or a pid reused by another process).
    beat = row.get("heartbeat_at")
    if beat is None:
        return True
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return (_now() - beat).total_seconds() > STALE_AFTER_SECONDS


def _job(row) -> dict[str, Any]:
    out = row_dict(row)
    out["progress"] = json.loads(out["progress"] or "{}")
    out["errors"] = json.loads(out["errors"] or "[]")
    out["document_ids"] = json.loads(out["document_ids"] or "[]")
    return out


def _safe_name(filename: str, suffix: str) -> str:
    """A file name safe on disk: no folders, no control characters, the parsed suffix."""
    import re

    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ()àâäçéèêëîïôöùûüÿœÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒ]+", "_", base).strip(" .") or "document"
    stem, own = Path(base).stem[:120] or "document", Path(base).suffix.lower()
    return stem + (own if own == suffix else suffix)


class JobRunner:
    """Runs queued jobs one at a time in a background thread of the serving process."""

    def __init__(self, assistant: Assistant, library: Library, accounts: Accounts, *, bootstrap=None) -> None:
        self.assistant = assistant
        self.library = library
        self.accounts = accounts
        self.bootstrap = bootstrap
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: jobs whose failure could not be written yet (a full disk): written once it can be
        self._unfinished: dict[int, dict[str, Any]] = {}

    def _finish_unfinished(self) -> None:
        for job_id, job in list(self._unfinished.items()):
            try:
                self._finish_failed(job, ["Import interrompu par une erreur d'enregistrement (disque plein ?) : la version précédente de l'index reste en service."], set(job["document_ids"]) if job["kind"] == "upload" else set())
            except Exception:  # noqa: BLE001 - still failing: next turn of the loop
                continue
            del self._unfinished[job_id]

    def start(self) -> None:
        interrupted = self.library.fail_interrupted()
        if interrupted:
            log.warning("%d ingest job(s) were interrupted by a stop; the previous index version serves", interrupted)
        self._thread = threading.Thread(target=self._loop, name="orientia-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        if self.bootstrap is not None:
            self.bootstrap.wait()
        try:
            if not self.library.running_elsewhere():
                self.assistant.index.cleanup_crashed()
        except Exception:  # noqa: BLE001 - a cleanup failure must not stop the jobs
            log.exception("Cleanup of half-built index versions failed")
        while not self._stop.is_set():
            try:
                job = self.library.next_queued()
            except Exception:  # noqa: BLE001 - the database is unreachable: try again shortly
                log.warning("Could not read the job queue", exc_info=True)
                self._stop.wait(2.0)
                continue
            if job is None:
                self._wake.wait(timeout=2.0)
                self._wake.clear()
                self._finish_unfinished()
                try:
                    self.library.fail_interrupted()
                except Exception:  # noqa: BLE001 - the database is down or full: next turn
                    log.warning("Could not check for interrupted jobs", exc_info=True)
                continue
            try:
                self.run(job)
            except Exception:  # noqa: BLE001 - e.g. the disk filled up even for the job's failure
                log.exception("Job %s could not be finished; marking it failed later", job["id"])
                self._unfinished[job["id"]] = job
            self._finish_unfinished()

    def run(self, job: dict[str, Any]) -> None:
        """Run one job to its end (done or failed)."""
        from assistant import OrientiaError
        from ingest import IngestError
        from ingest.library import BuildProgress, Upload, build

        library, job_id = self.library, job["id"]
        if not library.claim(job_id):
            return
        log.info("Job %s (%s) started", job_id, job["kind"])
        actives = library.documents(statuses=("active",))
        found = [library.document(i) for i in job["document_ids"]] if job["kind"] == "upload" else []
        new_rows = [r for r in found if r is not None and r["status"] == "pending"]
        removed = set(job["document_ids"]) if job["kind"] == "delete" else set()
        rows = sorted([r for r in actives if r["id"] not in removed] + new_rows, key=lambda r: r["id"])
        new_ids = {r["id"] for r in new_rows}
        uploads = [Upload(id=r["id"], path=library.path_of(r), filename=r["filename"], new=r["id"] in new_ids) for r in rows]

        last_write = [0.0]

        def on_progress(state: BuildProgress, *, force: bool = False) -> None:
            now = time.monotonic()
            if not force and now - last_write[0] < 0.5:
                return
            last_write[0] = now
            library.update_job(job_id, progress=_progress(state))

        state = BuildProgress()
        try:
            result = build(self.assistant.settings.bundled_knowledge, uploads, self.assistant.index,
                           progress=state, on_progress=on_progress)
        except IngestError as exc:
            errors = [str(p) for p in exc.problems]
            self._finish_failed(job, errors, new_ids)
            return
        except OrientiaError as exc:  # a full disk, another process importing: said in French
            log.warning("Job %s failed: %s", job_id, exc)
            self._finish_failed(job, [exc.message], new_ids)
            return
        except Exception as exc:  # noqa: BLE001 - reported on the job, the live version serves
            log.exception("Job %s failed", job_id)
            self._finish_failed(job, [f"Erreur interne pendant l'import ({type(exc).__name__}) : la version précédente de l'index reste en service."], new_ids)
            return
        version = result.report.version
        with library.engine.begin() as conn:
            for doc_id, (n_records, n_passages, title) in result.documents.items():
                values: dict[str, Any] = {"records": n_records, "passages": n_passages}
                if doc_id in new_ids:
                    values.update(status="active", version=version)
                if title:
                    values["title"] = title[:300]
                conn.execute(documents.update().where(documents.c.id == doc_id).values(**values))
            for old, new in result.replaced.items():
                conn.execute(documents.update().where(documents.c.id == old).values(
                    status="replaced", note=f"remplacé par le document n° {new}"))
            if removed:
                conn.execute(documents.update().where(documents.c.id.in_(removed)).values(status="deleted"))
        library.record_version(version, sorted(result.documents))
        notes = []
        if result.bundled_replaced:
            notes.append("remplace les fichiers embarqués : " + ", ".join(sorted(result.bundled_replaced)))
        if result.replaced:
            notes.append(f"{len(result.replaced)} document(s) remplacé(s) par une nouvelle édition")
        notes.extend(n.removeprefix("(information) ") for n in result.notices[:5])
        report = result.report
        summary = (
            f"Version {version} en service : {report.records} enregistrements, {report.chunks} passages "
            f"({report.embedded} calculés, {report.reused} réutilisés) en {report.seconds:.0f} s."
        )
        message = " ".join(filter(None, [job.get("message") or "", summary, " ; ".join(notes)]))
        progress = _progress(state)
        progress.update(stage="terminé", percent=100, seconds_left=0)
        library.update_job(job_id, status="done", finished_at=_now(), version=version, progress=progress, message=message.strip())
        self.accounts.audit(job["created_by"], _ACTIONS.get(job["kind"], job["kind"]), f"tâche n° {job_id} : {summary}")
        log.info("Job %s done: index version %s", job_id, version)

    def _finish_failed(self, job: dict[str, Any], errors: list[str], new_ids: set[int]) -> None:
        library = self.library
        with library.engine.begin() as conn:
            if new_ids:
                conn.execute(documents.update().where(documents.c.id.in_(new_ids)).values(status="rejected", note="refusé à l'import"))
        library.update_job(job["id"], status="failed", finished_at=_now(), errors=errors[:200],
                           progress={"stage": "échec"})
        self.accounts.audit(job["created_by"], _ACTIONS.get(job["kind"], job["kind"]) + " refusé",
                            f"tâche n° {job['id']} : {len(errors)} problème(s)")
        log.info("Job %s failed with %d problem(s); the live index version keeps serving", job["id"], len(errors))


_ACTIONS = {"upload": "import", "delete": "suppression", "reindex": "réindexation"}


def _progress(state) -> dict[str, Any]:
    left = state.seconds_left()
    if state.stage == "lecture":
        percent = 10 * state.files_read / max(1, state.files_total)
        stage = "lecture des fichiers"
    elif state.stage == "passages":
        share = state.passages_done / state.passages_total if state.passages_total else 0.0
        percent = 10 + 88 * share
        stage = "calcul des passages"
    else:
        percent, stage = 100, state.stage
    return {
        "stage": stage,
        "files_read": state.files_read,
        "files_total": state.files_total,
        "records": state.records,
        "passages": state.chunks,
        "passages_done": state.passages_done,
        "passages_total": state.passages_total,
        "seconds_left": round(left) if left is not None else None,
        "percent": round(percent),
    }
