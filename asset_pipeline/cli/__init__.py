"""The `asset-pipeline` command line: one root group, one module per command group."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import click

from asset_pipeline import __version__
from asset_pipeline.station.config import DB_URL_ENV, HOME_ENV, default_data_dir
from asset_pipeline.station.context import Station

# Not `log`: that name is the `log` command group's submodule.
logger = logging.getLogger(__name__)


class Refused(click.ClickException):
    """The guard refused the target (exit code 3)."""

    exit_code = 3


# command name -> module in asset_pipeline.cli that defines it. Modules load only when their
# command runs (or help lists them): a station's CLI starts in a fraction of a second, which
# matters on slow machines and inside the emulated lab guest.
COMMAND_MODULES: dict[str, str] = {
    "init": "init",
    "operator": "people",
    "key": "key",
    "customer": "customer",
    "agreement": "agreement",
    "batch": "batch",
    "intake": "intake",
    "drives": "drives",
    "scan": "scan",
    "wipe": "wipe",
    "process": "process",
    "resume": "process",
    "device": "device",
    "watch": "watch",
    "log": "log",
    "cert": "cert",
    "retention": "retention",
    "station": "station",
    "serve": "serve",
    "demo": "demo",
}


class StationGroup(click.Group):
    """The root group: loads commands on demand and maps the libraries' errors to one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, in the order the README lists them."""
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module the first time the command is asked for."""
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        loaded = importlib.import_module(f"asset_pipeline.cli.{module}")
        return next(c for c in loaded.COMMANDS if c.name == cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; library errors become `Error: <message>` and an exit code."""
        try:
            return super().invoke(ctx)
        except Exception as e:  # the libraries' errors become one line; others re-raise
            bases = _error_bases(e)
            if not bases & LIBRARY_ERRORS:
                raise
            logger.debug("command failed", exc_info=e)  # traceback only with -v
            cls = Refused if GUARD_REFUSAL in bases else click.ClickException
            raise cls(str(e)) from e


# The error bases of the station and its two libraries, by (module, class name): a command that
# never loaded `scanners` cannot have raised a ScanError, so the root group need not import the
# libraries (with their detectors and crypto) just to recognise their errors.
LIBRARY_ERRORS = frozenset(
    {
        ("asset_pipeline.errors", "PipelineError"),
        ("scanners.errors", "ScanError"),
        ("wipe.errors", "WipeError"),
    }
)
GUARD_REFUSAL = ("wipe.errors", "GuardRefusal")


def _error_bases(error: BaseException) -> set[tuple[str, str]]:
    return {(cls.__module__, cls.__qualname__) for cls in type(error).__mro__}


@click.group(cls=StationGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=HOME_ENV,
    default=None,
    help=f"Station data directory (config, database, keys, certificates). Env: {HOME_ENV}; "
    f"default: {default_data_dir()}.",
)
@click.option(
    "--db-url",
    envvar=DB_URL_ENV,
    default=None,
    help=f"SQLAlchemy database URL (default: SQLite <data-dir>/station.db). Env: {DB_URL_ENV}.",
)
@click.option("--operator", default=None, help="Who runs the station now (default: from config).")
@click.option("-v", "--verbose", is_flag=True, help="Log details (and tracebacks) on stderr.")
@click.version_option(__version__, prog_name="asset-pipeline")
@click.pass_context
def cli(
    ctx: click.Context,
    data_dir: Path | None,
    db_url: str | None,
    operator: str | None,
    verbose: bool,
) -> None:
    """Wipe-station tool: find drives, scan them for personal data, sanitize, certify.

    \b
    Exit codes: 0 done, 1 failed, 2 usage error, 3 refused by the write guard.

    \b
    Example:
        asset-pipeline init --organization "Refurb AB" --operator anna
        asset-pipeline drives
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    station = Station(
        data_dir=data_dir or default_data_dir(), db_url=db_url, operator_override=operator
    )
    ctx.obj = station
    ctx.call_on_close(station.close)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="asset-pipeline")
