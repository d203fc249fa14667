"""The codes of each observatory record (topics, certifications, trainings, source kinds,
relaxed constraints) as rows, so that the dashboard counts them in SQL instead of decoding the
JSON of every record. Existing records are copied over.

Revision ID: 0003_observation_codes
Revises: 0002_rate_limits
Create Date: 2026-12-06
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003_observation_codes"
down_revision = "0002_rate_limits"
branch_labels = None
depends_on = None

#: the lists of ``observations.data`` that become rows (a copy of ``store.OBSERVATION_CODES``)
KINDS = ("topics", "certifications", "trainings", "source_kinds", "relaxed")


def upgrade() -> None:
    codes = op.create_table(
        "observation_codes",
        sa.Column("observation_id", sa.Integer, sa.ForeignKey("observations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("code", sa.String(128), primary_key=True),
    )
    op.create_index("ix_observation_codes_kind_code", "observation_codes", ["kind", "code"])
    bind = op.get_bind()
    observations = sa.table("observations", sa.column("id"), sa.column("data"))
    rows = []
    for record in bind.execute(sa.select(observations.c.id, observations.c.data)):
        data = json.loads(record.data or "{}")
        for kind in KINDS:
            for code in sorted({str(c)[:128] for c in data.get(kind) or []}):
                rows.append({"observation_id": record.id, "kind": kind, "code": code})
    if rows:
        op.bulk_insert(codes, rows)


def downgrade() -> None:
    op.drop_table("observation_codes")
