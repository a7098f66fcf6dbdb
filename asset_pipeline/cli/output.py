"""How commands render results: one JSON document or a table on stdout, nothing else there."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """Add `--json` (machine-readable output on stdout) to a command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table."
    )(func)


def jsonable(value: Any) -> Any:
    """Convert results to JSON types: ISO 8601 UTC times, enum values, lists for tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def to_json(value: Any) -> str:
    """Pretty JSON text of a result, UTF-8 characters kept as they are."""
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False, sort_keys=False)


def stdout_console() -> Console:
    """Console for data on stdout (tables); wide enough that piping does not wrap columns."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 240)


def stderr_console() -> Console:
    """Console for progress, notes and warnings (never data)."""
    return Console(stderr=True, highlight=False)


def emit(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    as_json: bool,
    *,
    columns: Iterable[str] = (),
    title: str | None = None,
) -> None:
    """Print `rows` as JSON (`--json`) or as a table of `columns`."""
    if as_json:
        click.echo(to_json(rows))
        return
    if isinstance(rows, Mapping):
        table = Table(show_header=False, title=title, box=None, pad_edge=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for key, value in rows.items():
            table.add_row(key, _cell(value))
        stdout_console().print(table)
        return
    cols = list(columns) or (list(rows[0].keys()) if rows else [])
    table = Table(title=title)
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in cols))
    stdout_console().print(table)


def human_size(n: int) -> str:
    """Bytes as a short decimal size (drives are sold in decimal units)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, Mapping):
        return json.dumps(jsonable(value), ensure_ascii=False)
    return str(value)
