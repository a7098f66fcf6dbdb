"""evidence: indexes for batch exports, certificate lookups and retention

Revision ID: 0002_evidence
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002_evidence"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_event_batch_id", "audit_event", ["batch_id"])
    op.create_index("ix_audit_event_device_id", "audit_event", ["device_id"])
    op.create_index("ix_certificate_batch_id", "certificate", ["batch_id"])
    op.create_index("ix_certificate_device_id", "certificate", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_certificate_device_id", table_name="certificate")
    op.drop_index("ix_certificate_batch_id", table_name="certificate")
    op.drop_index("ix_audit_event_device_id", table_name="audit_event")
    op.drop_index("ix_audit_event_batch_id", table_name="audit_event")
