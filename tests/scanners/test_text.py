"""The text path: Presidio with our recognizers on a blank spaCy pipeline, offline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scanners.fastpath import RawMatcher
from scanners.findings import CATEGORIES, ValueHasher
from scanners.recognizers import ENTITY
from scanners.text import TextDetector

HASHER = ValueHasher(b"k" * 32)
TEXT = (
    "Hej! Kund: Anna Berg, personnummer 811218-9876, e-post anna.berg@example.se, "
    "tel 070-123 45 67. Besök https://www.example.co.uk/kontakt. "
    "Med vänliga hälsningar\nKarin Lindqvist\n"
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way out to the network raises, and is recorded."""
    attempts: list[str] = []

    def refuse(name: str):
        def blocked(*args: object, **kwargs: object) -> None:
            attempts.append(name)
            raise OSError(f"network blocked in test: {name}")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts


def test_builds_and_scans_with_the_network_blocked(no_network: list[str]) -> None:
    detector = TextDetector(HASHER)
    found = detector.scan(TEXT)
    assert [f.category for f in found] == [
        "person_name", "personnummer", "email", "phone", "person_name"
    ]  # fmt: skip
    assert detector.scan(TEXT, language="en") == found
    assert no_network == []


def test_blank_pipelines_no_model(no_network: list[str]) -> None:
    detector = TextDetector(HASHER)
    nlp = detector.analyzer.nlp_engine.nlp
    assert set(nlp) == {"sv", "en"}
    assert all(p.pipe_names == [] for p in nlp.values())  # tokenizer only: nothing was loaded
    assert no_network == []


def test_no_recognizer_that_fetches_suffix_lists() -> None:
    detector = TextDetector(HASHER)
    names = {r.name for r in detector.analyzer.registry.recognizers}
    # Presidio's own EmailRecognizer and UrlRecognizer validate through tldextract.
    assert "EmailRecognizer" in names  # ours, same name, no tldextract
    for r in detector.analyzer.registry.recognizers:
        assert type(r).__module__.startswith("scanners."), r


def test_offsets_are_characters_and_digests_match_the_raw_path() -> None:
    found = TextDetector(HASHER).scan(TEXT)
    pnr = next(f for f in found if f.category == "personnummer")
    assert TEXT[pnr.offset : pnr.offset + pnr.length] == "811218-9876"
    raw = RawMatcher(HASHER).scan(TEXT.encode("utf-16-le"))
    raw_pnr = next(f for f in raw if f.category == "personnummer")
    assert raw_pnr.digest == pnr.digest
    assert raw_pnr.confidence == pnr.confidence


def test_names_by_lexicon_and_by_cue() -> None:
    d = TextDetector(HASHER, categories=["person_name"])
    spans = lambda t: [t[f.offset : f.offset + f.length] for f in d.scan(t)]  # noqa: E731
    assert spans("Johan Eriksson ringde.") == ["Johan Eriksson"]
    assert spans("Anna Maria Berg kommer.") == ["Anna Maria Berg"]
    assert spans("Lindqvist, Karin skrev.") == ["Lindqvist, Karin"]
    assert spans("Kund: Xerxes Quorndal\n") == ["Xerxes Quorndal"]  # not in any lexicon
    assert spans("Mvh\nZorro Zetterbom") == ["Zorro Zetterbom"]
    assert spans("Anna ringde i går.") == []  # a first name alone is not reported
    assert spans("Per capita och Bo Stockholm.") == []


def test_category_filter_and_unknown_category() -> None:
    found = TextDetector(HASHER, categories=["email"]).scan(TEXT)
    assert [f.category for f in found] == ["email"]
    with pytest.raises(ValueError, match="nonsense"):
        TextDetector(HASHER, categories=["nonsense"])


def test_every_category_has_an_entity() -> None:
    assert set(ENTITY) == set(CATEGORIES)


CONTROL = """
import socket, sys
attempts = []
def blocked(*a, **k):
    attempts.append(1)
    raise OSError("blocked")
socket.socket.connect = blocked
socket.getaddrinfo = blocked
socket.create_connection = blocked
from scanners.findings import CATEGORIES, ValueHasher
from scanners.text import TextDetector
found = TextDetector(ValueHasher(b"k" * 32)).scan("mejl anna@example.se, www.example.co.uk")
ours = len(attempts)
if sys.argv[1] == "control":
    from presidio_analyzer.predefined_recognizers import EmailRecognizer
    EmailRecognizer().analyze("mejl anna@example.se", ["EMAIL_ADDRESS"])
print(len(found), ours, len(attempts) - ours)
"""


def test_fresh_process_with_empty_suffix_cache_never_connects(tmp_path: Path) -> None:
    """In a fresh process with an empty tldextract cache, we make no connection attempt; the
    control (Presidio's own EmailRecognizer) does, so the block would have caught one."""
    env = {**os.environ, "TLDEXTRACT_CACHE": str(tmp_path / "tld"), "HOME": str(tmp_path)}
    out = {}
    for mode in ("ours", "control"):
        proc = subprocess.run(
            [sys.executable, "-c", CONTROL, mode], capture_output=True, text=True, env=env,
            timeout=120, check=True,
        )  # fmt: skip
        out[mode] = proc.stdout.split()
    assert out["ours"] == ["1", "0", "0"]
    assert out["control"][:2] == ["1", "0"]
    assert int(out["control"][2]) > 0
