"""Alembic environment: runs on a connection handed in by the app, or on the configured URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from asset_pipeline.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return os.environ.get("ASSET_PIPELINE_DB_URL") or config.get_main_option("sqlalchemy.url") or ""


def run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
