"""Canonical JSON: the one byte form that is hashed and signed.

Two encodings. Signed documents use RFC 8785, the JSON Canonicalization Scheme (`jcs_bytes`):
keys sorted by UTF-16 code units, numbers written as ECMAScript writes an IEEE double (so
`1.0` is `1` and any JCS implementation, or `jq -S -c`, writes the same bytes), minimal
string escapes, UTF-8, no whitespace. A document says so inside its signed part,
`"canonicalization": "RFC8785"`; one without that field was issued in the older encoding
(`canonical_bytes`: Python's sorted keys, compact, `ensure_ascii=False`), which the audit log's
event hashes still use and which old certificates are verified in (`document_bytes` picks).

The parser is strict in the other direction: duplicate keys, NaN, a byte order mark, invalid
UTF-8, nesting deeper than `MAX_DEPTH` or input larger than `MAX_DOCUMENT_BYTES` are refused,
and `parse_canonical` also refuses any text that is not byte-for-byte its own encoding, so two
different files can never carry the same signed content.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from asset_pipeline.errors import InvalidDocument

CANONICALIZATION = "canonicalization"  # the field that names a document's encoding
RFC8785 = "RFC8785"
# Evidence documents nest 6 levels; a deeper one is hostile (a 10,000-deep array would exhaust
# the stack of a recursive parser or encoder). Certificates are ~10 KB and a batch report of
# 1,000 devices ~1 MB: 16 MiB bounds the memory one verification can be made to use.
MAX_DEPTH = 64
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
# RFC 8785 numbers are IEEE doubles: larger integers would not survive another implementation.
MAX_SAFE_INTEGER = 2**53 - 1


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


def jcs_bytes(value: Any) -> bytes:
    """The RFC 8785 (JCS) encoding of a JSON value.

    Raises:
        ValueError: NaN or infinity, an integer beyond +-(2**53 - 1), a lone surrogate, or
            nesting deeper than `MAX_DEPTH`.
        TypeError: a non-string key or a non-JSON type.
    """
    out: list[str] = []
    _jcs(value, out, 0)
    return "".join(out).encode("utf-8")  # a lone surrogate raises UnicodeEncodeError here


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """A document's canonical bytes in the encoding it names (RFC 8785, or the older one).

    Raises:
        ValueError: the document names an unknown encoding, or cannot be encoded.
        TypeError: the document holds a non-JSON value.
    """
    encoding = document.get(CANONICALIZATION)
    if encoding is None:
        return canonical_bytes(document)
    if encoding == RFC8785:
        return jcs_bytes(document)
    raise ValueError(f"unknown canonicalization {str(encoding)[:40]!r}")


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256, the digest form used throughout the evidence."""
    return hashlib.sha256(data).hexdigest()


def parse_strict(data: bytes, *, what: str = "document") -> Any:
    """Parse JSON bytes, refusing duplicate keys, NaN/Infinity and invalid UTF-8.

    Raises:
        InvalidDocument: the bytes are not strict JSON, are larger than `MAX_DOCUMENT_BYTES`,
            or nest deeper than `MAX_DEPTH`.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidDocument(f"{what} is {len(data)} bytes; at most {MAX_DOCUMENT_BYTES} are read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidDocument(f"{what} is not valid UTF-8 (byte {e.start})") from e
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise InvalidDocument(f"{what} is not valid JSON: {e.msg} at byte {e.pos}") from e
    except _Refused as e:
        raise InvalidDocument(f"{what} {e}") from e
    except RecursionError as e:
        raise InvalidDocument(f"{what} nests deeper than {MAX_DEPTH} levels") from e
    except ValueError as e:  # an integer longer than Python's 4300-digit conversion limit
        raise InvalidDocument(f"{what} is not valid JSON: {str(e)[:80]}") from e
    _require_depth(value, what)
    return value


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

    The encoding is the one the document names (see `document_bytes`).

    Raises:
        InvalidDocument: the bytes are not canonical.
    """
    try:
        again = document_bytes(value)
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


def _require_depth(value: Any, what: str) -> None:
    """Refuse nesting deeper than `MAX_DEPTH` (iteratively: the walk itself cannot overflow)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidDocument(f"{what} nests deeper than {MAX_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _jcs(value: Any, out: list[str], depth: int) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"an integer of {value.bit_length()} bits is beyond 2**53 (JCS)")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_es_number(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))  # the same escapes as RFC 8785 §3.2.2.2
    elif depth >= MAX_DEPTH:
        raise ValueError(f"value nests deeper than {MAX_DEPTH} levels")
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"non-string key {key!r}")
        out.append("{")
        # RFC 8785 §3.2.3: property names sorted by their UTF-16 code units.
        for i, key in enumerate(sorted(value, key=_utf16)):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _jcs(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _jcs(item, out, depth + 1)
        out.append("]")
    else:
        raise TypeError(f"a {type(value).__name__} is not a JSON value")


def _es_number(value: float) -> str:
    """An IEEE double as ECMAScript's Number.prototype.toString writes it (RFC 8785 §3.2.2.3)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a JSON number")
    if value == 0:
        return "0"  # also -0
    if value < 0:
        return "-" + _es_number(-value)
    # repr() is the shortest text that round-trips (as ECMAScript requires); take its digits.
    _, digits_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple))
    k, n = len(digits), int(exponent) + len(digits)  # value = 0.digits * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")
