"""Relational storage (SQLAlchemy Core): index versions, records, chunks, conversations, turns,
feedback, observatory records.

SQLite in the data folder by default, any SQLAlchemy URL (PostgreSQL) when
``ORIENTIA_DATABASE_URL`` is set. Several app processes share it, which is why the active index
version and the conversations live here and not in process memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .errors import DatabaseUnavailable

__all__ = ["DatabaseUnavailable", "Store", "describe_database", "row_dict", "upsert", "wait_for_database"]

metadata = sa.MetaData()

index_versions = sa.Table(
    "index_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("collection", sa.String(128), nullable=False),
    sa.Column("embedding_model", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # building | active | retired | failed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("activated_at", sa.DateTime(timezone=True)),
    sa.Column("stats", sa.Text, nullable=False, default="{}"),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source_file", sa.String(512), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

chunks = sa.Table(
    "chunks",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("id", sa.String(300), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("state", sa.Text, nullable=False),
)

#: The thread of a conversation, one row per question and its answer (question scrubbed).
turns = sa.Table(
    "turns",
    metadata,
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
)

#: The trainings a person kept from a conversation (for the summary page and its export).
selections = sa.Table(
    "selections",
    metadata,
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("training_id", sa.String(128), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

#: One opinion per answer: (hash of the conversation id, turn); a new one replaces the old.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("conversation_key", sa.String(64), nullable=False),
    sa.Column("turn", sa.Integer, nullable=False),
    sa.Column("useful", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(32)),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.UniqueConstraint("conversation_key", "turn", name="uq_feedback_answer"),
)

#: The regional observatory: one row per question, structured, personal data removed.
observations = sa.Table(
    "observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_key", sa.String(64), nullable=False),
    sa.Column("turn", sa.Integer, nullable=False),
    sa.Column("audience", sa.String(16)),
    sa.Column("role", sa.String(100)),
    sa.Column("role_label", sa.String(200)),
    sa.Column("rome_code", sa.String(8)),
    sa.Column("sector", sa.String(100)),
    sa.Column("department", sa.String(2)),
    sa.Column("language", sa.String(2), nullable=False, default="fr"),
    sa.Column("answered", sa.Boolean, nullable=False),
    sa.Column("retrieval_score", sa.Float),
    sa.Column("latency_ms", sa.Float, nullable=False, default=0.0),
    sa.Column("unmet", sa.Text, nullable=False, default=""),
    # JSON lists / objects of codes, never free text
    sa.Column("data", sa.Text, nullable=False, default="{}"),
    # scrubbed question, NULL when ORIENTIA_STORE_QUESTION_TEXT is false
    sa.Column("question", sa.Text),
)


#: Named leases between processes: who holds the right to write the index, until when
#: (created by migration 0004).
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

#: the lists of an observation's ``data`` that the dashboard counts: also stored one code a row
OBSERVATION_CODES = ("topics", "certifications", "trainings", "source_kinds", "relaxed")

observation_codes = sa.Table(
    "observation_codes",
    metadata,
    sa.Column("observation_id", sa.Integer, sa.ForeignKey("observations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("code", sa.String(128), primary_key=True),
    sa.Index("ix_observation_codes_kind_code", "kind", "code"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def process_id() -> str:
    """This process, as other processes (on this machine or another) can recognise it."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def process_is_gone(holder: str) -> bool:
    """Whether ``holder`` (a :func:`process_id`) is a process of this machine that has exited."""
    import os
    import socket

    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Store:
    """Access to the relational database."""

    def __init__(self, url: str, *, connect_seconds: float = 30.0) -> None:
        """Open the database, waiting up to ``connect_seconds`` for it, and upgrade its schema.

        Raises:
            DatabaseUnavailable: the database did not answer in time (French message naming
                the host, never the password).
        """
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": 30} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=not url.startswith("sqlite"))
        if self.engine.dialect.name not in SUPPORTED_DIALECTS:
            raise ValueError(
                f"ORIENTIA_DATABASE_URL : base « {self.engine.dialect.name} » non prise en charge "
                "(SQLite ou PostgreSQL, postgresql+psycopg://…)."
            )
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        wait_for_database(self.engine, seconds=connect_seconds)
        from .migrations import upgrade

        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- leases between processes -----------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take (or extend) lease ``name`` for ``seconds``; False while another live holder has it.

        A lease whose time ran out, or whose holder is a process of this machine that exited (killed
        mid-ingest), is free. Two processes racing for a free lease: one insert or update wins.
        """
        now = _now()
        until = now + timedelta(seconds=seconds)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).mappings().first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(leases.insert().values(name=name, holder=holder, expires_at=until))
                    return True
                except sa.exc.IntegrityError:
                    return False
            free = (
                row["holder"] == holder
                or _aware(row["expires_at"]) <= now
                or process_is_gone(row["holder"])
            )
            if not free:
                return False
            # Only if nobody changed it since it was read (compare-and-set on the old values).
            return conn.execute(
                leases.update()
                .where(
                    leases.c.name == name,
                    leases.c.holder == row["holder"],
                    leases.c.expires_at == row["expires_at"],
                )
                .values(holder=holder, expires_at=until)
            ).rowcount == 1

    def release_lease(self, name: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))

    def lease_holder(self, name: str) -> str | None:
        """The live holder of lease ``name``, or None when it is free."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).mappings().first()
        if row is None or _aware(row["expires_at"]) <= _now() or process_is_gone(row["holder"]):
            return None
        return str(row["holder"])

    # -- index versions --------------------------------------------------------------------

    def active_version(self) -> dict[str, Any] | None:
        """The version that serves, or None before the first ingest."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(index_versions)
                .where(index_versions.c.status == "active")
                .order_by(index_versions.c.id.desc())
                .limit(1)
            ).mappings().first()
        return row_dict(row) if row else None

    def begin_version(self, *, collection_prefix: str, embedding_model: str) -> tuple[int, str]:
        """Reserve a new version being built; returns (version, collection name)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                index_versions.insert().values(
                    collection="pending", embedding_model=embedding_model,
                    status="building", created_at=_now(), stats="{}",
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # a single-row insert always reports its key
            version = int(key[0])
            collection = f"{collection_prefix}-v{version}"
            conn.execute(
                index_versions.update()
                .where(index_versions.c.id == version)
                .values(collection=collection)
            )
        return version, collection

    def write_version_content(
        self, version: int, rows: Iterable[dict[str, Any]], chunk_rows: Iterable[dict[str, Any]]
    ) -> None:
        """Store the records and chunks of a version being built."""
        record_values = [
            {
                "version": version, "key": r["key"], "kind": r["kind"],
                "source_file": r["source_file"], "data": json.dumps(r["data"], default=str),
            }
            for r in rows
        ]
        chunk_values = [
            {"version": version, "id": c["id"], "position": i, "data": json.dumps(c, default=str)}
            for i, c in enumerate(chunk_rows)
        ]
        with self.engine.begin() as conn:
            if record_values:
                conn.execute(records.insert(), record_values)
            if chunk_values:
                conn.execute(chunks.insert(), chunk_values)

    def activate_version(self, version: int, stats: dict[str, Any]) -> list[dict[str, Any]]:
        """Switch serving to ``version`` in one transaction; returns the versions it retired."""
        with self.engine.begin() as conn:
            retired = [
                row_dict(r)
                for r in conn.execute(
                    sa.select(index_versions).where(index_versions.c.status == "active")
                ).mappings()
            ]
            conn.execute(
                index_versions.update()
                .where(index_versions.c.status == "active")
                .values(status="retired")
            )
            conn.execute(
                index_versions.update()
                .where(index_versions.c.id == version)
                .values(status="active", activated_at=_now(), stats=json.dumps(stats))
            )
        return retired

    def fail_version(self, version: int) -> None:
        """Mark a version whose build failed, and drop its rows."""
        with self.engine.begin() as conn:
            conn.execute(records.delete().where(records.c.version == version))
            conn.execute(chunks.delete().where(chunks.c.version == version))
            conn.execute(
                index_versions.update().where(index_versions.c.id == version).values(status="failed")
            )

    def purge_versions(self, keep: int, *, keep_retired: int = 0) -> list[str]:
        """Delete rows of every version but ``keep`` and the ``keep_retired`` newest retired ones.

        The retired versions kept (rows and collections) are what a rollback switches back to.
        Returns the collection names of the versions purged or failed.
        """
        with self.engine.begin() as conn:
            retained = {keep} | {
                r.id
                for r in conn.execute(
                    sa.select(index_versions.c.id)
                    .where(index_versions.c.id != keep, index_versions.c.status == "retired")
                    .order_by(index_versions.c.id.desc())
                    .limit(max(0, keep_retired))
                )
            }
            stale = [
                r.collection
                for r in conn.execute(
                    sa.select(index_versions.c.collection).where(
                        index_versions.c.id.not_in(retained),
                        index_versions.c.status.in_(["retired", "failed"]),
                    )
                )
            ]
            conn.execute(records.delete().where(records.c.version.not_in(retained)))
            conn.execute(chunks.delete().where(chunks.c.version.not_in(retained)))
            conn.execute(
                index_versions.update()
                .where(index_versions.c.id.not_in(retained), index_versions.c.status == "retired")
                .values(status="purged")
            )
        return stale

    def list_versions(self) -> list[dict[str, Any]]:
        """Every version still usable (active and retired ones kept for rollback), newest first."""
        with self.engine.connect() as conn:
            return [
                {**row_dict(r), "stats": json.loads(r.stats or "{}")}
                for r in conn.execute(
                    sa.select(index_versions)
                    .where(index_versions.c.status.in_(["active", "retired"]))
                    .order_by(index_versions.c.id.desc())
                ).mappings()
            ]

    def rollback(self, version: int) -> dict[str, Any]:
        """Make a kept retired ``version`` the active one, in one transaction.

        Raises:
            LookupError: when ``version`` is not a retired version whose rows are kept.
        """
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(index_versions).where(index_versions.c.id == version)
            ).mappings().first()
            if row is None or row["status"] != "retired":
                raise LookupError(f"version {version} cannot be restored")
            previous = conn.execute(
                sa.select(index_versions.c.id).where(index_versions.c.status == "active")
            ).scalar()
            conn.execute(
                index_versions.update()
                .where(index_versions.c.status == "active")
                .values(status="retired")
            )
            conn.execute(
                index_versions.update()
                .where(index_versions.c.id == version)
                .values(status="active", activated_at=_now())
            )
        return {"version": version, "previous": previous}

    def stale_building_versions(self) -> list[dict[str, Any]]:
        """Versions left 'building' by a crashed ingest."""
        with self.engine.connect() as conn:
            return [
                row_dict(r)
                for r in conn.execute(
                    sa.select(index_versions).where(index_versions.c.status == "building")
                ).mappings()
            ]

    def load_records(self, version: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                {"key": r.key, "kind": r.kind, "source_file": r.source_file, "data": json.loads(r.data)}
                for r in conn.execute(
                    sa.select(records).where(records.c.version == version).order_by(records.c.key)
                )
            ]

    def load_chunks(self, version: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                json.loads(r.data)
                for r in conn.execute(
                    sa.select(chunks.c.data)
                    .where(chunks.c.version == version)
                    .order_by(chunks.c.position)
                )
            ]

    # -- conversations ----------------------------------------------------------------------

    def load_conversation(self, conversation_id: str, *, max_age_hours: float) -> dict | None:
        """The stored state of a conversation, or None if unknown or expired."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(conversations).where(conversations.c.id == conversation_id)
            ).first()
        if row is None:
            return None
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
        if (_now() - updated).total_seconds() > max_age_hours * 3600:
            return None
        return json.loads(row.state)

    def save_conversation(self, conversation_id: str, state: dict) -> None:
        now = _now()
        payload = json.dumps(state, default=str)
        with self.engine.begin() as conn:
            conn.execute(upsert(
                conn, conversations,
                {"id": conversation_id, "created_at": now, "updated_at": now, "state": payload},
                keys=["id"], update=["state", "updated_at"],
            ))

    def purge_conversations(self, *, max_age_hours: float) -> int:
        cutoff = datetime.fromtimestamp(_now().timestamp() - max_age_hours * 3600, UTC)
        with self.engine.begin() as conn:
            removed = conn.execute(
                conversations.delete().where(conversations.c.updated_at < cutoff)
            ).rowcount
            # Turns and kept trainings expire with their conversation.
            alive = sa.select(conversations.c.id)
            conn.execute(turns.delete().where(turns.c.conversation_id.not_in(alive)))
            conn.execute(selections.delete().where(selections.c.conversation_id.not_in(alive)))
            return removed

    # -- threads (the turns of a conversation) and kept trainings ----------------------------

    def add_turn(self, conversation_id: str, *, question: str, answer: dict) -> int:
        """Append a turn to a conversation's thread; returns its position (1, 2, ...)."""
        payload = json.dumps(answer, default=str)
        attempts = 5
        while True:
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(
                        sa.select(sa.func.max(turns.c.position)).where(turns.c.conversation_id == conversation_id)
                    ).scalar()
                    position = (last or 0) + 1
                    conn.execute(turns.insert().values(
                        conversation_id=conversation_id, position=position, created_at=_now(),
                        question=question, answer=payload,
                    ))
                return position
            except sa.exc.IntegrityError:
                # Two answers of one conversation finished at once: take the next position.
                attempts -= 1
                if not attempts:
                    raise

    def load_turns(self, conversation_id: str) -> list[dict[str, Any]]:
        """The turns of a conversation, oldest first (answers decoded from JSON)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(turns).where(turns.c.conversation_id == conversation_id).order_by(turns.c.position)
            ).mappings().all()
        return [
            {
                "conversation_id": r["conversation_id"], "position": r["position"],
                "created_at": r["created_at"] if r["created_at"].tzinfo else r["created_at"].replace(tzinfo=UTC),
                "question": r["question"], "answer": json.loads(r["answer"]),
            }
            for r in rows
        ]

    def save_selection(self, conversation_id: str, training_ids: list[str]) -> None:
        """Replace the trainings kept from a conversation (in the order given)."""
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(selections.delete().where(selections.c.conversation_id == conversation_id))
            if training_ids:
                conn.execute(selections.insert(), [
                    {"conversation_id": conversation_id, "training_id": t, "position": i, "created_at": now}
                    for i, t in enumerate(training_ids)
                ])

    def load_selection(self, conversation_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(
                sa.select(selections.c.training_id)
                .where(selections.c.conversation_id == conversation_id)
                .order_by(selections.c.position)
            ).scalars())

    def forget_thread(self, conversation_id: str) -> None:
        """Delete the turns and kept trainings of a conversation (« Nouvelle conversation »)."""
        with self.engine.begin() as conn:
            conn.execute(turns.delete().where(turns.c.conversation_id == conversation_id))
            conn.execute(selections.delete().where(selections.c.conversation_id == conversation_id))

    # -- feedback and observatory (see assistant/observatory.py) -----------------------------

    def save_feedback(
        self, *, conversation_key: str, turn: int, useful: bool, reason: str | None, comment: str
    ) -> bool:
        """Record the opinion on one answer, replacing an earlier one; True when it is new."""
        now = _now()
        values = {
            "created_at": now, "updated_at": now, "conversation_key": conversation_key, "turn": turn,
            "useful": useful, "reason": reason, "comment": comment,
        }
        with self.engine.begin() as conn:
            created = conn.execute(
                upsert(
                    conn, feedback, values, keys=["conversation_key", "turn"],
                    update=["useful", "reason", "comment", "updated_at"],
                ).returning(feedback.c.created_at)
            ).scalar_one()
        # An opinion replaced keeps the time it was first given.
        return _aware(created) == now

    def add_observation(self, row: dict[str, Any]) -> None:
        data = row.get("data", {})
        values = {**row, "data": json.dumps(data, ensure_ascii=False)}
        values.setdefault("created_at", _now())
        with self.engine.begin() as conn:
            key = conn.execute(observations.insert().values(**values)).inserted_primary_key
            assert key is not None  # a single-row insert always reports its key
            codes = [
                {"observation_id": int(key[0]), "kind": kind, "code": code}
                for kind in OBSERVATION_CODES
                for code in sorted({str(c)[:128] for c in data.get(kind) or []})
            ]
            if codes:
                conn.execute(observation_codes.insert(), codes)

    def load_observations(
        self, *, since: datetime | None = None, department: str | None = None, audience: str | None = None
    ) -> list[dict[str, Any]]:
        """Observation rows, oldest first, ``data`` decoded."""
        query = _observations_where(
            sa.select(observations).order_by(observations.c.created_at, observations.c.id),
            since=since, department=department, audience=audience,
        )
        with self.engine.connect() as conn:
            rows = [row_dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["data"] = json.loads(row["data"] or "{}")
            row["created_at"] = _aware(row["created_at"])
        return rows

    def count_observation_codes(
        self, *, since: datetime | None = None, department: str | None = None, audience: str | None = None
    ) -> dict[str, dict[str, int]]:
        """For each list of ``OBSERVATION_CODES``: code -> how many selected records name it."""
        query = _observations_where(
            sa.select(observation_codes.c.kind, observation_codes.c.code, sa.func.count())
            .join(observations, observations.c.id == observation_codes.c.observation_id)
            .group_by(observation_codes.c.kind, observation_codes.c.code),
            since=since, department=department, audience=audience,
        )
        counts: dict[str, dict[str, int]] = {kind: {} for kind in OBSERVATION_CODES}
        with self.engine.connect() as conn:
            for kind, code, count in conn.execute(query):
                counts.setdefault(kind, {})[code] = int(count)
        return counts

    def load_feedback(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        query = sa.select(feedback).order_by(feedback.c.created_at)
        if since is not None:
            query = query.where(feedback.c.created_at >= since)
        with self.engine.connect() as conn:
            rows = [row_dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
        return rows

    def purge_observatory(self, *, before: datetime) -> tuple[int, int]:
        """Delete observations and feedback older than ``before``; returns both counts."""
        with self.engine.begin() as conn:
            # SQLite enforces no foreign key here: the codes go first, explicitly.
            old = sa.select(observations.c.id).where(observations.c.created_at < before)
            conn.execute(observation_codes.delete().where(observation_codes.c.observation_id.in_(old)))
            n_obs = conn.execute(observations.delete().where(observations.c.created_at < before)).rowcount
            n_fb = conn.execute(feedback.delete().where(feedback.c.updated_at < before)).rowcount
        return n_obs, n_fb


def _observations_where(query, *, since: datetime | None, department: str | None, audience: str | None):
    """``query`` restricted to the observations of a period, a département, an audience."""
    if since is not None:
        query = query.where(observations.c.created_at >= since)
    if department:
        query = query.where(observations.c.department == department)
    if audience:
        query = query.where(observations.c.audience == audience)
    return query


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def row_dict(row: Any) -> dict[str, Any]:
    """A result row as a dict, its times in UTC with their time zone on every database.

    PostgreSQL gives ``timestamptz`` back aware; SQLite keeps no zone and gives naive times back.
    """
    return {k: _aware(v) if isinstance(v, datetime) else v for k, v in dict(row).items()}


#: the databases the store's statements are written for (``upsert`` picks one of them)
SUPPORTED_DIALECTS = ("sqlite", "postgresql")


def upsert(
    conn: sa.Connection, table: sa.Table, values: dict[str, Any], *, keys: list[str],
    update: list[str] | dict[str, Any],
):
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` in the connection's dialect.

    One statement, so two processes writing the same row at once never collide on its key.

    Args:
        conn: the connection (its dialect picks the statement).
        table: the table.
        values: the row to insert.
        keys: the columns of the unique constraint that may conflict.
        update: the columns set from the new row on conflict, or ``{column: expression}``.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    statement: postgresql.Insert | sqlite.Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).values(**values)
    elif conn.dialect.name == "sqlite":
        statement = sqlite.insert(table).values(**values)
    else:  # Store refuses other databases at start (SUPPORTED_DIALECTS)
        raise ValueError(f"unsupported database dialect {conn.dialect.name!r}")
    set_ = update if isinstance(update, dict) else {name: statement.excluded[name] for name in update}
    return statement.on_conflict_do_update(index_elements=keys, set_=set_)


def describe_database(url: sa.URL) -> str:
    """Where a database is, for messages: host, port and name, never the password."""
    if url.get_backend_name() == "sqlite":
        return f"fichier SQLite {url.database}"
    host = url.host or "localhost"
    where = f"{host}:{url.port}" if url.port else host
    return f"{where} (base « {url.database or ''} »)"


def _seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def wait_for_database(engine: sa.Engine, *, seconds: float) -> None:
    """Connect, retrying with a growing delay for up to ``seconds`` (a server still starting).

    Raises:
        DatabaseUnavailable: still no connection after ``seconds``.
    """
    import logging
    import time

    log = logging.getLogger(__name__)
    deadline = time.monotonic() + max(0.0, seconds)
    delay = 0.25
    where = describe_database(engine.url)
    while True:
        try:
            with engine.connect():
                return
        except sa.exc.OperationalError as exc:
            left = deadline - time.monotonic()
            if left <= 0 or engine.dialect.name == "sqlite":
                reason = str(exc.orig or exc).strip().splitlines()[0][:300]
                if engine.url.password:
                    reason = reason.replace(str(engine.url.password), "***")
                waited = f" après {_seconds(seconds)} s d'attente" if engine.dialect.name != "sqlite" else ""
                raise DatabaseUnavailable(
                    f"Base de données injoignable : {where}{waited}. Vérifiez que le serveur est "
                    f"démarré et que ORIENTIA_DATABASE_URL est juste (erreur : {reason})."
                ) from None
            pause = min(delay, left)
            log.warning("Base de données injoignable : %s ; nouvel essai dans %s s.", where, _seconds(pause))
            time.sleep(pause)
            delay = min(delay * 2, 5.0)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL stays consistent after a crash and skips an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted rows (purged records, replaced conversation states) are overwritten, not left in
    # free pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
