"""`asset-pipeline serve`: the verification page for customers, on the station database."""

from __future__ import annotations

import json
import os
import socket

import click

from asset_pipeline.cli.output import stderr_console
from asset_pipeline.errors import StorageError
from asset_pipeline.station.context import Station


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="TCP port."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes (one per core verifies fastest).",
)
@click.pass_obj
def serve(station: Station, host: str, port: int, workers: int) -> None:
    """Serve the verification page: customers check certificates and fetch batch reports.

    A customer opens the link in a certificate's QR code, or uploads the certificate's PDF or
    JSON, and sees whether it is valid, each check in Swedish and English, the signing station
    and its key fingerprint, and whether the processing log holds it. With a batch's access
    token (printed by `batch close`) they download the batch's reports. Reads the station
    database (`--db-url` for a fleet's PostgreSQL); creates no station, key or database.
    Put a TLS-terminating reverse proxy in front of it for customers outside the workshop.

    \b
    Example:
        asset-pipeline --db-url postgresql+psycopg://ap@db/fleet serve --host 0.0.0.0 --port 8080
    """
    import uvicorn

    from asset_pipeline.storage import open_existing_database
    from asset_pipeline.web import create_app
    from asset_pipeline.web.app import SERVE_ENV

    sessions = open_existing_database(station.database_url)
    if sessions is None:
        raise StorageError(f"no station database at {_redacted(station.database_url)}")
    _check_port(host, port)
    organization = station.config.organization if station.is_initialized else ""
    pdf_dirs = (station.reports_dir, station.certificates_dir)
    stderr_console().print(f"Verification page on http://{host}:{port}/ (Ctrl-C stops)")
    options = {"host": host, "port": port, "log_level": "warning", "access_log": False,
               "server_header": False}  # fmt: skip
    if workers == 1:
        uvicorn.run(create_app(sessions, organization=organization, pdf_dirs=pdf_dirs), **options)
        return
    _dispose(sessions)  # each worker process opens its own connections
    os.environ[SERVE_ENV] = json.dumps({"db_url": station.database_url,
                                        "organization": organization,
                                        "pdf_dirs": [str(d) for d in pdf_dirs]})  # fmt: skip
    uvicorn.run("asset_pipeline.web.app:app_from_environment", factory=True, workers=workers,
                **options)  # fmt: skip


def _dispose(sessions: object) -> None:
    bind = getattr(sessions, "kw", {}).get("bind")
    if bind is not None:
        bind.dispose()


def _check_port(host: str, port: int) -> None:
    """Fail in one line when the address cannot be listened on (uvicorn would log and exit)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


COMMANDS = [serve]
