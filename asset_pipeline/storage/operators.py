"""Operators (the people named on certificates) and second-person validation decisions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from asset_pipeline.errors import AlreadyExists, OperatorNotFound
from asset_pipeline.storage.models import Device, Operator, Validation

DECISIONS = ("accept", "reject")


def add_operator(session: Session, name: str, *, title: str, contact: str) -> Operator:
    """Register a person who may run or validate sanitizations; names are unique.

    Raises:
        AlreadyExists: an operator with this name exists.
        ValueError: the name, title or contact is empty.
    """
    name, title, contact = name.strip(), title.strip(), contact.strip()
    for what, value in (("name", name), ("title", title), ("contact", contact)):
        if not value:
            raise ValueError(f"an operator needs a {what} (it is printed on the certificates)")
    if session.scalar(select(Operator).where(Operator.name == name)) is not None:
        raise AlreadyExists(f"operator {name!r} already exists")
    operator = Operator(name=name, title=title, contact=contact)
    session.add(operator)
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent writer won the race
        raise AlreadyExists(f"operator {name!r} already exists") from e
    return operator


def find_operator(session: Session, key: str) -> Operator:
    """An operator by exact name (or id).

    Raises:
        OperatorNotFound: nobody is registered under `key`.
    """
    found = session.scalar(select(Operator).where(Operator.name == key.strip()))
    if found is None and key.isdigit():
        found = session.get(Operator, int(key))
    if found is None:
        raise OperatorNotFound(repr(key))
    return found


def list_operators(session: Session) -> list[Operator]:
    """Every operator, in the order they were added."""
    return list(session.scalars(select(Operator).order_by(Operator.id)))


def record_validation(
    session: Session, device: Device, operator: Operator, decision: str, reason: str = ""
) -> Validation:
    """Store a validation decision (`accept` or `reject`) on `device`."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be accept or reject, not {decision!r}")
    row = Validation(
        device_id=device.id, operator_id=operator.id, decision=decision, reason=reason.strip()
    )
    session.add(row)
    session.flush()
    return row


def latest_validation(session: Session, device: Device) -> Validation | None:
    """The newest validation decision on `device`, if any."""
    query = select(Validation).where(Validation.device_id == device.id)
    return session.scalar(query.order_by(Validation.id.desc()))
