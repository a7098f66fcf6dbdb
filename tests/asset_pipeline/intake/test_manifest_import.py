"""Importing a customer's asset list: mapping, personal-data columns dropped, re-import."""

from __future__ import annotations

import json

import pytest
from intake_lists import HEADER, PERSONAL_VALUES, ROWS, csv_bytes, station_bytes, xlsx_bytes
from sqlalchemy import select

from asset_pipeline.errors import BatchClosed, ManifestError
from asset_pipeline.evidence import audit
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.receiving import receive
from asset_pipeline.storage import Asset, Manifest, batches


def assets_of(station, batch_id) -> list[Asset]:
    with station.session() as session:
        return list(
            session.scalars(select(Asset).where(Asset.batch_id == batch_id).order_by(Asset.id))
        )


def test_swedish_headers_map_and_personal_columns_are_dropped(station, batch_id, in_batch):
    result = in_batch(import_manifest, "lista.csv", csv_bytes(title="Tillgångslista Åre"))
    assert result.header_row == 3
    assert (result.rows, result.created, result.updated) == (3, 3, 0)
    assert result.mapped == {"asset_tag": "Inventarienummer", "serial": "Serienummer",
                             "kind": "Typ", "make": "Märke", "model": "Modell"}  # fmt: skip
    assert result.kept == ["Kostnadsställe", "Placering"]
    assert result.dropped == [
        {"column": "Användare", "reason": "the header names a person",
         "header_names": "a person", "looks_like": {}, "filled_cells": 2},
        {"column": "E-post", "reason": "the header names e-mail",
         "header_names": "e-mail", "looks_like": {}, "filled_cells": 2},
    ]  # fmt: skip
    first = assets_of(station, batch_id)[0]
    assert (first.asset_tag, first.serial, first.kind, first.make, first.model) == (
        "INV-0001", "5CG1234XYZ", "Bärbar dator", "HP", "EliteBook 840 G5",
    )  # fmt: skip
    assert first.customer_fields == {"Kostnadsställe": "4410", "Placering": "Hus B, plan 3"}
    assert first.expected
    assert first.manifest_row == 4


@pytest.mark.parametrize(
    ("header", "values", "reason"),
    [
        # A column of e-mail addresses under a header that says nothing: found by its values.
        ("Info", ["anna.svensson@example.se", "bo.persson@example.se", ""],
         "2 of 2 values look like email"),
        ("Notering", ["ring Anna Svensson", "", "lånad av Göran Persson"],
         "2 of 2 values look like person_name"),
        ("ID", ["19811218-9876", "", ""], "1 of 1 values look like personnummer"),
        # A bare ten-digit number is a personnummer only with the header as its context.
        ("Personnr.", ["8112189876", "", ""], "the header names a personal identity number"),
        ("Kontaktnummer", ["070-123 45 67", "", ""], "1 of 1 values look like phone"),
    ],
)  # fmt: skip
def test_a_column_holding_personal_data_is_not_stored(station, batch_id, in_batch, header,
                                                      values, reason):  # fmt: skip
    rows = [[*row[:6], value] for row, value in zip(ROWS, values, strict=True)]
    result = in_batch(import_manifest, "l.csv", csv_bytes([*HEADER[:6], header], rows))
    (dropped,) = result.dropped
    assert (dropped["column"], dropped["reason"]) == (header, reason)
    # The same as codes and counts, for the return report's two languages.
    named = dropped["header_names"]
    assert named == (reason.removeprefix("the header names ") if named else None)
    assert sum(dropped["looks_like"].values()) == (0 if named else dropped["filled_cells"])
    assert all(header not in a.customer_fields for a in assets_of(station, batch_id))
    stored = station_bytes(station)
    for value in filter(None, values):  # neither in the database nor in the log
        assert value.encode() not in stored


def test_nothing_personal_reaches_the_database_the_log_or_the_result(station, batch_id, in_batch):
    result = in_batch(import_manifest, "l.xlsx", xlsx_bytes())
    text = json.dumps(result.__repr__()) + repr(result)
    stored = station_bytes(station)
    for value in PERSONAL_VALUES:
        assert value not in text
        assert value.encode() not in stored
    with station.session() as session:
        (event,) = [e for e in audit.batch_events(session, batch_id)
                    if e.event_type == "intake.imported"]  # fmt: skip
        assert event.payload["dropped_columns"][1] == {
            "column": "E-post",
            "reason": "the header names e-mail",
            "header_names": "e-mail",
            "looks_like": {},
            "filled_cells": 2,
        }


def test_english_headers_and_a_model_that_is_no_name(station, batch_id, in_batch):
    header = ["Asset Tag", "S/N", "Type", "Manufacturer", "Model", "Cost center"]
    rows = [["A-1", "SN-1", "Laptop", "Dell", "Latitude 5420", "CC-17"],
            ["A-2", "SN-2", "Phone", "Samsung", "Galaxy S21", "CC-18"]]  # fmt: skip
    result = in_batch(import_manifest, "assets.csv", csv_bytes(header, rows, delimiter=","))
    assert result.dropped == []
    assert result.kept == ["Cost center"]
    assert [a.model for a in assets_of(station, batch_id)] == ["Latitude 5420", "Galaxy S21"]


def test_reimporting_a_corrected_list_updates_without_duplicating(station, batch_id, in_batch):
    in_batch(import_manifest, "v1.csv", csv_bytes())
    in_batch(receive, "INV-0002")
    corrected = [
        [*ROWS[0][:4], "EliteBook 850 G5", *ROWS[0][5:]],  # the model was wrong
        # INV-0002 (received) and INV-0003 (untouched) are no longer on the list
        ["INV-0004", "NEW4", "Skärm", "Dell", "P2419H", "4410", "Hus A", "", ""],
    ]
    result = in_batch(import_manifest, "v2.xlsx", xlsx_bytes(HEADER, corrected))
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert (result.removed, result.unlisted) == (1, 1)
    rows = {a.asset_tag: a for a in assets_of(station, batch_id)}
    assert sorted(rows) == ["INV-0001", "INV-0002", "INV-0004"]
    assert rows["INV-0001"].model == "EliteBook 850 G5"
    assert not rows["INV-0002"].expected  # kept, as not on the list
    assert rows["INV-0002"].received
    again = in_batch(import_manifest, "v2.xlsx", xlsx_bytes(HEADER, corrected))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert len(assets_of(station, batch_id)) == 3
    with station.session() as session:
        assert len(list(session.scalars(select(Manifest)))) == 3  # every import is kept


def test_an_asset_scanned_before_the_list_named_it_becomes_listed(station, batch_id, in_batch):
    in_batch(receive, "c02xk0abjgh5")  # the serial, typed in lower case, before any list
    (early,) = assets_of(station, batch_id)
    assert not early.expected
    in_batch(import_manifest, "l.csv", csv_bytes())
    rows = assets_of(station, batch_id)
    assert len(rows) == 3
    listed = next(a for a in rows if a.id == early.id)
    assert (listed.asset_tag, listed.serial, listed.expected) == ("INV-0002", "C02XK0ABJGH5", True)
    assert listed.received


def test_personal_data_in_the_serial_column_refuses_the_whole_list(station, batch_id, in_batch):
    rows = [["INV-1", "anna.svensson@example.se", "Laptop"]]
    with pytest.raises(ManifestError) as caught:
        in_batch(
            import_manifest, "l.csv", csv_bytes(["Inventarienummer", "Serienummer", "Typ"], rows)
        )
    assert str(caught.value) == (
        "column 'Serienummer' (serial) has values that look like email; the list is refused: "
        "correct the file and import again"
    )
    assert "anna" not in str(caught.value)
    assert assets_of(station, batch_id) == []


def test_an_asset_named_twice_is_refused_with_both_rows(station, batch_id, in_batch):
    rows = [["INV-1", "A"], ["inv-1", "B"]]
    with pytest.raises(ManifestError, match=r"rows 2 and 3 both name tag 'inv-1'"):
        in_batch(import_manifest, "l.csv", csv_bytes(["Inventarienummer", "Serienummer"], rows))


def test_rows_without_tag_or_serial_are_skipped_and_named(station, batch_id, in_batch):
    rows = [["INV-1", "A", "x"], ["", "", "lös kabel"]]
    result = in_batch(
        import_manifest, "l.csv", csv_bytes(["Inventarienummer", "Serienummer", "Not"], rows)
    )
    assert (result.rows, result.skipped_rows) == (1, [3])


def test_a_list_without_tag_or_serial_column_says_what_it_expected(in_batch):
    with pytest.raises(ManifestError, match=r"no asset tag or serial column: .* has: Namn, Dator"):
        in_batch(import_manifest, "l.csv", csv_bytes(["Namn", "Dator"], [["x", "y"]]))


def test_a_closed_batch_takes_no_list(station, batch_id, in_batch):
    with station.session() as session:
        batches.close_batch(session, batches.find_batch(session, batch_id))
    with pytest.raises(BatchClosed):
        in_batch(import_manifest, "l.csv", csv_bytes())
