"""Swedish and English for every value on certificates and reports, from one gettext catalogue.

The message ids are the English texts; `asset_pipeline/locale/sv/LC_MESSAGES/asset_pipeline.po`
holds the Swedish. Babel compiles the `.po` to a `.mo` the first time a language is needed (in
memory, no network, no build step); a `.mo` compiled beside it at build time is used as is
when it is newer. `t(msgid, **values)` gives both languages at once, because every page shows
both; numbers are formatted per language by Babel (`1 234,5` and `1,234.5`).

Message ids are marked for extraction by calling `t(...)` or `N_(...)` with a literal; a test
extracts them with Babel and requires a Swedish translation for each one.
"""

from __future__ import annotations

import gettext
import io
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

log = logging.getLogger(__name__)

DOMAIN = "asset_pipeline"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("sv", "en")
BABEL_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


@dataclass(frozen=True, slots=True)
class Text:
    """One value in both languages."""

    sv: str
    en: str

    @property
    def same(self) -> bool:
        """True when both languages read the same (an id, a name, a number without decimals)."""
        return self.sv == self.en

    def lines(self) -> list[str]:
        """What the page prints: one line when both are the same, else Swedish then English."""
        return [self.sv] if self.same else [self.sv, self.en]

    def __str__(self) -> str:
        return self.sv if self.same else f"{self.sv} / {self.en}"


@dataclass(frozen=True, slots=True)
class Num:
    """A number printed with `digits` decimals in each language's own way."""

    value: float
    digits: int = 1

    def format(self, language: str) -> str:
        """`1 234,5` in Swedish, `1,234.5` in English."""
        pattern = "#,##0" + ("." + "0" * self.digits if self.digits else "")
        return format_decimal(self.value, format=pattern, locale=BABEL_LOCALES[language])


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate"
    """Mark a literal as a catalogue message without translating it here."""
    return msgid


def plain(value: Any) -> Text:
    """A language-neutral value (id, name, serial number): the same in both languages."""
    text = "-" if value is None or value == "" else str(value)
    return Text(text, text)


def t(msgid: str, **values: Any) -> Text:
    """`msgid` in Swedish and English, with `{placeholders}` filled in per language.

    A value may be a `Text` (its language's side is used), a `Num`, an int (grouped digits)
    or anything else (printed as is).
    """
    sv = translations("sv").gettext(msgid)
    if sv == msgid and msgid not in _catalogue_ids("sv"):
        log.warning("no Swedish translation for %r", msgid)
    return Text(sv.format(**_localized(values, "sv")), msgid.format(**_localized(values, "en")))


def join(parts: list[Text], separator: str = ", ") -> Text:
    """Several texts joined per language."""
    return Text(separator.join(p.sv for p in parts), separator.join(p.en for p in parts))


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language` (English is the message ids themselves)."""
    if language == "en":
        return gettext.NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    return gettext.GNUTranslations(io.BytesIO(compile_po(po)))


def compile_po(po: Path) -> bytes:
    """The `.mo` bytes of a `.po` file, compiled by Babel (fuzzy entries left out)."""
    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


@cache
def _catalogue_ids(language: str) -> frozenset[str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return frozenset(str(m.id) for m in read_po(f) if m.id and m.string)


def _localized(values: dict[str, Any], language: str) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if isinstance(value, Text):
            out[key] = getattr(value, language)
        elif isinstance(value, Num):
            out[key] = value.format(language)
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = Num(value, 0).format(language)
        else:
            out[key] = str(value)
    return out
