"""Canonical JSON: one byte form, and a strict parser."""

from __future__ import annotations

import pytest

from asset_pipeline.errors import InvalidDocument
from asset_pipeline.evidence.canonical import canonical_bytes, parse_canonical, parse_strict


def test_canonical_form_is_sorted_compact_utf8() -> None:
    assert canonical_bytes({"b": [1, 2.5], "a": "Åre"}) == '{"a":"Åre","b":[1,2.5]}'.encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1,"a":2}', "duplicate key 'a'"),
        (b'{"a":NaN}', "NaN"),
        (b'{"a":"\xff"}', "not valid UTF-8"),
        (b'{"a":1', "not valid JSON"),
    ],
)
def test_strict_parser_refuses(data: bytes, message: str) -> None:
    with pytest.raises(InvalidDocument, match=message):
        parse_strict(data)


@pytest.mark.parametrize("data", [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":"\\u00e5"}', b'{"a":1}\n'])
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidDocument, match="canonical"):
        parse_canonical(data)


def test_nan_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="nan"):
        canonical_bytes({"x": float("nan")})
