"""SQLite databases (browsers, mail clients, apps): every table's cells as text."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanners.formats import Extracted
from scanners.formats.tables import table_items

if TYPE_CHECKING:
    from scanners.formats import Budget

MAX_CELLS = 5_000_000


def extract_sqlite(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """Open a private in-memory copy of the database; the drive's file is never opened."""
    copy = bytearray(data)
    if len(copy) >= 20 and copy[18] == 2:
        copy[18] = copy[19] = 1  # WAL mode cannot be deserialized; the copy is read as legacy
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(copy))
        conn.execute("PRAGMA query_only = ON")
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = 0
        for table in tables:
            rows = []
            quoted = '"' + table.replace('"', '""') + '"'
            cursor = conn.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - name from the db
            columns = [d[0] for d in cursor.description or ()]
            for row in cursor:
                rows.append(["" if v is None else _cell(v) for v in row])
                cells += len(row)
                if cells > MAX_CELLS:
                    yield Extracted(path, problem="database larger than the cell limit")
                    break
            # Column names are context for their values (a `pnr` column of bare digits).
            yield from table_items(f"{path}!{table}", columns, rows)
            if cells > MAX_CELLS:
                return
    finally:
        conn.close()


def _cell(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
