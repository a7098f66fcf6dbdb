"""Importing a customer's asset list into a batch: map columns, drop personal data, upsert rows.

The header row is the first of the top rows that names an asset tag or a serial column (lists
often start with a title line). Columns map to our fields by their Swedish or English header
(`headers`); every other column is the customer's own and is kept as it is, to be echoed back
in the return report, unless it holds personal data (`screening`), in which case it is not
stored at all and the result says which column was dropped and why.

Re-importing a corrected list updates the batch's assets in place: a row is matched by its
asset tag, else its serial (also against assets scanned in before the list named them), so no
asset is duplicated. An asset the corrected list no longer names is removed if nothing has
happened to it yet; if it was received or has drives, it stays, as not on the list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import BatchClosed, ManifestError
from asset_pipeline.evidence import audit
from asset_pipeline.intake.headers import Role, role_of
from asset_pipeline.intake.screening import WRONG_IN_IDENTITY, ColumnScreen
from asset_pipeline.intake.sheets import Sheet, read_sheet
from asset_pipeline.storage import Asset, Manifest, assets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Batch

HEADER_SEARCH_ROWS = 20
IDENTITY_ROLES = (Role.ASSET_TAG, Role.SERIAL)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did (counts, headers and reasons; never a cell's value)."""

    batch_id: int
    manifest_id: int
    file_name: str
    file_format: str  # csv | xlsx | ods
    encoding: str
    delimiter: str
    header_row: int
    rows: int  # asset rows read
    created: int
    updated: int
    unchanged: int
    removed: int  # no longer on the list and untouched: deleted
    unlisted: int  # no longer on the list but received or processed: kept as unexpected
    mapped: dict[str, str]  # our field -> the customer's header
    kept: list[str]  # the customer's own columns, stored
    dropped: list[dict[str, Any]]  # ColumnVerdict.record(): column, reason, codes, counts
    skipped_rows: list[int] = field(default_factory=list)  # rows with no tag and no serial


@dataclass
class _Columns:
    headers: list[str]
    roles: dict[Role, int]  # role -> column index
    kept: list[int]  # customer columns stored
    dropped: list[dict[str, Any]]


def import_manifest(
    session: Session, station: Station, batch: Batch, file_name: str, data: bytes
) -> ImportResult:
    """Read an asset list (CSV, XLSX or ODS bytes) into `batch`, in the caller's transaction.

    Raises:
        BatchClosed: the batch is closed.
        ManifestError: the file cannot be read, has no asset tag or serial column, names one
            asset twice, or has personal data in its asset tag or serial column.
    """
    if not batch.is_open:
        raise BatchClosed(f"batch {batch.id} is closed; its asset list can no longer change")
    sheet = read_sheet(data)
    header_at = _header_index(sheet)
    header_row, header_cells = sheet.rows[header_at]
    body = sheet.rows[header_at + 1 :]
    columns = _columns(header_cells, body)
    records = _records(body, columns)
    listed = sum(record is not None for record in records.values())
    counts = _upsert(session, batch, records)
    manifest = Manifest(
        batch_id=batch.id,
        file_name=file_name[-300:],
        sha256=hashlib.sha256(data).hexdigest(),
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        rows=listed,
        columns={
            "mapped": {role.value: columns.headers[i] for role, i in columns.roles.items()},
            "kept": [columns.headers[i] for i in columns.kept],
            "dropped": columns.dropped,
        },
        imported_by=station.operator,
    )
    session.add(manifest)
    session.flush()
    audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="intake.imported",
        payload={
            "manifest_id": manifest.id,
            "sha256": manifest.sha256,
            "file_format": sheet.file_format,
            "rows": listed,
            **counts,
            "kept_columns": len(columns.kept),
            "dropped_columns": columns.dropped,
        },
        batch_id=batch.id,
    )
    return ImportResult(
        batch_id=batch.id,
        manifest_id=manifest.id,
        file_name=file_name,
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        delimiter={"\t": "tab"}.get(sheet.delimiter, sheet.delimiter),
        header_row=header_row,
        rows=listed,
        mapped=manifest.columns["mapped"],
        kept=manifest.columns["kept"],
        dropped=columns.dropped,
        skipped_rows=[number for number, record in records.items() if record is None],
        **counts,
    )


def _header_index(sheet: Sheet) -> int:
    for index, (_, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        if any(role_of(cell) in IDENTITY_ROLES for cell in cells):
            return index
    seen = [c for _, cells in sheet.rows[:1] for c in cells if c][:8]
    raise ManifestError(
        "no asset tag or serial column: expected a header such as Inventarienummer, "
        "Asset tag, Serienummer or Serial"
        + (f" (the first row has: {', '.join(seen)})" if seen else " (the file is empty)")
    )


def _columns(header_cells: list[str], body: list[tuple[int, list[str]]]) -> _Columns:
    width = max([len(header_cells), *(len(cells) for _, cells in body)])
    headers = _unique_headers(header_cells, width)
    values = [[cells[i] if i < len(cells) else "" for _, cells in body] for i in range(width)]
    roles: dict[Role, int] = {}
    for index, header in enumerate(headers):
        role = role_of(header)
        if role is not None and role not in roles:  # a second "Serial" column is the customer's
            roles[role] = index
    screen = ColumnScreen()
    kept: list[int] = []
    dropped: list[dict[str, Any]] = []
    for index, header in enumerate(headers):
        role = next((r for r, i in roles.items() if i == index), None)
        if role in IDENTITY_ROLES:
            verdict = screen.check_identity(header, values[index])
            wrong = sorted(set(verdict.categories) & WRONG_IN_IDENTITY)
            if wrong:
                raise ManifestError(
                    f"column {header!r} ({role.value}) has values that look like "
                    f"{', '.join(wrong)}; the list is refused: correct the file and import again"
                )
            continue
        if not any(values[index]) and role is None:
            continue  # an empty column: nothing to keep or to drop
        verdict = screen.check(header, values[index])
        if verdict.personal:
            dropped.append(verdict.record())
            if role is not None:
                del roles[role]
        elif role is None:
            kept.append(index)
    return _Columns(headers, roles, kept, dropped)


def _unique_headers(cells: list[str], width: int) -> list[str]:
    headers: list[str] = []
    for index in range(width):
        base = " ".join(cells[index].split()) if index < len(cells) else ""
        base = base or f"Kolumn {index + 1}"
        name, n = base, 2
        while name in headers:
            name, n = f"{base} ({n})", n + 1
        headers.append(name)
    return headers


def _records(
    body: list[tuple[int, list[str]]], columns: _Columns
) -> dict[int, dict[str, Any] | None]:
    """Row number -> the asset's fields (None for a row with neither tag nor serial)."""

    def cell(cells: list[str], index: int | None) -> str:
        return cells[index] if index is not None and index < len(cells) else ""

    records: dict[int, dict[str, Any] | None] = {}
    first_row: dict[str, int] = {}
    for number, cells in body:
        record = {role.value: cell(cells, columns.roles.get(role)) for role in Role}
        if not record["asset_tag"] and not record["serial"]:
            records[number] = None
            continue
        key = assets.asset_key(record["asset_tag"], record["serial"])
        if key in first_row:
            kind, _, name = key.partition(":")
            raise ManifestError(
                f"rows {first_row[key]} and {number} both name {kind} {name!r}; "
                "each asset must be on the list once"
            )
        first_row[key] = number
        record["customer_fields"] = {
            columns.headers[i]: cells[i] for i in columns.kept if i < len(cells) and cells[i]
        }
        records[number] = record
    return records


def _upsert(
    session: Session, batch: Batch, records: dict[int, dict[str, Any] | None]
) -> dict[str, int]:
    counts = dict.fromkeys(("created", "updated", "unchanged", "removed", "unlisted"), 0)
    index = _Index(assets.batch_assets(session, batch))
    for number, record in records.items():
        if record is None:
            continue
        fields = {**record, "expected": True, "manifest_row": number}
        fields["key"] = assets.asset_key(record["asset_tag"], record["serial"])
        asset = index.existing(record["asset_tag"], record["serial"])
        if asset is None:
            asset = Asset(batch_id=batch.id, **fields)
            session.add(asset)
            counts["created"] += 1
        elif any(getattr(asset, k) != v for k, v in fields.items() if k != "manifest_row"):
            other = index.by_key.get(fields["key"])
            if other is not None and other is not asset:
                raise ManifestError(
                    f"row {number} names an asset by tag and serial that are two assets of "
                    "this batch already; correct the file or the batch"
                )
            for name, value in fields.items():
                setattr(asset, name, value)
            counts["updated"] += 1
        else:
            asset.manifest_row = number
            counts["unchanged"] += 1
        index.matched.add(id(asset))
    for asset in index.assets:
        if id(asset) in index.matched or not asset.expected:
            continue
        if asset.received or assets.asset_devices(session, asset):
            asset.expected, asset.manifest_row = False, None
            counts["unlisted"] += 1
        else:
            session.delete(asset)
            counts["removed"] += 1
    session.flush()
    return counts


class _Index:
    """The batch's assets by key, tag and serial (one query, not several per row)."""

    def __init__(self, rows: list[Asset]) -> None:
        self.assets = rows
        self.by_key = {a.key: a for a in rows}
        self.by_tag = {a.asset_tag.casefold(): a for a in reversed(rows) if a.asset_tag}
        self.by_serial = {a.serial.casefold(): a for a in reversed(rows) if a.serial}
        self.matched: set[int] = set()  # id() of assets a row of this list already took

    def existing(self, tag: str, serial: str) -> Asset | None:
        """The asset a row describes: by tag, else serial, else a code scanned before."""
        tag, serial = tag.casefold(), serial.casefold()
        found = [self.by_key.get(f"tag:{tag}") if tag else None,
                 self.by_key.get(f"serial:{serial}") if serial else None]  # fmt: skip
        for code in filter(None, (tag, serial)):  # codes received before the list named them
            found += [self.by_tag.get(code), self.by_serial.get(code)]
        return next((a for a in found if a is not None and id(a) not in self.matched), None)
