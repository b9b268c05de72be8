"""A small, dependency-free PDF writer for tests and the sample corpus.

It writes real, valid PDFs: one Helvetica (Type1, WinAnsiEncoding) text line per
string, long lines wrapped, a proper cross-reference table and trailer, and an
Info dictionary with /Title when one is given. Text extracts cleanly with pypdf.

`encrypt=True` re-writes the finished file with pypdf's PdfWriter.encrypt (the one
place pypdf is used), so tests can exercise password-protected uploads.
"""

from __future__ import annotations

import hashlib
import os
import textwrap
from pathlib import Path

PAGE_WIDTH = 595  # A4, in points
PAGE_HEIGHT = 842
MARGIN = 56
FONT_SIZE = 10
LEADING = 13
WRAP_AT = 90
MAX_LINES = (PAGE_HEIGHT - 2 * MARGIN) // LEADING  # lines that fit on one page

DEFAULT_PASSWORD = "docent-test"


def _wrap(line: str) -> list[str]:
    """One input string -> one or more output lines of at most WRAP_AT characters."""
    line = line.replace("\t", "    ").rstrip()
    if len(line) <= WRAP_AT:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    return textwrap.wrap(
        line,
        width=WRAP_AT,
        subsequent_indent=" " * (indent + 2),
        break_long_words=True,
        break_on_hyphens=False,
    ) or [""]


def _literal(text: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252); unmappable characters become '?'."""
    raw = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for byte in raw:
        if byte in (0x28, 0x29, 0x5C):  # ( ) \
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


def _text_string(text: str) -> bytes:
    """A PDF text string for metadata: literal if ASCII, else UTF-16BE with a BOM."""
    if text.isascii():
        return _literal(text)
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class Heading(str):
    """A line drawn at HEADING_SIZE: a heading as a word processor prints one."""


HEADING_SIZE = 16


def _content_stream(lines: list[str], footer: str | None = None) -> bytes:
    parts = [
        b"BT",
        b"/F1 %d Tf" % FONT_SIZE,
        b"%d TL" % LEADING,
        b"%d %d Td" % (MARGIN, PAGE_HEIGHT - MARGIN - FONT_SIZE),
    ]
    for i, line in enumerate(lines):
        if i:
            parts.append(b"T*")
        if isinstance(line, Heading):
            parts.append(
                b"/F1 %d Tf " % HEADING_SIZE + _literal(line) + b" Tj /F1 %d Tf" % FONT_SIZE
            )
        elif line:
            parts.append(_literal(line) + b" Tj")
    parts.append(b"ET")
    if footer:
        parts += [b"BT", b"/F1 8 Tf", b"%d 30 Td" % MARGIN, _literal(footer) + b" Tj", b"ET"]
    return b"\n".join(parts) + b"\n"


def write_pdf(
    path: str | os.PathLike[str],
    pages: list[list[str]],
    title: str | None = None,
    encrypt: bool = False,
    *,
    password: str = DEFAULT_PASSWORD,
    footer: str | None = None,
) -> None:
    """Write `pages` (each a list of text lines) to a PDF at `path`.

    A `Heading` line is drawn larger; `footer` is drawn at the foot of every page, its
    "{page}" and "{pages}" filled in.

    Lines longer than ~90 characters are wrapped. A page whose wrapped lines do not
    fit raises ValueError rather than silently spilling onto an extra page, so that
    page numbers stay what the caller meant. With `encrypt=True` the file is
    encrypted (AES-256) with `password` as the user password.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    wrapped_pages: list[list[str]] = []
    for number, page in enumerate(pages, start=1):
        lines = [
            out for line in page for out in ([line] if isinstance(line, Heading) else _wrap(line))
        ]
        if len(lines) > MAX_LINES:
            raise ValueError(
                f"page {number} has {len(lines)} lines after wrapping; at most {MAX_LINES} fit"
            )
        wrapped_pages.append(lines)

    # Object numbers: 1 catalog, 2 page tree, 3 font, 4 info, then a (page, content) pair per page.
    objects: dict[int, bytes] = {}
    page_ids = [5 + 2 * i for i in range(len(wrapped_pages))]
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    objects[3] = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    info = b"/Producer (Docent test pdfwriter)"
    if title:
        info = b"/Title " + _text_string(title) + b" " + info
    objects[4] = b"<< " + info + b" >>"
    for number, (pid, lines) in enumerate(zip(page_ids, wrapped_pages, strict=True), start=1):
        text = footer.format(page=number, pages=len(page_ids)) if footer else None
        stream = _content_stream(lines, text)
        objects[pid] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, pid + 1)
        )
        objects[pid + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    size = max(objects) + 1
    offsets = [0] * size
    for number in range(1, size):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    # Derived from the content, so the same input always gives byte-identical output.
    file_id = hashlib.md5(bytes(out)).hexdigest().encode("ascii")
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R /ID [<%s> <%s>] >>\n" % (
        size,
        file_id,
        file_id,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at

    target = Path(path)
    target.write_bytes(bytes(out))
    if encrypt:
        _encrypt_in_place(target, password)


def _encrypt_in_place(target: Path, password: str) -> None:
    from pypdf import PdfReader, PdfWriter  # only encryption needs pypdf

    writer = PdfWriter(clone_from=PdfReader(target))
    owner = password + "-owner"
    try:
        writer.encrypt(user_password=password, owner_password=owner, algorithm="AES-256")
    except (ImportError, NotImplementedError):
        # No AES provider (the `cryptography` package): pypdf's built-in RC4 still works.
        writer.encrypt(user_password=password, owner_password=owner, algorithm="RC4-128")
    with target.open("wb") as f:
        writer.write(f)
