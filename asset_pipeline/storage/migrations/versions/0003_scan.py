"""batch finding key: per-batch HMAC key for distinct counts of scan findings

Revision ID: 0003_scan
Revises: 0002_evidence (main's head when this branch merged main)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_scan"
down_revision = "0002_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: batches opened before this revision get their key on first scan.
    with op.batch_alter_table("batch") as batch:
        batch.add_column(sa.Column("finding_key", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch") as batch:
        batch.drop_column("finding_key")
