"""people and validation: operators, a second person's decision, the agreement's rule

Revision ID: 0005_people_and_validation
Revises: 0004_pipeline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_people_and_validation"
down_revision = "0004_pipeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False, unique=True),
        sa.Column("title", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("contact", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "validation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("device.id"), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('accept', 'reject')", name="ck_validation_decision"),
    )
    op.create_index("ix_validation_device_id", "validation", ["device_id"])
    with op.batch_alter_table("agreement") as batch:
        batch.add_column(
            sa.Column("validation", sa.String(length=20), nullable=False, server_default="operator")
        )
        batch.create_check_constraint(
            "ck_agreement_validation", "validation IN ('operator', 'second-person')"
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.drop_constraint("ck_agreement_validation", type_="check")
        batch.drop_column("validation")
    op.drop_index("ix_validation_device_id", table_name="validation")
    op.drop_table("validation")
    op.drop_table("operator")
