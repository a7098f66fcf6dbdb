"""Every cut-off is reported: deleted containers the raw pass inflates, PDF filters, bombs, UTF-32.

Deleted files are written to an ext4 image and unlinked with debugfs, so only the raw pass can see
them. What a limit cuts must come back as a `not_scannable` entry, never as a silent clean.
"""

from __future__ import annotations

import gzip
import io
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from scanners.inflate import Limits, cut_reason
from scanners.raw import RawOptions
from scanners.scan import ScanOptions, scan
from tests.scanners.documents import personnummer
from tests.scanners.images import MiB, Volume, build_disk, delete_ext4, make_fs

RAW = ScanOptions(passes=("raw",))


def _deleted(tmp_path: Path, name: str, content: bytes, size: int = 32 * MiB) -> Path:
    """A GPT disk whose ext4 partition held `name` (with `content`), now deleted."""
    src = tmp_path / f"{name}-src"
    src.mkdir()
    (src / name).write_bytes(content)
    fs = make_fs("ext4", tmp_path / f"{name}.fs", size, src)
    delete_ext4(fs, f"/{name}")
    disk = tmp_path / f"{name}.img"
    build_disk(disk, "gpt", [Volume("ext4", size, image=fs)])
    return disk


def _nested_zip(depth: int, payload: bytes) -> bytes:
    data = payload
    name = "kunder.txt"
    for level in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name, data)
        data, name = buf.getvalue(), f"level{level}.zip"
    return data


def _reasons(report) -> list[str]:
    return [u.reason for u in report.not_scannable]


PNR = f"Kund personnummer {personnummer(7)}\n".encode()


def test_deleted_zip_nested_five_deep_is_found(tmp_path: Path, hasher) -> None:
    disk = _deleted(tmp_path, "backup.zip", _nested_zip(5, PNR))
    report = scan(disk, hasher, RAW)
    assert report.findings["personnummer"].count == 1
    assert report.not_scannable == ()


def test_deleted_zip_nested_past_the_depth_limit_is_reported(tmp_path: Path, hasher) -> None:
    disk = _deleted(tmp_path, "deep.zip", _nested_zip(12, PNR))
    report = scan(disk, hasher, RAW)
    assert report.findings["personnummer"].count == 0
    assert _reasons(report) == ["compressed streams nested deeper than 8; not read"]


def _xlsx(rows: int, tail: bytes) -> bytes:
    cells = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i * 7) for i in range(1, rows)
    )
    sheet = b"<worksheet><sheetData>" + cells + tail + b"</sheetData></worksheet>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def test_deleted_large_xlsx_past_the_held_limit_is_read_to_its_end(tmp_path: Path, hasher) -> None:
    # As a 500 MB sheet against the 16 MiB default: the limit here is 1 MiB, the sheet 4 MB.
    # Past the held part the sheet is matched as it inflates (XML compresses under 32 times).
    tail = b"<row><c><is><t>" + PNR + b"</t></is></c></row>"
    disk = _deleted(tmp_path, "stor.xlsx", _xlsx(100_000, tail))
    limits = Limits(max_output=1 * MiB)
    report = scan(disk, hasher, ScanOptions(passes=("raw",), raw=RawOptions(limits=limits)))
    assert report.findings["personnummer"].count == 1
    assert report.not_scannable == ()


def test_deleted_large_xlsx_past_the_tail_limit_is_reported(tmp_path: Path, hasher) -> None:
    tail = b"<row><c><is><t>" + PNR + b"</t></is></c></row>"
    sheet = _xlsx(100_000, tail)
    disk = _deleted(tmp_path, "stor.xlsx", sheet)
    limits = Limits(max_output=1 * MiB, max_tail_input=len(sheet) // 4)
    report = scan(disk, hasher, ScanOptions(passes=("raw",), raw=RawOptions(limits=limits)))
    assert report.findings["personnummer"].count == 0  # beyond the limit: not read ...
    [entry] = report.not_scannable  # ... and said so
    assert entry.reason == cut_reason(limits)
    assert "past the inflate limits (1048576 bytes out, then at most 32 times" in entry.reason
    start, end = (int(x) for x in entry.region.removeprefix("bytes ").split("-"))
    assert start <= MiB < end or start >= MiB  # the pages of the partition that hold it


def test_deleted_reportlab_pdf_is_read(tmp_path: Path, hasher) -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    # Its default (rl_config.pageCompression=1), named: other tests may change the global.
    page = canvas.Canvas(buf, pageCompression=1)
    page.drawString(72, 720, PNR.decode().strip())
    page.save()
    pdf = buf.getvalue()
    assert b"/Filter [ /ASCII85Decode /FlateDecode ]" in pdf  # how reportlab writes pages
    disk = _deleted(tmp_path, "avtal.pdf", pdf)
    report = scan(disk, hasher, RAW)
    assert report.findings["personnummer"].count == 1


def _lzw_encode(data: bytes) -> bytes:
    from pypdf._codecs._codecs import LzwCodec

    return LzwCodec().encode(data)


def _split(data: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = 1 + i % 3
        out.append(data[i : i + n])
        i += n
    return out


def _pdf_with(stream: bytes, filters: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter "
        + filters.encode() + b" >>\nstream\n" + stream + b"\nendstream\nendobj\n%%EOF\n"
    )  # fmt: skip


def _text_op(n: int) -> bytes:
    body = "".join(f"BT /F1 12 Tf 72 {700 - i * 14} Td (Kund {personnummer(n + i)}) Tj ET\n"
                   for i in range(3))  # fmt: skip
    return body.encode() * 20


@pytest.mark.parametrize(
    ("filters", "encode"),
    [
        ("[/ASCIIHexDecode /FlateDecode]", lambda b: zlib.compress(b).hex().encode() + b">"),
        ("/LZWDecode", _lzw_encode),
        ("[/RunLengthDecode /FlateDecode]", None),
        ("[/ASCII85Decode /LZWDecode]", None),
    ],
)
def test_pdf_stream_filters_are_decoded_in_the_raw_pass(tmp_path: Path, hasher, filters, encode):
    import base64

    text = _text_op(20)
    if filters.startswith("[/RunLength"):
        z = zlib.compress(text)
        # Literal runs of 1 to 3 bytes (length byte n-1), so no zlib header shows, then the
        # end-of-data mark.
        encoded = b"".join(bytes([len(c) - 1]) + c for c in _split(z))
        encoded += b"\x80"
    elif filters.startswith("[/ASCII85"):
        encoded = base64.a85encode(_lzw_encode(text)) + b"~>"
    else:
        encoded = encode(text)
    assert personnummer(20).encode() not in encoded
    disk = tmp_path / "pdf.img"
    disk.write_bytes(bytes(MiB) + _pdf_with(encoded, filters) + bytes(MiB))
    report = scan(disk, hasher, RAW)
    assert report.findings["personnummer"].distinct == 3


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be", "utf-32"])
def test_utf32_text_files_are_read(tmp_path: Path, hasher, encoding: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    text = "".join(f"Kund {personnummer(i)}, e-post kund{i}@example.se\n" for i in range(4))
    (src / "kunder.txt").write_bytes(text.encode(encoding))
    fs = make_fs("ext4", tmp_path / "u32.fs", 16 * MiB, src)
    disk = tmp_path / "u32.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)])
    report = scan(disk, hasher, ScanOptions(passes=("files",)))
    assert report.findings["personnummer"].distinct == 4
    assert report.findings["email"].distinct == 4


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        chunk = bytes(MiB)
        for _ in range(256):  # 256 MiB of zeros, about 250 kB compressed
            member.write(chunk)
    return buf.getvalue()


def _nested_bomb(levels: int = 3, copies: int = 8) -> bytes:
    """42.zip's shape: each level holds `copies` of the level below."""
    data = _zip_bomb()
    for level in range(levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(copies):
                z.writestr(f"l{level}-{i}.zip", data)
        data = buf.getvalue()
    return data


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("bomb.zip", _zip_bomb),
        ("42.zip", _nested_bomb),
        ("zeros.gz", lambda: gzip.compress(bytes(256 * MiB), compresslevel=9)),
    ],
)
def test_deleted_archive_bombs_are_bounded_and_reported(tmp_path: Path, hasher, name, make):
    disk = _deleted(tmp_path, name, make() + b"\n" + PNR)
    began = time.monotonic()
    report = scan(disk, hasher, RAW)
    assert time.monotonic() - began < 120
    assert report.findings["personnummer"].count == 1  # the plain text beside it still counts
    assert report.not_scannable, "a cut-off must be reported"
    assert all(
        "inflate limit" in r or "inflate budget" in r or "nested deeper" in r
        for r in _reasons(report)
    )
