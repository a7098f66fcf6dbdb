"""What the verification page says about each check, in plain Swedish and English.

The checks come from `evidence.verify` (and the page's own: the key registry and the stored
copy); their `detail` is technical English for an auditor, so each check also gets one sentence
per language for everyone else. A check this catalogue does not know yet (the evidence layer
grows) is still shown, under its own name.
"""

from __future__ import annotations

from dataclasses import dataclass

STATUS = {
    "ok": ("Godkänd", "Passed"),
    "failed": ("Underkänd", "Failed"),
    "skipped": ("Ej kontrollerad", "Not checked"),
}

# check name -> (Swedish title, English title), then status -> (Swedish, English) sentences.
TITLES = {
    "format": ("Filen", "The file"),
    "key": ("Stationens nyckel", "The station's key"),
    "signature": ("Signaturen", "The signature"),
    "pdf": ("PDF-filen", "The PDF file"),
    "pdf_signature": ("PDF-signaturen", "The PDF signature"),
    "log": ("Loggutdraget", "The signed log head"),
    "audit": ("Händelseloggen", "The processing log"),
    "stored": ("Verkstadens kopia", "The workshop's copy"),
}
SENTENCES = {
    ("format", "failed"): (
        "Filen kan inte läsas som ett signerat certifikat eller en signerad rapport.",
        "The file cannot be read as a signed certificate or report.",
    ),
    ("key", "ok"): (
        "Dokumentet är signerat med en nyckel som är registrerad för en av verkstadens stationer.",
        "The document is signed with a key registered to one of the workshop's stations.",
    ),
    ("key", "failed"): (
        "Nyckeln som signerade dokumentet är inte en giltig nyckel för verkstadens stationer.",
        "The key that signed the document is not a valid key of the workshop's stations.",
    ),
    ("signature", "ok"): (
        "Signaturen stämmer: dokumentet har inte ändrats sedan stationen signerade det.",
        "The signature matches: the document has not been changed since the station signed it.",
    ),
    ("signature", "failed"): (
        "Signaturen stämmer inte: dokumentet har ändrats efter att det signerades.",
        "The signature does not match: the document was changed after it was signed.",
    ),
    ("pdf", "ok"): (
        "PDF-filens QR-kod och tryckta kontrollsumma hör till den bifogade signerade filen.",
        "The PDF's QR code and printed checksum belong to the attached signed file.",
    ),
    ("pdf", "failed"): (
        "PDF-filen stämmer inte med den signerade filen som är bifogad i den.",
        "The PDF does not match the signed file attached to it.",
    ),
    ("pdf_signature", "ok"): (
        "PDF-filen är signerad av stationen och har inte ändrats efter signeringen.",
        "The PDF is signed by the station and was not changed after signing.",
    ),
    ("pdf_signature", "failed"): (
        "PDF-filen har ändrats efter signeringen, eller är inte signerad av stationen.",
        "The PDF was changed after signing, or is not signed by the station.",
    ),
    ("pdf_signature", "skipped"): (
        "Intyget utfärdades innan PDF-filerna signerades.",
        "The certificate was issued before PDF files were signed.",
    ),
    ("log", "ok"): (
        "Dokumentet bär ett av stationen signerat utdrag ur loggen som innehåller dess händelse.",
        "The document carries a log head signed by the station that includes its event.",
    ),
    ("log", "failed"): (
        "Dokumentets signerade loggutdrag stämmer inte.",
        "The document's signed log head does not hold.",
    ),
    ("log", "skipped"): (
        "Dokumentet utfärdades innan loggen fick signerade utdrag.",
        "The document was issued before the log had signed heads.",
    ),
    ("audit", "ok"): (
        "Händelseloggen innehåller dokumentets avslutande händelse och är obruten fram till den.",
        "The processing log holds the document's closing event and is unbroken up to it.",
    ),
    ("audit", "failed"): (
        "Händelseloggen innehåller inte dokumentets händelse, eller har ändrats.",
        "The processing log does not hold the document's event, or it was changed.",
    ),
    ("audit", "skipped"): (
        "Händelseloggen kunde inte kontrolleras här.",
        "The processing log could not be checked here.",
    ),
    ("stored", "ok"): (
        "Verkstadens databas har exakt detta dokument.",
        "The workshop's database holds exactly this document.",
    ),
    ("stored", "failed"): (
        "Verkstadens databas har inte detta dokument, eller har ett annat under samma nummer.",
        "The workshop's database does not hold this document, or holds another under its id.",
    ),
}


# What each kind of signed document is called on the page.
KINDS = {
    "sanitization": "Intyg om sanering / Certificate of sanitization",
    "destruction": "Intyg om förstöring / Certificate of destruction",
    "batch_report": "Partirapport / Batch report",
    "return_report": "Returrapport / Return report",
}


def kind_name(kind: str) -> str:
    """A document kind in words (its code when this catalogue does not know it)."""
    return KINDS.get(kind, kind)


@dataclass(frozen=True, slots=True)
class CheckText:
    """One check as the page shows it."""

    name: str
    status: str
    title_sv: str
    title_en: str
    status_sv: str
    status_en: str
    text_sv: str
    text_en: str
    detail: str


def describe(name: str, status: str, detail: str) -> CheckText:
    """The page's wording for one check's verdict."""
    title_sv, title_en = TITLES.get(name, (f"Kontroll {name}", f"Check {name}"))
    status_sv, status_en = STATUS.get(status, (status, status))
    text_sv, text_en = SENTENCES.get((name, status), ("", ""))
    return CheckText(name, status, title_sv, title_en, status_sv, status_en, text_sv, text_en,
                     detail)  # fmt: skip
