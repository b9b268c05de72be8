"""Plain text in any common encoding."""

from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from .base import ParseContext, ParsedDocument, ParseError, Section, title_from_name


def read_text(path: Path) -> str:
    """Decode a text file whatever its encoding (UTF-8/16, Latin-1, Windows-1252...)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None:
        raise ParseError("The text's encoding could not be recognised.")
    return str(best)


def parse(ctx: ParseContext) -> ParsedDocument:
    text = read_text(ctx.path).replace("\r\n", "\n")
    return ParsedDocument(title=title_from_name(ctx.original_name), sections=[Section(text=text)])
