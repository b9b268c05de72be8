"""What every parser takes and gives back.

Parsers never import Django: they run in a sandboxed child process
(`knowledge.parsers.sandbox`) with hard limits on memory and CPU time, because
hostile files blow up in single allocations that no polling can stop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The most text one document may hold (settings.DOCUMENT_MAX_TEXT_CHARS in the pipeline):
# about 2,500 pages of prose. More is a dump or a bomb, and would crowd out every other document.
MAX_TEXT_CHARS = 5_000_000


class ParseError(Exception):
    """The file cannot be read. The message is shown to admins as the reason."""


@dataclass(frozen=True)
class ParseContext:
    path: Path
    mime: str
    original_name: str
    # Upper bound on what a container format (DOCX/XLSX/PPTX) may expand to.
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    # Upper bound on the text of all sections together; past it the file is refused.
    max_text_chars: int = MAX_TEXT_CHARS


@dataclass
class Section:
    """A run of text under one heading path, on one page or slide."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    # Tables keep their header row with every piece; the chunker repeats it.
    table_header: str | None = None


@dataclass
class ParsedDocument:
    title: str
    sections: list[Section] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "sections": [
                {
                    "text": s.text,
                    "heading_path": list(s.heading_path),
                    "page": s.page,
                    "table_header": s.table_header,
                }
                for s in self.sections
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedDocument:
        """The sandbox's reply, its text made storable (every parser's output passes here)."""
        return cls(
            title=storable(data["title"]),
            sections=[
                Section(
                    text=storable(s["text"]),
                    heading_path=tuple(storable(h) for h in s["heading_path"]),
                    page=s["page"],
                    table_header=storable(s["table_header"]) if s.get("table_header") else None,
                )
                for s in data["sections"]
            ],
        )

    @property
    def text_chars(self) -> int:
        return sum(len(s.text) for s in self.sections)

    @property
    def is_empty(self) -> bool:
        return not any(s.text.strip() for s in self.sections)


Parser = Callable[[ParseContext], ParsedDocument]


@dataclass(frozen=True)
class ParserSpec:
    """What one parser module reads and how its files are recognised.

    Each parser module exports one `SPEC`; `knowledge.parsers.registry` builds
    every table (type -> parser, accepted extensions, the "unsupported" message)
    from them, so adding a format is one new module and one line there.
    """

    # How people call the format in messages: "PDF", "Word", "text".
    label: str
    # The first is what detection reports; the others are accepted aliases.
    mime_types: tuple[str, ...]
    # Lower case, with the dot. Uploads with any other extension are refused.
    extensions: tuple[str, ...]
    parse: Parser
    # How the bytes give the format away. A binary format has a leading
    # signature or a ZIP member every such file holds; a text format has
    # neither and is told apart by its extension, or by `text_prefixes`
    # (compared in lower case) when the name does not say.
    signature: bytes | None = None
    zip_member: str | None = None
    text_prefixes: tuple[bytes, ...] = ()

    @property
    def mime(self) -> str:
        return self.mime_types[0]

    @property
    def is_text(self) -> bool:
        return self.signature is None and self.zip_member is None


# Control characters but tab and line ends, and UTF-16 surrogates left alone by a broken
# encoding: PostgreSQL stores neither ("text fields cannot contain NUL (0x00) bytes"), and a
# PDF's text layer holds them (Chromium's "Save as PDF" of a Python manual page did).
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without what a database cannot store: NULs and other control characters go,
    a lone surrogate becomes the replacement character."""
    return _UNSTORABLE.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else "", text)


def title_from_name(name: str) -> str:
    stem = Path(name).stem
    return stem.replace("_", " ").replace("-", " ").strip() or name
