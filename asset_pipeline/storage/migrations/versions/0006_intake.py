"""intake: customer asset lists, assets, chain of custody; devices linked to assets

Revision ID: 0006_intake
Revises: 0005_people_and_validation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_intake"
down_revision = "0005_people_and_validation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manifest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_format", sa.String(length=20), nullable=False),
        sa.Column("encoding", sa.String(length=30), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_manifest_batch_id", "manifest", ["batch_id"])
    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=220), nullable=False),
        sa.Column("asset_tag", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("make", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=False),
        sa.Column("customer_fields", sa.JSON(), nullable=False),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column("manifest_row", sa.Integer(), nullable=True),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("condition", sa.String(length=30), nullable=False),
        sa.Column("destination", sa.String(length=20), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "key", name="uq_asset_batch_key"),
    )
    op.create_index("ix_asset_batch_id", "asset", ["batch_id"])
    op.create_table(
        "custody_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"]),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_custody_event_asset_id", "custody_event", ["asset_id"])
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("asset_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_device_asset_id_asset", "asset", ["asset_id"], ["id"])
        batch.create_index("ix_device_asset_id", ["asset_id"])
    with op.batch_alter_table("batch") as batch:
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("batch") as batch:
        batch.drop_column("close_reason")
    with op.batch_alter_table("device") as batch:
        batch.drop_index("ix_device_asset_id")
        batch.drop_constraint("fk_device_asset_id_asset", type_="foreignkey")
        batch.drop_column("asset_id")
    op.drop_index("ix_custody_event_asset_id", table_name="custody_event")
    op.drop_table("custody_event")
    op.drop_index("ix_asset_batch_id", table_name="asset")
    op.drop_table("asset")
    op.drop_index("ix_manifest_batch_id", table_name="manifest")
    op.drop_table("manifest")
