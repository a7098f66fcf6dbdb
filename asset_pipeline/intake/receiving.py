"""Receiving assets at the goods reception: a scanned tag or serial becomes a custody step.

A USB barcode scanner types the code and presses Enter; each code is matched against the
batch's list by asset tag, then by serial. A code that is on no list is recorded all the same,
as an unexpected asset: the return report must account for everything that came in. Scanning
an asset twice records nothing new unless its condition changed.

When the station runs on the asset itself, the machine's SMBIOS identity (`dmi`) is the scan:
its asset tag, serial and chassis serial are tried in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import BatchClosed, IntakeError
from asset_pipeline.evidence.privacy import screen
from asset_pipeline.intake import custody
from asset_pipeline.storage import Asset, assets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.intake.dmi import MachineIdentity
    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Batch

CONDITIONS = ("ok", "damaged", "incomplete", "locked")
_PHRASES = {
    "email": "an e-mail address",
    "personnummer": "a personnummer",
    "samordningsnummer": "a samordningsnummer",
}
MAX_CODE = 100


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one scan."""

    code: str
    status: str  # received | unexpected | already_received | condition_changed
    asset_id: int
    asset_tag: str
    serial: str
    kind: str
    make: str
    model: str
    expected: bool
    condition: str
    received_at: datetime | None
    received_by: str


def receive(
    session: Session,
    station: Station,
    batch: Batch,
    code: str,
    *,
    condition: str = "ok",
    identity: MachineIdentity | None = None,
    via: str = "scan",
) -> Receipt:
    """Mark the asset with tag or serial `code` received (or record it as unexpected).

    `via` says how it came in, for the custody record: "scan" at the goods reception, "bay"
    when its tag was first scanned at a drive bay; an SMBIOS `identity` makes it "dmi".

    Raises:
        BatchClosed: the batch is closed.
        IntakeError: the code is empty, too long, or looks like personal data, or the
            condition is not one of `CONDITIONS`.
    """
    if not batch.is_open:
        raise BatchClosed(f"batch {batch.id} is closed; it takes no more assets")
    code = _check_code(code)
    if condition not in CONDITIONS:
        raise IntakeError(f"condition {condition!r} is not one of {', '.join(CONDITIONS)}")
    asset = assets.match_code(session, batch, code)
    if asset is None:
        # A scanned code may be either; the firmware says which it gave.
        tag, serial = (
            (identity.asset_tag, identity.serial or identity.chassis_serial)
            if identity is not None
            else (code, "")
        )
        asset = Asset(batch_id=batch.id, key=assets.asset_key(tag, serial), asset_tag=tag,
                      serial=serial, expected=False)  # fmt: skip
        session.add(asset)
        session.flush()
    via = "dmi" if identity is not None else via
    if identity is not None:
        _adopt_identity(asset, identity)
    if not asset.received:
        event = custody.record(session, station, asset, "received",
                               detail={"condition": condition, "expected": asset.expected,
                                       "via": via})  # fmt: skip
        asset.received_at, asset.received_by = event.occurred_at, event.operator
        asset.condition = condition
        status = "received" if asset.expected else "unexpected"
    elif asset.condition != condition:
        custody.record(session, station, asset, "condition",
                       detail={"condition": condition, "was": asset.condition})  # fmt: skip
        asset.condition = condition
        status = "condition_changed"
    else:
        status = "already_received"
    session.flush()
    return _receipt(code, status, asset)


def receive_machine(
    session: Session,
    station: Station,
    batch: Batch,
    identity: MachineIdentity,
    *,
    condition: str = "ok",
) -> Receipt:
    """Receive the machine the station runs on, matched by its SMBIOS asset tag or serials.

    Raises:
        IntakeError: SMBIOS names neither an asset tag nor a serial to match.
        BatchClosed: the batch is closed.
    """
    if not identity.codes:
        raise IntakeError("SMBIOS/DMI gives no asset tag or serial to match against the list")
    found = next((c for c in identity.codes if assets.match_code(session, batch, c)), None)
    return receive(session, station, batch, found or identity.codes[0], condition=condition,
                   identity=identity)  # fmt: skip


def _check_code(code: str) -> str:
    code = code.strip()
    if not code:
        raise IntakeError("an empty code was scanned")
    if len(code) > MAX_CODE:
        raise IntakeError(f"the scanned code is {len(code)} characters; at most {MAX_CODE}")
    if not code.isprintable():
        raise IntakeError("the scanned code holds control characters")
    category = _personal(code)
    if category is not None:
        raise IntakeError(f"the scanned code looks like {_PHRASES[category]}, not an asset tag "
                          "or serial; nothing was recorded")  # fmt: skip
    return code


def _personal(code: str) -> str | None:
    """The personal-data shape of a scanned code, if it has one that no asset tag has.

    Numeric tags and serials are common, and one in ten of any length passes a Luhn check,
    so a bare number is taken as a tag; a personnummer is recognised in its written forms
    (with its separator, or with the century), an e-mail address always.
    """
    category = screen(code)
    if category == "email":
        return category
    if category in ("personnummer", "samordningsnummer"):
        digits = sum(ch.isdigit() for ch in code)
        if digits == 12 or "-" in code or "+" in code:
            return category
    return None


def _adopt_identity(asset: Asset, identity: MachineIdentity) -> None:
    """Keep what the firmware says, and fill fields the customer's list left empty."""
    asset.identity = identity.to_dict()
    asset.serial = asset.serial or identity.serial
    asset.make = asset.make or identity.manufacturer
    asset.model = asset.model or identity.model


def _receipt(code: str, status: str, asset: Asset) -> Receipt:
    fields: dict[str, Any] = {
        name: getattr(asset, name)
        for name in ("asset_tag", "serial", "kind", "make", "model", "expected", "condition",
                     "received_at", "received_by")
    }  # fmt: skip
    return Receipt(code=code, status=status, asset_id=asset.id, **fields)
