"""signed heads: each station's events form an RFC 9162 Merkle tree; signed tree heads

Revision ID: 0008_signed_heads
Revises: 0007_fleet

Existing events become their station's leaves in log order, and the tree's stored subtree
hashes are built from them, so logs written before this revision are covered by the first
signed head issued after it (a station signs one at its next commit or `log checkpoint`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_signed_heads"
down_revision = "0007_fleet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint("uq_audit_event_station_leaf", ["station_id", "leaf_index"])
    op.create_table(
        "log_node",
        sa.Column("station_id", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "level", "idx"),
    )
    op.create_table(
        "tree_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(length=100), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_tree_head_station_id", "tree_head", ["station_id"])
    op.create_table(
        "latest_head",
        sa.Column("station_id", sa.String(length=100), primary_key=True),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    from asset_pipeline.evidence.merkle import leaf_hash, levels

    rows = connection.execute(
        sa.text("SELECT id, station_id, hash FROM audit_event ORDER BY seq")
    ).all()
    by_station: dict[str, list[tuple[int, str]]] = {}
    for row_id, station_id, digest in rows:
        by_station.setdefault(station_id, []).append((row_id, digest))
    for station_id, events in by_station.items():
        connection.execute(
            sa.text("UPDATE audit_event SET leaf_index = :i WHERE id = :id"),
            [{"i": i, "id": row_id} for i, (row_id, _) in enumerate(events)],
        )
        leaves = [leaf_hash(_raw(digest)) for _, digest in events]
        connection.execute(
            sa.text("INSERT INTO log_node (station_id, level, idx, hash) VALUES (:s, :l, :i, :h)"),
            [
                {"s": station_id, "l": level, "i": i, "h": h}
                for level, row in enumerate(levels(leaves))
                for i, h in enumerate(row)
            ],
        )


def _raw(digest: str) -> bytes:
    try:
        return bytes.fromhex(digest)
    except ValueError:  # a damaged row: its leaf still goes in, and verify will name it
        return digest.encode("utf-8", "replace")


def downgrade() -> None:
    op.drop_table("latest_head")
    op.drop_index("ix_tree_head_station_id", table_name="tree_head")
    op.drop_table("tree_head")
    op.drop_table("log_node")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("uq_audit_event_station_leaf", type_="unique")
        batch.drop_column("leaf_index")
