"""Presidio recognizers for our categories, built on the same patterns and rules as the fast path.

Each recognizer runs the `scanners.patterns` kinds of one family as `str` regexes over document
text and lets `scanners.rules` decide, so Presidio and the raw path agree on every value. The
normalized value travels in `recognition_metadata` (in memory only) so `TextDetector` can hash it.
Context comes from `scanners.context` (keyword windows), since a blank spaCy pipeline has no
lemmas for Presidio's own context enhancer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from presidio_analyzer import EntityRecognizer, RecognizerResult

from scanners.names import find_names
from scanners.patterns import KINDS, Kind
from scanners.rules import PRODUCES, RULE_AFTER, RULE_BEFORE, RULES

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

# Presidio entity name of each category (Presidio's convention is upper case).
ENTITY = {
    "personnummer": "SE_PERSONNUMMER",
    "samordningsnummer": "SE_SAMORDNINGSNUMMER",
    "organisationsnummer": "SE_ORGANISATIONSNUMMER",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "postal_address": "SE_POSTAL_ADDRESS",
    "iban": "IBAN_CODE",
    "bankgiro": "SE_BANKGIRO",
    "plusgiro": "SE_PLUSGIRO",
    "payment_card": "CREDIT_CARD",
    "ip_address": "IP_ADDRESS",
    "person_name": "PERSON",
}
CATEGORY = {entity: category for category, entity in ENTITY.items()}

# Recognizer name -> the pattern kinds it runs.
FAMILIES = {
    "SwedishIdRecognizer": ("pnr_form", "dig10", "vat"),
    "PaymentCardRecognizer": ("card",),
    "SwedishPhoneRecognizer": ("phone_intl", "phone_nat"),
    "IbanRecognizer": ("iban",),
    "EmailRecognizer": ("email",),
    "IpRecognizer": ("ipv4", "ipv6"),
    "SwedishAddressRecognizer": ("postal",),
    "GiroRecognizer": ("bankgiro", "plusgiro"),
}


def _text_regex(kind: Kind) -> re.Pattern[str]:
    behind = f"(?<![{kind.lead}])" if kind.lead else ""
    return re.compile(f"{behind}{kind.core}(?={kind.after_16 or kind.after})")


class RuleRecognizer(EntityRecognizer):
    """Runs some pattern kinds over text and keeps what `scanners.rules` accepts."""

    def __init__(self, name: str, kinds: tuple[str, ...], language: str) -> None:
        self._kinds = [(k.name, _text_regex(k)) for k in KINDS if k.name in kinds]
        entities = sorted({ENTITY[c] for k in kinds for c in PRODUCES[k]})
        super().__init__(supported_entities=entities, name=name, supported_language=language)

    def load(self) -> None:
        """Nothing to load: the patterns are compiled in the constructor."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Validated values of this recognizer's kinds in `text`."""
        results = []
        for name, pattern in self._kinds:
            rule = RULES[name]
            for m in pattern.finditer(text):
                start, end = m.span()
                d = rule(
                    m.group(0),
                    text[max(0, start - RULE_BEFORE) : start],
                    text[end : end + RULE_AFTER],
                )
                if d is None or ENTITY[d.category] not in entities:
                    continue
                results.append(
                    RecognizerResult(
                        ENTITY[d.category],
                        start + d.start,
                        start + d.stop,
                        d.confidence,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                            "normalized": d.normalized,
                        },
                    )
                )
        return results


class SwedishNameRecognizer(EntityRecognizer):
    """Person names from the Swedish lexicons and rules in `scanners.names` (no NER model)."""

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entities=["PERSON"], name="SwedishNameRecognizer", supported_language=language
        )

    def load(self) -> None:
        """Nothing to load: the lexicons load with `scanners.names`."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Names found by the lexicon rules."""
        if "PERSON" not in entities:
            return []
        return [
            RecognizerResult(
                "PERSON",
                n.start,
                n.end,
                n.confidence,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    "normalized": n.normalized,
                },
            )
            for n in find_names(text)
        ]


def recognizers(language: str) -> list[EntityRecognizer]:
    """Our full recognizer set for one Presidio language code."""
    found: list[EntityRecognizer] = [
        RuleRecognizer(name, kinds, language) for name, kinds in FAMILIES.items()
    ]
    found.append(SwedishNameRecognizer(language))
    return found
