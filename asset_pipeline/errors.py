"""Errors raised by the station (orchestration, storage, configuration).

PipelineError
├── ConfigError              the data directory or config file is unusable
│   └── StationNotReady      the station may not certify yet (placeholder organisation)
├── StorageError             the database cannot be opened or migrated
│   └── ConnectionLost       the database connection dropped mid-transaction (rolled back)
├── NotFound                 a customer, agreement, batch or device id/name does not exist
│   ├── CustomerNotFound
│   ├── AgreementNotFound
│   ├── BatchNotFound
│   ├── DeviceNotFound
│   ├── OperatorNotFound
│   ├── CertificateNotFound
│   ├── AssetNotFound
│   └── StationNotFound
├── AlreadyExists            a unique name or reference is taken
├── BatchClosed              a closed batch was asked to take a device or to close again
├── TransitionNotAllowed     a device was asked to skip or repeat a pipeline step out of order
├── DeviceBusy               another live station process is working on the device
├── ValidationRefused        a validation decision cannot be taken (state, same person)
├── IntakeError              customer asset lists, receiving, custody and reconciliation
│   ├── ManifestError        an asset list cannot be read or is refused
│   ├── CustodyRefused       a custody step does not follow from the asset's record
│   └── BatchNotReconciled   a batch was asked to close with work outstanding
├── RegistryConflict         a station id or key clashes with the fleet's key registry
│   └── StationRetired       this station's key was retired; it signs nothing more
└── EvidenceError            certificates, reports and the processing log
    ├── KeyFileError         the station key file is missing, unreadable or not Ed25519
    ├── PersonalDataRefused  a log payload or document would carry a personal-data value
    ├── CertificateRefused   the invariants for issuing a certificate do not hold
    ├── InvalidDocument      a certificate or report file cannot be read as one
    │   └── UnsupportedSchema   it was written by a newer schema version
    └── VerificationFailed   a signature, hash, QR code or audit-chain check does not hold
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base for every error raised by the station orchestration."""


class ConfigError(PipelineError):
    """The data directory or the config file cannot be used."""


class StationNotReady(ConfigError):
    """The station's identity is not fit to certify (the organisation is the placeholder)."""


class StorageError(PipelineError):
    """The database cannot be opened, migrated or written."""


class ConnectionLost(StorageError):
    """The database connection dropped mid-transaction; the transaction was rolled back.

    Whether a COMMIT that was under way took effect is unknown: read the state again.
    """


class NotFound(PipelineError):
    """A record named by the operator does not exist."""

    kind = "record"

    def __init__(self, key: object) -> None:
        super().__init__(f"no {self.kind} {key!s}")
        self.key = key


class CustomerNotFound(NotFound):
    """No customer has this id or name."""

    kind = "customer"


class AgreementNotFound(NotFound):
    """No agreement has this id or reference."""

    kind = "agreement"


class BatchNotFound(NotFound):
    """No batch has this id."""

    kind = "batch"


class DeviceNotFound(NotFound):
    """No device has this id."""

    kind = "device"


class OperatorNotFound(NotFound):
    """No operator is registered under this name or id."""

    kind = "operator"

    def __init__(self, key: object) -> None:
        super().__init__(key)
        self.args = (
            f"no operator {key!s} is registered (add one: asset-pipeline operator add NAME "
            "--title TITLE --contact CONTACT)",
        )


class CertificateNotFound(NotFound):
    """No certificate or report has this id."""

    kind = "certificate"


class AssetNotFound(NotFound):
    """No asset of the batch has this tag or serial."""

    kind = "asset"


class StationNotFound(NotFound):
    """No registered station key has this station id or fingerprint."""

    kind = "station"


class AlreadyExists(PipelineError):
    """A unique name or reference is already taken."""


class BatchClosed(PipelineError):
    """The batch is closed and cannot change."""


class TransitionNotAllowed(PipelineError):
    """A device was asked to move to a state that does not follow its current one."""


class DeviceBusy(PipelineError):
    """Another live station process is working on this device."""


class ValidationRefused(PipelineError):
    """A validation decision cannot be taken: wrong state, no need, or the same person."""


class IntakeError(PipelineError):
    """Base for errors about customer assets: lists, receiving, custody, reconciliation."""


class ManifestError(IntakeError):
    """A customer's asset list cannot be read, or holds what must not be stored (says which)."""


class CustodyRefused(IntakeError):
    """A custody step does not follow from the asset's record (e.g. released before received)."""


class BatchNotReconciled(IntakeError):
    """A batch cannot close: a device is mid-pipeline or an expected asset is unaccounted for."""


class RegistryConflict(PipelineError):
    """A station id or key clashes with the fleet's key registry (say which and why)."""


class StationRetired(RegistryConflict):
    """This station's key was retired from the registry; it must not sign anything more."""


class EvidenceError(PipelineError):
    """Base for errors about certificates, reports, keys and the processing log."""


class KeyFileError(EvidenceError):
    """The station key (or a given public key file) is missing, unreadable or not Ed25519."""


class PersonalDataRefused(EvidenceError):
    """A log payload or a document would carry what looks like a personal-data value.

    The message names the field and the category, never the value.
    """


class CertificateRefused(EvidenceError):
    """The invariants for issuing a certificate do not hold (say which one)."""


class InvalidDocument(EvidenceError):
    """A certificate or report file is not a readable, canonical, signed document."""


class UnsupportedSchema(InvalidDocument):
    """The document was written with a newer schema version than this tool reads."""


class VerificationFailed(EvidenceError):
    """A signature, hash, QR code or audit-chain check did not hold."""
