"""Customers, agreements and batches: the operator's bookkeeping around the devices."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from asset_pipeline.errors import (
    AgreementNotFound,
    AlreadyExists,
    BatchClosed,
    BatchNotFound,
    CustomerNotFound,
)
from asset_pipeline.storage import Agreement, Batch, Customer, utcnow

LEVELS = ("clear", "purge")
# Who validates a sanitized device: the operator who ran it, or a second, different person.
VALIDATIONS = ("operator", "second-person")


def add_customer(session: Session, name: str, org_number: str = "", contact: str = "") -> Customer:
    """Create a customer; names are unique.

    Raises:
        AlreadyExists: a customer with this name exists.
    """
    if session.scalar(select(Customer).where(Customer.name == name)) is not None:
        raise AlreadyExists(f"customer {name!r} already exists")
    customer = Customer(name=name, org_number=org_number, contact=contact)
    session.add(customer)
    _flush(session, f"customer {name!r} already exists")
    return customer


def find_customer(session: Session, key: str) -> Customer:
    """A customer by id or exact name.

    Raises:
        CustomerNotFound: no such customer.
    """
    found = None
    if key.isdigit():
        found = session.get(Customer, int(key))
    if found is None:
        found = session.scalar(select(Customer).where(Customer.name == key))
    if found is None:
        raise CustomerNotFound(key)
    return found


def list_customers(session: Session) -> list[Customer]:
    """All customers, oldest first."""
    return list(session.scalars(select(Customer).order_by(Customer.id)))


def add_agreement(
    session: Session,
    *,
    customer: Customer,
    reference: str,
    required_level: str,
    discovery_instructed: bool,
    retention_years: int,
    controller_name: str = "",
    controller_org_number: str = "",
    validation: str = "operator",
) -> Agreement:
    """Record a customer's DPA; references are unique.

    The controller defaults to the customer itself, which is the usual case.

    Raises:
        AlreadyExists: the reference is taken.
        ValueError: an unknown level or a negative retention.
    """
    if required_level not in LEVELS:
        raise ValueError(
            f"required level must be one of {', '.join(LEVELS)}, not {required_level!r}"
        )
    if retention_years < 0:
        raise ValueError("retention must be zero or more years")
    if validation not in VALIDATIONS:
        raise ValueError(f"validation must be one of {', '.join(VALIDATIONS)}, not {validation!r}")
    if session.scalar(select(Agreement).where(Agreement.reference == reference)) is not None:
        raise AlreadyExists(f"agreement {reference!r} already exists")
    agreement = Agreement(
        customer=customer,
        reference=reference,
        required_level=required_level,
        discovery_instructed=discovery_instructed,
        retention_years=retention_years,
        controller_name=controller_name or customer.name,
        controller_org_number=controller_org_number or customer.org_number,
        validation=validation,
    )
    session.add(agreement)
    _flush(session, f"agreement {reference!r} already exists")
    return agreement


def find_agreement(session: Session, key: str) -> Agreement:
    """An agreement by reference or id.

    Raises:
        AgreementNotFound: no such agreement.
    """
    found = session.scalar(select(Agreement).where(Agreement.reference == key))
    if found is None and key.isdigit():
        found = session.get(Agreement, int(key))
    if found is None:
        raise AgreementNotFound(key)
    return found


def list_agreements(session: Session, customer: Customer | None = None) -> list[Agreement]:
    """All agreements, or one customer's."""
    query = select(Agreement).order_by(Agreement.id)
    if customer is not None:
        query = query.where(Agreement.customer_id == customer.id)
    return list(session.scalars(query))


def open_batch(
    session: Session, agreement: Agreement, order_number: str = "", note: str = ""
) -> Batch:
    """Open a batch of devices under `agreement`."""
    batch = Batch(agreement=agreement, order_number=order_number, note=note)
    session.add(batch)
    session.flush()
    return batch


def find_batch(session: Session, key: str | int) -> Batch:
    """A batch by id.

    Raises:
        BatchNotFound: no such batch.
    """
    batch = session.get(Batch, int(key)) if str(key).isdigit() else None
    if batch is None:
        raise BatchNotFound(key)
    return batch


def close_batch(session: Session, batch: Batch) -> Batch:
    """Close a batch so it takes no more devices.

    Raises:
        BatchClosed: it was closed already.
    """
    if not batch.is_open:
        raise BatchClosed(f"batch {batch.id} is already closed")
    batch.closed_at = utcnow()
    session.flush()
    return batch


def list_batches(session: Session, *, open_only: bool = False) -> list[Batch]:
    """All batches (or only open ones), oldest first."""
    query = select(Batch).order_by(Batch.id)
    if open_only:
        query = query.where(Batch.closed_at.is_(None))
    return list(session.scalars(query))


def _flush(session: Session, duplicate_message: str) -> None:
    # A concurrent writer may win the race between our check and our insert.
    try:
        session.flush()
    except IntegrityError as e:
        raise AlreadyExists(duplicate_message) from e
