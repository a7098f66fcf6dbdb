"""The station's tables, as SQLAlchemy 2.0 typed ORM classes.

Schema changes go through Alembic migrations in `storage/migrations`; these classes must match
the head revision (a test compares them).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Aware UTC now; every timestamp the station stores is UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone, so naive UTC goes in and UTC is attached coming out; PostgreSQL's
    timestamptz keeps the zone itself.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; naive values are refused so local time never sneaks in."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the station stores UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for the station's tables."""

    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class Customer(Base):
    """A controller that sends devices back (company or public body)."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    org_number: Mapped[str] = mapped_column(String(20), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreements: Mapped[list[Agreement]] = relationship(back_populates="customer")


class Agreement(Base):
    """The data processing agreement (DPA) under which a customer's devices are handled."""

    __tablename__ = "agreement"
    __table_args__ = (
        CheckConstraint("required_level IN ('clear', 'purge')", name="ck_agreement_level"),
        CheckConstraint("retention_years >= 0", name="ck_agreement_retention"),
        CheckConstraint(
            "validation IN ('operator', 'second-person')", name="ck_agreement_validation"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    controller_name: Mapped[str] = mapped_column(String(200))
    controller_org_number: Mapped[str] = mapped_column(String(20), default="")
    required_level: Mapped[str] = mapped_column(String(10))
    discovery_instructed: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_years: Mapped[int] = mapped_column(Integer, default=7)
    # Who accepts a sanitized device (NIST SP 800-88 Rev. 2 validation): the operator who
    # ran it, or a second, different operator (`device validate`) before any certificate.
    validation: Mapped[str] = mapped_column(String(20), default="operator")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="agreements")
    batches: Mapped[list[Batch]] = relationship(back_populates="agreement")


class Batch(Base):
    """One customer order of devices, processed under one agreement."""

    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"))
    order_number: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Why it was closed with work outstanding (`batch close --force --reason`); also in the log.
    close_reason: Mapped[str] = mapped_column(Text, default="")
    # HMAC key for findings of this batch's devices (distinct counts per batch); never shown.
    finding_key: Mapped[bytes | None] = mapped_column(
        LargeBinary(32), default=lambda: os.urandom(32)
    )

    agreement: Mapped[Agreement] = relationship(back_populates="batches")
    devices: Mapped[list[Device]] = relationship(back_populates="batch")

    @property
    def is_open(self) -> bool:
        """A batch takes devices until it is closed."""
        return self.closed_at is None


class Device(Base):
    """One drive as the station identified it, and where it is in the pipeline."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), default=None)
    path: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default="")  # block | image
    transport: Mapped[str] = mapped_column(String(20), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    serial: Mapped[str] = mapped_column(String(200), default="")
    firmware: Mapped[str] = mapped_column(String(100), default="")
    wwn: Mapped[str] = mapped_column(String(100), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    logical_sector_size: Mapped[int] = mapped_column(Integer, default=512)
    physical_sector_size: Mapped[int] = mapped_column(Integer, default=512)
    rotational: Mapped[bool | None] = mapped_column(Boolean, default=None)
    removable: Mapped[bool] = mapped_column(Boolean, default=False)
    media_type: Mapped[str] = mapped_column(String(20), default="unknown")
    asset_tag: Mapped[str] = mapped_column(String(100), default="")
    # The customer asset the drive came from (intake); its tag is copied into `asset_tag`.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"), default=None, index=True)
    source_machine: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(30), default="detected", index=True)
    state_reason: Mapped[str] = mapped_column(Text, default="")
    identity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # host:pid of the station process working on the device; empty when at rest.
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    batch: Mapped[Batch | None] = relationship(back_populates="devices")
    asset: Mapped[Asset | None] = relationship(back_populates="devices")


class AuditEvent(Base):
    """One entry of the append-only processing log (hash chain: see the audit module)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[str] = mapped_column(String(100))
    operator: Mapped[str] = mapped_column(String(200), default="")
    batch_id: Mapped[int | None] = mapped_column(default=None, index=True)
    device_id: Mapped[int | None] = mapped_column(default=None, index=True)
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    # Position in its station's Merkle tree (see evidence.log_tree); NULL only mid-migration.
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, default=None)

    __table_args__ = (
        UniqueConstraint("station_id", "leaf_index", name="uq_audit_event_station_leaf"),
    )


class LogNode(Base):
    """A perfect subtree's hash in a station's Merkle tree: leaves [index*2^level, +2^level).

    Kept so appending and proving cost O(log n) lookups; `log verify` recomputes every one
    from the events, so a forged row here is found, never trusted.
    """

    __tablename__ = "log_node"

    station_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LatestHead(Base):
    """Each station's newest signed head, replaced at every commit that appends its events.

    So every stored event is covered by a head only the station's key could sign: an event
    added with database access alone (no key) is found by `log verify` as uncovered.
    """

    __tablename__ = "latest_head"

    station_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[str] = mapped_column(Text)


class TreeHead(Base):
    """A signed tree head a station issued (checkpoint, certificate, report): the signed JSON."""

    __tablename__ = "tree_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(100), index=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    document: Mapped[str] = mapped_column(Text)


class ScanSummary(Base):
    """Counts (never values) of one personal-data scan of a device."""

    __tablename__ = "scan_summary"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), default=None)
    phase: Mapped[str] = mapped_column(String(10))  # pre | post | adhoc
    target: Mapped[str] = mapped_column(String(500))
    total_findings: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sanitization(Base):
    """The plan, steps and outcome of sanitizing one device."""

    __tablename__ = "sanitization"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), default=None)
    level: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class Operator(Base):
    """A person who runs or validates sanitizations; named on the certificates."""

    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Validation(Base):
    """A second person's accept/reject decision on a sanitized device."""

    __tablename__ = "validation"
    __table_args__ = (
        CheckConstraint("decision IN ('accept', 'reject')", name="ck_validation_decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    operator: Mapped[Operator] = relationship()


class Certificate(Base):
    """A signed certificate of sanitization or destruction for one device."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("cert_id", name="uq_certificate_cert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cert_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), default=None, index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), default=None, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # sanitization | destruction | batch_report
    document: Mapped[str] = mapped_column(Text)  # the signed canonical JSON
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Manifest(Base):
    """One import of a customer's asset list into a batch (the newest one is in force)."""

    __tablename__ = "manifest"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(20))  # csv | xlsx | ods
    encoding: Mapped[str] = mapped_column(String(30), default="")  # csv only
    rows: Mapped[int] = mapped_column(Integer, default=0)
    # Header -> role for mapped columns, the customer's own columns kept (in file order) and
    # the columns dropped with the reason (never a value): see `intake.importer`.
    columns: Mapped[dict[str, Any]] = mapped_column(default=dict)
    imported_by: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Asset(Base):
    """A customer asset (laptop, desktop, phone, loose drive) of a batch, and where it is."""

    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("batch_id", "key", name="uq_asset_batch_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    # The asset's identity in its batch: "tag:<tag>" or, without a tag, "serial:<serial>",
    # case-folded, so a re-imported list updates rows instead of adding them.
    key: Mapped[str] = mapped_column(String(220))
    asset_tag: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(60), default="")
    make: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    customer_ref: Mapped[str] = mapped_column(String(200), default="")
    # The customer's own columns, header -> value, echoed back in the return report.
    customer_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expected: Mapped[bool] = mapped_column(Boolean, default=True)  # on the customer's list
    manifest_row: Mapped[int | None] = mapped_column(Integer, default=None)
    # Identity read from the machine itself (SMBIOS/DMI), when the station ran on it.
    identity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    received_by: Mapped[str] = mapped_column(String(200), default="")
    condition: Mapped[str] = mapped_column(String(30), default="")
    destination: Mapped[str] = mapped_column(String(20), default="")  # refurbish|recycle|destroy
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    batch: Mapped[Batch] = relationship()
    devices: Mapped[list[Device]] = relationship(back_populates="asset")
    custody: Mapped[list[CustodyEvent]] = relationship(
        back_populates="asset", order_by="CustodyEvent.id"
    )

    @property
    def received(self) -> bool:
        """True once the asset was scanned in (or seen by the station it runs)."""
        return self.received_at is not None


class CustodyEvent(Base):
    """One step in an asset's chain of custody; the same step is an event in the log (`seq`)."""

    __tablename__ = "custody_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), default=None)
    step: Mapped[str] = mapped_column(String(30))  # received | drive_removed | ... | released
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    operator: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    audit_seq: Mapped[int] = mapped_column(BigInteger)

    asset: Mapped[Asset] = relationship(back_populates="custody")


class RegisteredKey(Base):
    """A station's public key in the fleet's registry, added when the station first connects.

    Documents carry only the key's fingerprint; this row lets anyone with the database (and the
    verification page) find the key, its station and whether it was retired, and why.
    """

    __tablename__ = "station_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(100), index=True)
    fingerprint: Mapped[str] = mapped_column(String(79), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    organization: Mapped[str] = mapped_column(String(200), default="")
    site: Mapped[str] = mapped_column(String(200), default="")
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    retired_reason: Mapped[str] = mapped_column(Text, default="")
    retired_by: Mapped[str] = mapped_column(String(200), default="")

    @property
    def status(self) -> str:
        """`active` until retired."""
        return "active" if self.retired_at is None else "retired"


class BatchAccess(Base):
    """The hashed access token a customer uses to download a closed batch's reports."""

    __tablename__ = "batch_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), unique=True)
    # SHA-256 of the token's 16 random bytes; the token itself is shown once and never stored.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
