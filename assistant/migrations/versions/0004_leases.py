"""Named leases between processes (who may write the index, until when): ``store.leases``.

A database made by ``create_all`` after leases existed already has the table: it is kept.

Revision ID: 0004_leases
Revises: 0003_observation_codes
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_leases"
down_revision = "0003_observation_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "leases" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
