"""The text path: Presidio with our recognizers over extracted document text, fully offline.

Presidio's default NLP engine loads (and downloads) a spaCy model by name. Ours builds the pipeline
locally with `spacy.blank(lang)` (a tokenizer, no weights, no download), or loads a pipeline
directory given by path, and never touches the network. Presidio's own e-mail recognizer is not
registered: it validates through tldextract, which fetches the public suffix list on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

from scanners.findings import CATEGORIES, Finding, ValueHasher
from scanners.recognizers import CATEGORY, ENTITY, recognizers

log = logging.getLogger(__name__)

# When two categories claim overlapping text, the earlier one wins (same order as the fast path:
# a personnummer is not also a phone number).
_PRIORITY = {
    c: i
    for i, c in enumerate(
        ("personnummer", "samordningsnummer", "organisationsnummer", "payment_card", "iban",
         "email", "phone", "ip_address", "postal_address", "bankgiro", "plusgiro", "person_name")
    )
}  # fmt: skip


def _without_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """In text order, keep a result unless it starts inside one already kept.

    At one start the category earlier in `_PRIORITY` wins, as in the fast path, where the first
    kind that accepts a candidate covers its span.
    """
    kept: list[RecognizerResult] = []
    covered = -1
    for r in sorted(results, key=lambda r: (r.start, _PRIORITY[CATEGORY[r.entity_type]], -r.score)):
        if r.start >= covered:
            kept.append(r)
            covered = r.end
    return kept


class LocalSpacyNlpEngine(SpacyNlpEngine):
    """A Presidio NLP engine over locally built spaCy pipelines: never downloads a model.

    Args:
        languages: one blank pipeline per language code (`spacy.blank`), unless
        pipelines: maps a language code to a pipeline directory to load instead (a model shipped
            as files, given by path).
    """

    def __init__(self, languages: Iterable[str], pipelines: dict[str, Path] | None = None) -> None:
        self._languages = tuple(languages)
        self._pipelines = dict(pipelines or {})
        super().__init__(
            models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in self._languages],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=[]),
        )

    def load(self) -> None:
        """Build each pipeline locally; no `spacy.load` by package name, so no download."""
        self.nlp = {}
        for lang in self._languages:
            path = self._pipelines.get(lang)
            self.nlp[lang] = spacy.load(path) if path is not None else spacy.blank(lang)


class TextDetector:
    """Finds personal data in document text with Presidio and our recognizers.

    Args:
        hasher: keys the digests of found values.
        languages: Presidio language codes to register the recognizers for ("sv", "en").
        categories: the categories to report; None means all of `CATEGORIES`.
        min_confidence: findings below this confidence are dropped.
        pipelines: optional spaCy pipeline directories by language, instead of blank ones.
    """

    def __init__(
        self,
        hasher: ValueHasher,
        languages: Iterable[str] = ("sv", "en"),
        *,
        categories: Iterable[str] | None = None,
        min_confidence: float = 0.5,
        pipelines: dict[str, Path] | None = None,
    ) -> None:
        self.languages = tuple(languages)
        wanted = tuple(CATEGORIES if categories is None else categories)
        unknown = set(wanted) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"TextDetector cannot detect: {', '.join(sorted(unknown))}")
        self._entities = [ENTITY[c] for c in wanted]
        self._hasher = hasher
        self.min_confidence = min_confidence
        registry = RecognizerRegistry(supported_languages=list(self.languages))
        for lang in self.languages:
            for recognizer in recognizers(lang):
                registry.add_recognizer(recognizer)
        self.analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=LocalSpacyNlpEngine(self.languages, pipelines),
            supported_languages=list(self.languages),
        )

    def analyze(self, text: str, language: str | None = None) -> list[RecognizerResult]:
        """Presidio's raw results (they hold the normalized value in their metadata)."""
        return self.analyzer.analyze(
            text=text, language=language or self.languages[0], entities=self._entities
        )

    def scan(self, text: str, language: str | None = None) -> list[Finding]:
        """Findings in `text` with character offsets, one per value, sorted by offset."""
        results = [r for r in self.analyze(text, language) if r.score >= self.min_confidence]
        taken = _without_overlaps(results)
        return [
            Finding(
                CATEGORY[r.entity_type],
                r.start,
                r.end - r.start,
                round(r.score, 3),
                self._hasher.digest(r.recognition_metadata["normalized"]),
            )
            for r in taken
        ]
