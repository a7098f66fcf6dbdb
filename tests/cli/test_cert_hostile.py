"""`cert verify` on hostile input: one `Error:` line, exit 1, no traceback, bounded cost.

The bound: at most 16 MiB of a file is read (`verify.MAX_FILE_BYTES`), JSON nests at most
64 levels, integers are parsed up to Python's 4,300 digits and signed up to 2**53; each case
here takes well under a second of verification on top of the CLI's start-up.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest

from asset_pipeline.evidence.verify import MAX_FILE_BYTES
from asset_pipeline.station.context import Station
from asset_pipeline.station.keys import PUBLIC_KEY_NAME

_BODY = (
    b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
)
_XREF = len(_BODY)


def _looping_xref() -> bytes:
    """An xref section whose /Prev names itself: a naive reader follows it forever."""
    return _BODY + (
        b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
        b"trailer<</Size 3/Root 1 0 R/Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (_XREF, _XREF)
    )


def _huge_xref() -> bytes:
    """An xref section that claims 99,999,999 entries (a reader that allocates them dies)."""
    return _BODY + (
        b"xref\n0 99999999\n0000000000 65535 f \n"
        b"trailer<</Size 99999999/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % _XREF
    )


CASES = {
    "nested-10000": (lambda: b"[" * 10_000 + b"]" * 10_000, "nests deeper than 64 levels"),
    "object-nested-10000": (lambda: b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nests deeper"),
    "integer-5000-digits": (
        lambda: (
            b'{"schema":"asset-pipeline/certificate-of-sanitization","schema_version":3,'
            b'"n":' + b"9" * 5000 + b"}"
        ),
        "not valid JSON",
    ),
    "random-bytes": (lambda: bytes(range(256)) * 400, "not valid UTF-8"),
    "random-bytes-after-a-pdf-header": (
        lambda: b"%PDF-1.7\n" + os.urandom(200_000) + b"\n%%EOF\n",
        "PDF cannot be read",
    ),
    "looping-xref": (_looping_xref, "PDF cannot be read"),
    "huge-xref": (_huge_xref, "PDF cannot be read"),
}


@pytest.fixture
def public_key(station: Station) -> str:
    return str(station.data_dir / PUBLIC_KEY_NAME)


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_is_one_error_line(run_cli, public_key, tmp_path, case) -> None:
    make, message = CASES[case]
    path = tmp_path / "hostile"
    path.write_bytes(make())
    start = time.perf_counter()
    result = run_cli("cert", "verify", str(path), "--public-key", public_key)
    assert time.perf_counter() - start < 10
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # and no parser chatter
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_50_mb_file_is_refused_unread(run_cli, public_key, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB of zero bytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run_cli("cert", "verify", str(path), "--public-key", public_key)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path} is larger than {MAX_FILE_BYTES} bytes; not a certificate\n"
    )
    assert grown_mb < 40  # at most the 16 MiB bound was read, never the 50 MB
