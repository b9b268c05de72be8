"""Choose a parser by the file's detected type, not by its name alone.

Every table here is built from the `SPEC` each parser module exports, so the
types read, the extensions accepted and the "unsupported" message cannot
disagree. A renamed file is detected for what it is: a DOCX that is really
text is read as text only if its name says text; otherwise it fails with a
clear reason.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from . import csv, docx, email, html, markdown, pdf, pptx, text, xlsx
from .base import ParseContext, ParsedDocument, ParseError, ParserSpec

# In the order the "unsupported" message names them.
SPECS: tuple[ParserSpec, ...] = (
    pdf.SPEC,
    docx.SPEC,
    pptx.SPEC,
    xlsx.SPEC,
    csv.SPEC,
    html.SPEC,
    markdown.SPEC,
    text.SPEC,
    email.SPEC,
)
# Text whose name names no other text format is read as plain text. ".txt" says
# only that a file is text, so a saved web page named page.txt is still HTML.
PLAIN_TEXT = text.SPEC

_BY_MIME: dict[str, ParserSpec] = {mime: spec for spec in SPECS for mime in spec.mime_types}
_TEXT_BY_EXTENSION: dict[str, ParserSpec] = {
    extension: spec
    for spec in SPECS
    if spec.is_text and spec is not PLAIN_TEXT
    for extension in spec.extensions
}
_BINARY_EXTENSIONS = frozenset(e for spec in SPECS if not spec.is_text for e in spec.extensions)

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(e for spec in SPECS for e in spec.extensions)


def _formats_sentence() -> str:
    labels = [spec.label for spec in SPECS]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


UNSUPPORTED_MESSAGE = f"Unsupported file type: only {_formats_sentence()} files can be read."


def spec_for_mime(mime: str) -> ParserSpec:
    spec = _BY_MIME.get(mime)
    if spec is None:
        raise ParseError(f"No reader for files of type {mime}.")
    return spec


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\x00" in head:
        return False
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control <= len(head) // 100


def _zip_mime(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise ParseError("The file looks like an Office document but is damaged.") from exc
    for spec in SPECS:
        if spec.zip_member is not None and spec.zip_member in names:
            return spec.mime
    raise ParseError("This ZIP archive is not a Word, PowerPoint or Excel document.")


def _text_mime(head: bytes, extension: str) -> str:
    if extension in _BINARY_EXTENSIONS:
        raise ParseError(
            f"The file is named {extension} but contains plain text; rename it or export it again."
        )
    if extension in _TEXT_BY_EXTENSION:
        return _TEXT_BY_EXTENSION[extension].mime
    start = head[:512].lstrip().lower()
    for spec in SPECS:
        if spec.text_prefixes and start.startswith(spec.text_prefixes):
            return spec.mime
    return PLAIN_TEXT.mime


def detect_mime(path: Path, name: str) -> str:
    """The file's type from its bytes, with the name deciding among text formats."""
    with path.open("rb") as f:
        head = f.read(8192)
    if not head:
        raise ParseError("The file is empty.")
    for spec in SPECS:
        if spec.signature is not None and head.startswith(spec.signature):
            return spec.mime
    if head.startswith(b"PK\x03\x04"):
        return _zip_mime(path)
    if _looks_like_text(head):
        return _text_mime(head, Path(name).suffix.lower())
    raise ParseError(UNSUPPORTED_MESSAGE)


def parse(ctx: ParseContext) -> ParsedDocument:
    """Run the parser for ctx.mime in this process. Use the sandbox for untrusted files."""
    document = spec_for_mime(ctx.mime).parse(ctx)
    if document.is_empty:
        raise ParseError("No text could be found in the file (is it a scan or an empty document?).")
    if document.text_chars > ctx.max_text_chars:
        raise ParseError(
            f"The file holds {document.text_chars:,} characters of text, more than the limit of "
            f"{ctx.max_text_chars:,} for one document; split it into smaller files."
        )
    return document
