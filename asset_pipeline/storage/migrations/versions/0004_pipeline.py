"""pipeline: which station process is working on a device (crash-safe resume)

Revision ID: 0004_pipeline
Revises: 0003_scan
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_pipeline"
down_revision = "0003_scan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.add_column(
            sa.Column("claimed_by", sa.String(length=120), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_device_state", "device", ["state"])


def downgrade() -> None:
    op.drop_index("ix_device_state", table_name="device")
    with op.batch_alter_table("device") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
