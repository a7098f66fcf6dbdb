"""The wipe station: drives discovery, scanning, sanitization and evidence into one pipeline."""

__version__ = "0.1.0"
