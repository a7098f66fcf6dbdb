"""Station storage: ORM models, database opening and migrations."""

from asset_pipeline.station.config import sqlite_url
from asset_pipeline.storage.db import (
    create_station_engine,
    open_database,
    open_existing_database,
    upgrade,
)
from asset_pipeline.storage.models import (
    Agreement,
    Asset,
    AuditEvent,
    Base,
    Batch,
    BatchAccess,
    Certificate,
    CustodyEvent,
    Customer,
    Device,
    Manifest,
    Operator,
    RegisteredKey,
    Sanitization,
    ScanSummary,
    Validation,
    utcnow,
)

__all__ = [
    "Agreement",
    "Asset",
    "AuditEvent",
    "Base",
    "Batch",
    "BatchAccess",
    "Certificate",
    "Customer",
    "CustodyEvent",
    "Device",
    "Manifest",
    "Operator",
    "RegisteredKey",
    "Sanitization",
    "ScanSummary",
    "Validation",
    "create_station_engine",
    "open_database",
    "open_existing_database",
    "sqlite_url",
    "upgrade",
    "utcnow",
]
