"""The certificate catalogue: every message has Swedish, every page value has both languages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from evidence_fixtures import PRE_FINDINGS, load_device, scan_report, wipe_result

from asset_pipeline.evidence import batch_report, i18n, issuing
from asset_pipeline.evidence.i18n import Num, t
from asset_pipeline.evidence.layout import layout_of
from asset_pipeline.evidence.techniques import TECHNIQUES
from asset_pipeline.flow import destruction
from asset_pipeline.storage import batches

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "asset_pipeline" / "locale" / "sv" / "LC_MESSAGES" / "asset_pipeline.po"
# Values that read the same in both languages on purpose.
SAME = {"Organisation", "Destination", "WWN, firmware", "Security erase (normal)", "Format unit",
        "Method (NIST SP 800-88 Rev. 2)", "{method}, {interface}: {technique} ({command})",
        "{opened} – {closed}", "Status"}  # fmt: skip


def _extracted() -> set[str]:
    found = extract_from_dir(
        ROOT / "asset_pipeline", method_map=[("**.py", "python")], keywords={"t": None, "N_": None}
    )
    return {message for _, _, message, _, _ in found}


def test_every_message_in_the_code_has_a_swedish_translation() -> None:
    with PO.open("rb") as f:
        catalogue = {str(m.id): m for m in read_po(f) if m.id}
    used = _extracted()
    assert len(used) > 150
    missing = sorted(m for m in used if m not in catalogue or not catalogue[m].string)
    fuzzy = sorted(m for m in used if m in catalogue and catalogue[m].fuzzy)
    assert missing == []
    assert fuzzy == []
    untranslated = sorted(m for m in used if catalogue[m].string == m and m not in SAME)
    assert untranslated == []
    assert sorted(set(catalogue) - used) == []  # no stale entries


def test_technique_names_are_catalogue_messages() -> None:
    assert {x.technique for x in TECHNIQUES.values()} <= _extracted()


def test_catalogue_compiles_at_run_time_and_numbers_follow_the_language() -> None:
    i18n.translations.cache_clear()
    text = t("{gb} GB ({bytes} bytes)", gb=Num(1_000.204886016, 2), bytes=1_000_204_886_016)
    assert text.sv == "1\xa0000,20 GB (1\xa0000\xa0204\xa0886\xa0016 byte)"
    assert text.en == "1,000.20 GB (1,000,204,886,016 bytes)"
    assert not i18n.compile_po(PO).startswith(b"%")  # a real .mo, built by Babel


def test_both_languages_for_every_field_on_every_page(station, add_device) -> None:
    ids = [add_device(), add_device(state="failed")]
    with station.session() as session:
        san = issuing.issue_sanitization_certificate(
            session, station, load_device(session, ids[0]), wipe_result=wipe_result(),
            pre_scan=scan_report(PRE_FINDINGS), post_scan=scan_report(),
        )  # fmt: skip
        des = destruction.record_destruction(
            session, station, load_device(session, ids[1]), method="crush",
            destroyed_on=date.today(), witness="Lena Berg",
        )  # fmt: skip
        rpt = batch_report.issue_batch_report(session, station, batches.find_batch(session, 1))
    for signed in (san.signed, des.signed, rpt.signed):
        page = layout_of(signed)
        assert page.title.sv != page.title.en
        for section in page.sections:
            assert section.title.sv != section.title.en or section.title.sv in SAME
            for row in section.rows:
                for text in (row.label, row.value):
                    assert text.sv.strip(), (section.title, row)
                    assert text.en.strip(), (section.title, row)
                # A translated label is translated; a translated value too (a name or number
                # is the same in both, and has no English words in its Swedish side).
                assert row.label.sv != row.label.en or row.label.en in SAME, row.label
        for text in page.closing:
            assert text.sv.strip()
            assert text.en.strip()
    sanitization = layout_of(san.signed)
    values: dict[str, object] = {}
    for section in sanitization.sections:
        for r in section.rows:
            values.setdefault(str(r.label), r.value)  # the first step, not the last
    assert values["Metod (NIST SP 800-88 Rev. 2) / Method (NIST SP 800-88 Rev. 2)"].sv == (
        "Clear (rensning)"
    )
    step = values["Steg / Step"]
    assert step.sv.startswith("Omgång 1 av 2: slumpdata (AES-256-CTR-nyckelström) skrevs över")
    assert " GB med 610,9 MB/s på 27,29 minuter" in step.sv
    assert step.en.startswith("Pass 1 of 2: random data (AES-256-CTR keystream) written over")
    assert " GB at 610.9 MB/s in 27.29 minutes" in step.en
    assert "bytes_written=" not in step.sv + step.en  # no raw dump any more
