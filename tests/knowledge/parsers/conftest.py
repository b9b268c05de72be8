"""Fixtures that build real files: hostile archives, hand-made PDFs, and a reader."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.parsers.base import ParseContext, ParsedDocument
from knowledge.parsers.registry import detect_mime, parse

MB = 1024 * 1024

# Which entry makes the registry take a ZIP for each Office format.
MARKERS = {
    "docx": "word/document.xml",
    "xlsx": "xl/worksheets/sheet1.xml",
    "pptx": "ppt/presentation.xml",
}


@pytest.fixture
def read() -> Callable[..., ParsedDocument]:
    """Detect the type from the bytes and parse in-process, as the sandbox child does."""

    def _read(path: Path, name: str | None = None) -> ParsedDocument:
        name = name or path.name
        return parse(ParseContext(path=path, mime=detect_mime(path, name), original_name=name))

    return _read


def write_zeros_zip(
    path: Path, entry: str, size: int, extra: dict[str, bytes] | None = None
) -> Path:
    """A ZIP whose `entry` is `size` bytes of zeros, written in chunks to keep memory low."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
        with archive.open(entry, "w", force_zip64=True) as f:
            chunk = bytes(MB)
            for _ in range(size // MB):
                f.write(chunk)
    return path


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A 300 MB-when-unpacked Office file (about 300 KB on disk), built once per format."""
    built: dict[str, Path] = {}

    def _bomb(kind: str) -> Path:
        if kind not in built:
            folder = tmp_path_factory.mktemp(f"bomb-{kind}")
            extra = {"xl/workbook.xml": b"<workbook/>"} if kind == "xlsx" else {}
            built[kind] = write_zeros_zip(folder / f"bomb.{kind}", MARKERS[kind], 300 * MB, extra)
        return built[kind]

    return _bomb


def make_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF showing `text` in Helvetica, with a correct xref table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    path = tmp_path / "hello.pdf"
    path.write_bytes(make_pdf("Hello from Docent"))
    return path


@pytest.fixture
def zeros_zip() -> Callable[..., Path]:
    return write_zeros_zip
