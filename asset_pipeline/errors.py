"""Errors raised by the station (orchestration, storage, configuration).

PipelineError
├── ConfigError              the data directory or config file is unusable
├── StorageError             the database cannot be opened or migrated
├── NotFound                 a customer, agreement, batch or device id/name does not exist
│   ├── CustomerNotFound
│   ├── AgreementNotFound
│   ├── BatchNotFound
│   └── DeviceNotFound
├── AlreadyExists            a unique name or reference is taken
└── BatchClosed              a closed batch was asked to take a device or to close again
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base for every error raised by the station orchestration."""


class ConfigError(PipelineError):
    """The data directory or the config file cannot be used."""


class StorageError(PipelineError):
    """The database cannot be opened, migrated or written."""


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


class AlreadyExists(PipelineError):
    """A unique name or reference is already taken."""


class BatchClosed(PipelineError):
    """The batch is closed and cannot change."""
