"""Canonical JSON: the one byte form that is hashed and signed.

Sorted keys, UTF-8 (no `\\u` escapes for printable characters), no insignificant whitespace,
no NaN or infinities. The parser is strict in the other direction: duplicate keys, NaN, a byte
order mark or invalid UTF-8 are refused, and `parse_canonical` also refuses any text that is
not byte-for-byte what `canonical_bytes` would write, so two different files can never carry the
same signed content.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from asset_pipeline.errors import InvalidDocument


def canonical_bytes(value: Any) -> bytes:
    """The canonical UTF-8 encoding of a JSON value.

    Raises:
        ValueError: the value holds NaN or infinity (or a lone surrogate).
        TypeError: the value holds a non-string key or a non-JSON type.
    """
    _check(value, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256, the digest form used throughout the evidence."""
    return hashlib.sha256(data).hexdigest()


def parse_strict(data: bytes, *, what: str = "document") -> Any:
    """Parse JSON bytes, refusing duplicate keys, NaN/Infinity and invalid UTF-8.

    Raises:
        InvalidDocument: the bytes are not strict JSON.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidDocument(f"{what} is not valid UTF-8 (byte {e.start})") from e
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise InvalidDocument(f"{what} is not valid JSON: {e.msg} at byte {e.pos}") from e
    except _Refused as e:
        raise InvalidDocument(f"{what} {e}") from e


def parse_canonical(data: bytes, *, what: str = "document") -> dict[str, Any]:
    """Parse a JSON object that must already be in canonical form.

    Raises:
        InvalidDocument: not strict JSON, not an object, or not canonical bytes.
    """
    value = parse_strict(data, what=what)
    if not isinstance(value, dict):
        raise InvalidDocument(f"{what} is not a JSON object")
    require_canonical(value, data, what=what)
    return value


def require_canonical(value: dict[str, Any], data: bytes, *, what: str = "document") -> None:
    """Check that `data`, already parsed into `value`, is exactly its canonical encoding.

    Raises:
        InvalidDocument: the bytes are not canonical.
    """
    try:
        again = canonical_bytes(value)
    except (ValueError, TypeError) as e:
        raise InvalidDocument(f"{what} cannot be canonicalized: {e}") from e
    if again != data:
        at = next((i for i, (a, b) in enumerate(zip(again, data, strict=False)) if a != b), None)
        at = min(len(again), len(data)) if at is None else at
        raise InvalidDocument(f"{what} is not in canonical form (differs at byte {at})")


class _Refused(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"has a duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _Refused(f"contains {name}, which is not JSON")


def _check(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}, which JSON cannot carry")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a non-string key {key!r}")
            _check(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise TypeError(f"{path} is a {type(value).__name__}, not a JSON value")
