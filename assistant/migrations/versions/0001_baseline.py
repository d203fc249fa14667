"""Baseline: the schema of the store, admin accounts and library as ``create_all`` made it.

A database created before migrations existed (tables present, no ``alembic_version``) is adopted:
only missing tables, columns and indexes are created, nothing is dropped or rewritten, except the
pre-observatory ``feedback`` table, renamed ``feedback_legacy`` with its comments scrubbed (as
``Store`` did before migrations).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _tables(metadata: sa.MetaData) -> list[sa.Table]:
    """The schema of this revision (a copy: later changes to the code must not change it)."""
    t = sa.Table
    c = sa.Column
    return [
        # -- assistant/store.py
        t("index_versions", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("collection", sa.String(128), nullable=False),
          c("embedding_model", sa.String(256), nullable=False),
          c("status", sa.String(16), nullable=False),
          c("created_at", TZ, nullable=False),
          c("activated_at", TZ),
          c("stats", sa.Text, nullable=False, server_default="{}")),
        t("records", metadata,
          c("version", sa.Integer, primary_key=True),
          c("key", sa.String(256), primary_key=True),
          c("kind", sa.String(32), nullable=False),
          c("source_file", sa.String(512), nullable=False),
          c("data", sa.Text, nullable=False)),
        t("chunks", metadata,
          c("version", sa.Integer, primary_key=True),
          c("id", sa.String(300), primary_key=True),
          c("position", sa.Integer, nullable=False),
          c("data", sa.Text, nullable=False)),
        t("conversations", metadata,
          c("id", sa.String(64), primary_key=True),
          c("created_at", TZ, nullable=False),
          c("updated_at", TZ, nullable=False, index=True),
          c("state", sa.Text, nullable=False)),
        t("turns", metadata,
          c("conversation_id", sa.String(64), primary_key=True),
          c("position", sa.Integer, primary_key=True),
          c("created_at", TZ, nullable=False),
          c("question", sa.Text, nullable=False),
          c("answer", sa.Text, nullable=False)),
        t("selections", metadata,
          c("conversation_id", sa.String(64), primary_key=True),
          c("training_id", sa.String(128), primary_key=True),
          c("position", sa.Integer, nullable=False),
          c("created_at", TZ, nullable=False)),
        t("feedback", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("created_at", TZ, nullable=False, index=True),
          c("updated_at", TZ, nullable=False),
          c("conversation_key", sa.String(64), nullable=False),
          c("turn", sa.Integer, nullable=False),
          c("useful", sa.Boolean, nullable=False),
          c("reason", sa.String(32)),
          c("comment", sa.Text, nullable=False, server_default=""),
          sa.UniqueConstraint("conversation_key", "turn", name="uq_feedback_answer")),
        t("observations", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("created_at", TZ, nullable=False, index=True),
          c("conversation_key", sa.String(64), nullable=False),
          c("turn", sa.Integer, nullable=False),
          c("audience", sa.String(16)),
          c("role", sa.String(100)),
          c("role_label", sa.String(200)),
          c("rome_code", sa.String(8)),
          c("sector", sa.String(100)),
          c("department", sa.String(2)),
          c("language", sa.String(2), nullable=False, server_default="fr"),
          c("answered", sa.Boolean, nullable=False),
          c("retrieval_score", sa.Float),
          c("latency_ms", sa.Float, nullable=False, server_default="0"),
          c("unmet", sa.Text, nullable=False, server_default=""),
          c("data", sa.Text, nullable=False, server_default="{}"),
          c("question", sa.Text)),
        # -- web/admin/accounts.py
        t("admin_users", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("username", sa.String(64), nullable=False, unique=True),
          c("password_hash", sa.String(256), nullable=False),
          c("created_at", TZ, nullable=False),
          c("updated_at", TZ, nullable=False)),
        t("api_tokens", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("token_hash", sa.String(64), nullable=False, unique=True),
          c("label", sa.String(128), nullable=False, server_default=""),
          c("created_at", TZ, nullable=False),
          c("last_used_at", TZ)),
        t("admin_sessions", metadata,
          c("id_hash", sa.String(64), primary_key=True),
          c("user_id", sa.Integer, nullable=False),
          c("csrf_token", sa.String(64), nullable=False),
          c("created_at", TZ, nullable=False),
          c("expires_at", TZ, nullable=False, index=True)),
        t("login_attempts", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("key", sa.String(128), nullable=False, index=True),
          c("at", TZ, nullable=False)),
        t("audit_log", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("at", TZ, nullable=False, index=True),
          c("actor", sa.String(128), nullable=False),
          c("action", sa.String(64), nullable=False),
          c("detail", sa.Text, nullable=False, server_default="")),
        # -- web/admin/library.py
        t("documents", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("filename", sa.String(255), nullable=False),
          c("kind", sa.String(16), nullable=False),
          c("sha256", sa.String(64), nullable=False, index=True),
          c("size", sa.Integer, nullable=False),
          c("title", sa.String(300), nullable=False, server_default=""),
          c("uploaded_by", sa.String(128), nullable=False),
          c("uploaded_at", TZ, nullable=False),
          c("status", sa.String(16), nullable=False),
          c("records", sa.Integer, nullable=False, server_default="0"),
          c("passages", sa.Integer, nullable=False, server_default="0"),
          c("version", sa.Integer),
          c("job_id", sa.Integer),
          c("note", sa.Text, nullable=False, server_default="")),
        t("jobs", metadata,
          c("id", sa.Integer, primary_key=True, autoincrement=True),
          c("kind", sa.String(16), nullable=False),
          c("status", sa.String(16), nullable=False),
          c("created_by", sa.String(128), nullable=False),
          c("created_at", TZ, nullable=False),
          c("started_at", TZ),
          c("finished_at", TZ),
          c("document_ids", sa.Text, nullable=False, server_default="[]"),
          c("progress", sa.Text, nullable=False, server_default="{}"),
          c("errors", sa.Text, nullable=False, server_default="[]"),
          c("message", sa.Text, nullable=False, server_default=""),
          c("version", sa.Integer),
          c("worker", sa.String(300), nullable=False, server_default=""),
          c("heartbeat_at", TZ)),
        t("version_documents", metadata,
          c("version", sa.Integer, primary_key=True),
          c("document_ids", sa.Text, nullable=False)),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    if "feedback" in existing and "turn" not in {c["name"] for c in inspector.get_columns("feedback")}:
        _keep_legacy_feedback(bind)
        existing.discard("feedback")
    for table in _tables(sa.MetaData()):
        if table.name not in existing:
            table.create(bind)
            continue
        # Adopting a database made by an older create_all: add what it lacks, keep its rows.
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in columns:
                op.add_column(table.name, column.copy())
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(bind)


def downgrade() -> None:
    for table in reversed(_tables(sa.MetaData())):
        op.drop_table(table.name)


def _keep_legacy_feedback(bind: sa.Connection) -> None:
    """Databases made before issue 13 have a ``feedback`` table of free comments tied to nothing.

    It is renamed ``feedback_legacy`` with its comments scrubbed of personal data, so the new table
    can be created and nothing readable is left in clear.
    """
    from assistant.privacy import scrub

    op.rename_table("feedback", "feedback_legacy")
    legacy = sa.table("feedback_legacy", sa.column("id"), sa.column("comment"), sa.column("conversation_id"))
    for row in bind.execute(sa.select(legacy.c.id, legacy.c.comment)).all():
        bind.execute(
            legacy.update().where(legacy.c.id == row.id)
            .values(comment=scrub(row.comment or ""), conversation_id=None)
        )
