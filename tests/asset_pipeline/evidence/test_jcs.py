"""Signed documents are RFC 8785 (JCS): checked with an independent implementation, OpenSSL and jq.

An auditor re-serialising a certificate with `jq -S -c` turned `1.0` into `1`, and the signature
over Python's own float format failed; in RFC 8785 both are `1`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import rfc8785
from evidence_fixtures import legacy_signed, load_device, scan_report, wipe_result
from hypothesis import given, settings
from hypothesis import strategies as st

from asset_pipeline.errors import InvalidDocument
from asset_pipeline.evidence import issuing
from asset_pipeline.evidence.canonical import jcs_bytes
from asset_pipeline.evidence.signing import read_document, sign_document
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.station.context import Station
from asset_pipeline.station.keys import PUBLIC_KEY_NAME

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value=JSON_VALUES)
def test_our_encoding_is_the_rfc8785_package_s(value) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(ValueError):  # a lone surrogate: neither writes it
            jcs_bytes(value)
        return
    assert jcs_bytes(value) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.000001, "0.000001"), (-0.0, "0"),
     (123456789012345680000.0, "123456789012345680000"), (5e-324, "5e-324")],
)  # fmt: skip
def test_numbers_are_written_as_ecmascript_writes_them(value: float, text: str) -> None:
    assert jcs_bytes(value) == text.encode()


def test_integers_beyond_2_to_the_53_cannot_be_signed() -> None:
    with pytest.raises(ValueError, match="2\\*\\*53"):
        jcs_bytes({"bytes": 2**53})


@pytest.fixture
def issued(station: Station, add_device) -> issuing.IssuedCertificate:
    with station.session() as session:
        return issuing.issue_sanitization_certificate(
            session,
            station,
            load_device(session, add_device()),
            wipe_result=wipe_result(),
            pre_scan=None,
            post_scan=scan_report(),
        )


def _with_float(issued: issuing.IssuedCertificate, station: Station):  # noqa: ANN202
    """The certificate with a float that Python writes as `1.0`, re-signed."""
    doc = {k: v for k, v in issued.signed.document.items() if k != "signature"}
    doc["verification"]["coverage"] = 1.0  # a whole-device read-back
    return sign_document(doc, station.key)


def test_the_signature_covers_what_rfc8785_writes(issued, station: Station) -> None:
    signed = _with_float(issued, station)
    unsigned = {k: v for k, v in signed.document.items() if k != "signature"}
    assert signed.document["canonicalization"] == "RFC8785"
    assert signed.signed_bytes == rfc8785.dumps(unsigned)
    assert signed.data == rfc8785.dumps(signed.document)  # the file itself
    assert b'"coverage":1,' in signed.data


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_openssl_verifies_the_signature(issued, station: Station, tmp_path: Path) -> None:
    signed = _with_float(issued, station)
    unsigned = {k: v for k, v in signed.document.items() if k != "signature"}
    (tmp_path / "canonical.bin").write_bytes(rfc8785.dumps(unsigned))  # not our own encoder
    (tmp_path / "sig.bin").write_bytes(bytes.fromhex(signed.document["signature"]["value"]))
    pub = station.data_dir / PUBLIC_KEY_NAME

    def openssl(data: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", str(pub),
             "-in", str(tmp_path / data), "-sigfile", str(tmp_path / "sig.bin")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    ok = openssl("canonical.bin")
    assert ok.returncode == 0, ok.stderr
    assert "Signature Verified Successfully" in ok.stdout
    (tmp_path / "changed.bin").write_bytes(rfc8785.dumps({**unsigned, "notes": ["x"]}))
    assert openssl("changed.bin").returncode != 0


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
def test_a_jq_reserialised_certificate_still_verifies(issued, station, tmp_path) -> None:
    signed = _with_float(issued, station)
    source = tmp_path / "cert.json"
    # As the auditor did: pretty-printed for reading, then back with `jq -S -c`.
    source.write_text(json.dumps(json.loads(signed.data), indent=2, ensure_ascii=False))
    pretty = subprocess.run(["jq", ".", str(source)], capture_output=True, check=True).stdout
    again = subprocess.run(["jq", "-S", "-c"], input=pretty, capture_output=True, check=True)
    assert b'"coverage":1,' in again.stdout
    report = verify_bytes(again.stdout, station.key.public_key)
    assert report.ok, report.failure
    assert report.sha256 == signed.sha256


def test_a_certificate_in_the_old_encoding_still_verifies(issued, station: Station) -> None:
    old = legacy_signed(_with_float(issued, station).document, station.key)
    assert b'"coverage":1.0,' in old.data  # Python's float format, as releases before wrote it
    assert verify_bytes(old.data, station.key.public_key).ok
    tampered = old.data.replace(b'"coverage":1.0,', b'"coverage":0.5,')
    assert not verify_bytes(tampered, station.key.public_key).ok


def test_the_encoding_mark_is_signed_and_checked(issued, station: Station) -> None:
    data = issued.signed.data
    with pytest.raises(InvalidDocument, match="signed in RFC 8785 but does not say so"):
        read_document(data.replace(b'"canonicalization":"RFC8785",', b""))
    with pytest.raises(InvalidDocument, match="unknown canonicalization 'RFC8786'"):
        read_document(data.replace(b'"RFC8785"', b'"RFC8786"'))
    # Claiming the old schema (and so the old encoding) changes signed content.
    older = data.replace(b'"canonicalization":"RFC8785",', b"").replace(
        b'"schema_version":3', b'"schema_version":2'
    )
    report = verify_bytes(older, station.key.public_key)
    assert "altered" in report.failure
