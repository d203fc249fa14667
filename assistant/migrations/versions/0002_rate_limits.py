"""Rate-limit counters shared by every app process (``web.limit_storage.DatabaseStorage``).

Revision ID: 0002_rate_limits
Revises: 0001_baseline
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_rate_limits"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per rate-limit key: the fixed-window counter, and the row a moving-window hit locks
    # so that two processes counting the same key take turns.
    op.create_table(
        "rate_limit_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_limit_keys_expires_at", "rate_limit_keys", ["expires_at"])
    # One row per request counted in a moving window (epoch seconds).
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_limit_hits_key_at", "rate_limit_hits", ["key", "at"])
    op.create_index("ix_rate_limit_hits_expires_at", "rate_limit_hits", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
    op.drop_table("rate_limit_keys")
