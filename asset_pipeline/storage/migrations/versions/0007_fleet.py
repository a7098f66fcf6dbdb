"""fleet: the station key registry and batch access tokens

Revision ID: 0007_fleet
Revises: 0006_intake
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_fleet"
down_revision = "0006_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=79), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=False),
        sa.Column("retired_by", sa.String(length=200), nullable=False),
        sa.UniqueConstraint("fingerprint"),
    )
    op.create_index("ix_station_key_station_id", "station_key", ["station_id"])
    op.create_table(
        "batch_access",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("batch.id"), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("batch_id"),
        sa.UniqueConstraint("token_sha256"),
    )


def downgrade() -> None:
    op.drop_table("batch_access")
    op.drop_index("ix_station_key_station_id", table_name="station_key")
    op.drop_table("station_key")
