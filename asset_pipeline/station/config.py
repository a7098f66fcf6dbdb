"""Station state on disk: the data directory and its TOML config file.

The config names who issues the certificates: the organisation (and its organisationsnummer),
the site and the station's own name. A fresh station gets the placeholder organisation
`PLACEHOLDER_ORGANIZATION` until `init --organization` names the real one; no certificate is
issued under the placeholder (see `certifying_identity`).
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs
import tomli_w

from asset_pipeline.errors import ConfigError

HOME_ENV = "ASSET_PIPELINE_HOME"
DB_URL_ENV = "ASSET_PIPELINE_DB_URL"
CONFIG_NAME = "config.toml"
DB_NAME = "station.db"
PLACEHOLDER_ORGANIZATION = "Refurbisher AB"
# What `init` may change on an existing station (never its id: that would orphan its log).
IDENTITY_FIELDS = ("organization", "org_number", "site", "station_name", "operator", "verify_url")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path}"


def default_data_dir() -> Path:
    """`$ASSET_PIPELINE_HOME`, else the user's data directory for this application."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("asset-pipeline", appauthor=False))


@dataclass(frozen=True, slots=True)
class StationConfig:
    """What `config.toml` holds: who this station is and who runs it by default."""

    station_id: str
    organization: str
    operator: str
    site: str = ""
    org_number: str = ""
    station_name: str = ""
    bays: tuple[str, ...] = ()  # glob patterns of the drives `watch` may take
    # The verification page's address (`serve`, behind the workshop's proxy); when set, the
    # certificates' QR codes carry `<verify_url>/c/<id>?h=<sha256>`.
    verify_url: str = ""
    # The organisation's CA-issued X.509 certificate for the station key (PEM, leaf first, then
    # its chain), relative to the data directory; empty: a self-signed one (`certificate.py`).
    certificate: str = ""

    def to_toml(self) -> dict[str, dict[str, object]]:
        """The nested mapping written to `config.toml`."""
        station: dict[str, object] = {
            "id": self.station_id,
            "name": self.station_name,
            "organization": self.organization,
            "org_number": self.org_number,
            "site": self.site,
        }
        if self.bays:
            station["bays"] = list(self.bays)
        if self.verify_url:
            station["verify_url"] = self.verify_url
        if self.certificate:
            station["certificate"] = self.certificate
        return {"station": station, "operator": {"default": self.operator}}

    @property
    def is_placeholder(self) -> bool:
        """True while the organisation is still the placeholder (or empty)."""
        return self.organization.strip() in ("", PLACEHOLDER_ORGANIZATION)

    def updated(self, **changes: str) -> tuple[StationConfig, dict[str, dict[str, str]]]:
        """This config with `changes` applied (empty values ignored), and what changed.

        The station id never changes here. Returns the new config and `{field: {"from",
        "to"}}` for the fields whose value differs.
        """
        unknown = set(changes) - set(IDENTITY_FIELDS)
        if unknown:
            raise ValueError(f"not a station identity field: {', '.join(sorted(unknown))}")
        given = {k: v.strip() for k, v in changes.items() if v and v.strip()}
        diff = {
            k: {"from": getattr(self, k), "to": v}
            for k, v in given.items()
            if getattr(self, k) != v
        }
        return replace(self, **given), diff


def new_config(
    organization: str = "",
    operator: str = "",
    *,
    org_number: str = "",
    site: str = "",
    station_name: str = "",
    station_id: str = "",
    verify_url: str = "",
) -> StationConfig:
    """A fresh config with a station id that is unique and readable (host name + short uuid)."""
    host = socket.gethostname().split(".")[0] or "station"
    return StationConfig(
        station_id=station_id or f"{host}-{uuid.uuid4().hex[:8]}",
        organization=organization or PLACEHOLDER_ORGANIZATION,
        operator=operator or os.environ.get("USER", "") or "operator",
        site=site,
        org_number=org_number,
        station_name=station_name or host,
        verify_url=checked_verify_url(verify_url),
    )


def load_config(data_dir: Path) -> StationConfig | None:
    """The config in `data_dir`, or None before `init` ran.

    Raises:
        ConfigError: the file exists but is not valid TOML or lacks the station id.
    """
    path = data_dir / CONFIG_NAME
    if not path.exists():
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e
    station = raw.get("station", {})
    operator = raw.get("operator", {})
    if not isinstance(station, dict) or not station.get("id"):
        raise ConfigError(f"{path} has no [station] id")
    bays = station.get("bays", [])
    if not isinstance(bays, list) or not all(isinstance(b, str) and b.strip() for b in bays):
        raise ConfigError(f"{path}: [station] bays must be a list of glob patterns")
    return StationConfig(
        station_id=str(station["id"]),
        organization=str(station.get("organization", "")),
        site=str(station.get("site", "")),
        operator=str(operator.get("default", "")) if isinstance(operator, dict) else "",
        org_number=str(station.get("org_number", "")),
        station_name=str(station.get("name", "")),
        bays=tuple(b.strip() for b in bays),
        verify_url=_config_url(station.get("verify_url", ""), path),
        certificate=str(station.get("certificate", "")),
    )


def checked_verify_url(url: str) -> str:
    """`url` without a trailing slash, when it is an http(s) address (or empty).

    Raises:
        ValueError: anything else (it goes into QR codes that phones open).
    """
    url = url.strip().rstrip("/")
    if url and not re.match(r"^https?://[^\s?#]+$", url):
        raise ValueError(f"verify_url {url[:80]!r} is not an http(s) address")
    return url


def _config_url(value: object, path: Path) -> str:
    try:
        return checked_verify_url(str(value))
    except ValueError as e:
        raise ConfigError(f"{path}: {e}") from e


def ensure_data_dir(data_dir: Path) -> Path:
    """Create `data_dir` if needed and prove it is writable.

    Raises:
        ConfigError: it cannot be created or written.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create data directory {data_dir}: {e.strerror}") from e
    if not data_dir.is_dir():
        raise ConfigError(f"data directory {data_dir} is not a directory")
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"data directory {data_dir} is not writable")
    return data_dir


def write_config(data_dir: Path, config: StationConfig) -> Path:
    """Write `config.toml` atomically (temp file + rename), so a crash leaves old or new."""
    path = data_dir / CONFIG_NAME
    tmp = path.with_suffix(".toml.tmp")
    try:
        tmp.write_text(tomli_w.dumps(config.to_toml()), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror}") from e
    return path
