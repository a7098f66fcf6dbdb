"""Who certifies: the station's organisation and site, and the named operator.

A certificate names a real organisation and a registered person (NIST SP 800-88 Rev. 2
§4.6 asks for the name, title, contact and signature of whoever performed the sanitization).
`require_certifying` is asked by the commands that may end in a certificate (process, watch,
wipe) before anything is written, and again by the certificate issuer itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asset_pipeline.errors import StationNotReady
from asset_pipeline.station.config import PLACEHOLDER_ORGANIZATION, StationConfig, write_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Operator


def update_identity(
    station: Station, current: StationConfig, changes: dict[str, str]
) -> tuple[StationConfig, dict[str, dict[str, str]]]:
    """Apply identity `changes` to an existing station: same id and key, one audit event.

    Returns the new config and `{field: {"from", "to"}}` (empty when nothing changed).
    """
    config, changed = current.updated(**changes)
    if not changed:
        station.sessions()  # an existing station still gets its database brought to head
        return current, changed
    from asset_pipeline.evidence import audit

    with station.session() as session:
        audit.append_event(
            session,
            station_id=config.station_id,
            operator=station.operator,
            event_type="station.identity_changed",
            payload={"changed": changed},
        )
        # Written inside the transaction: a config that cannot be written rolls the event back.
        write_config(station.data_dir, config)
        station.reconfigure(config)
    return config, changed


def require_organization(config: StationConfig) -> None:
    """Raise while the station certifies for the placeholder organisation.

    Raises:
        StationNotReady: the organisation is the placeholder or empty.
    """
    if config.is_placeholder:
        raise StationNotReady(
            f"the station's organisation is still the placeholder {PLACEHOLDER_ORGANIZATION!r}; "
            "name it first: asset-pipeline init --organization NAME --org-number NUMBER "
            "--site SITE"
        )


def require_certifying(station: Station, session: Session, operator: str | None = None) -> Operator:
    """The registered operator who will be named, once the station may certify at all.

    Raises:
        StationNotReady: the organisation is the placeholder.
        OperatorNotFound: `operator` (default: the station's current one) is not registered.
    """
    from asset_pipeline.storage.operators import find_operator

    require_organization(station.config)
    return find_operator(session, operator or station.operator)
