"""Choose a parser by the file's detected type, not by its name alone.

A renamed file is detected for what it is: a DOCX that is really text is read
as text only if its name says text; otherwise it fails with a clear reason.
"""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

from .base import ParseContext, ParsedDocument, ParseError

# MIME type -> module whose `parse(ctx)` reads it. One module per format.
PARSERS: dict[str, str] = {
    "application/pdf": "knowledge.parsers.pdf",
    "text/markdown": "knowledge.parsers.markdown",
    "text/html": "knowledge.parsers.html",
    "text/plain": "knowledge.parsers.text",
    "text/csv": "knowledge.parsers.csv",
    "message/rfc822": "knowledge.parsers.email",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "knowledge.parsers.docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "knowledge.parsers.pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "knowledge.parsers.xlsx",
}

SUPPORTED_EXTENSIONS = (
    ".pdf",
    ".md",
    ".markdown",
    ".html",
    ".htm",
    ".txt",
    ".text",
    ".csv",
    ".eml",
    ".docx",
    ".pptx",
    ".xlsx",
)

_ZIP_MARKERS = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_TEXT_BY_EXTENSION = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".csv": "text/csv",
    ".eml": "message/rfc822",
}


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\x00" in head:
        return False
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control <= len(head) // 100


def detect_mime(path: Path, name: str) -> str:
    """The file's type from its bytes, with the name deciding among text formats."""
    with path.open("rb") as f:
        head = f.read(8192)
    if not head:
        raise ParseError("The file is empty.")
    extension = Path(name).suffix.lower()
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile as exc:
            raise ParseError("The file looks like an Office document but is damaged.") from exc
        for marker, mime in _ZIP_MARKERS.items():
            if marker in names:
                return mime
        raise ParseError("This ZIP archive is not a Word, PowerPoint or Excel document.")
    if _looks_like_text(head):
        if extension in (".docx", ".pptx", ".xlsx", ".pdf"):
            raise ParseError(
                f"The file is named {extension} but contains plain text; rename it or export it again."
            )
        if extension in _TEXT_BY_EXTENSION:
            return _TEXT_BY_EXTENSION[extension]
        lowered = head[:512].lstrip().lower()
        if lowered.startswith((b"<!doctype html", b"<html")):
            return "text/html"
        return "text/plain"
    raise ParseError(
        "Unsupported file type: only PDF, Word, PowerPoint, Excel, CSV, HTML, Markdown, text and email files can be read."
    )


def parse(ctx: ParseContext) -> ParsedDocument:
    """Run the parser for ctx.mime in this process. Use the sandbox for untrusted files."""
    module_name = PARSERS.get(ctx.mime)
    if module_name is None:
        raise ParseError(f"No reader for files of type {ctx.mime}.")
    module = importlib.import_module(module_name)
    document: ParsedDocument = module.parse(ctx)
    if document.is_empty:
        raise ParseError("No text could be found in the file (is it a scan or an empty document?).")
    return document
