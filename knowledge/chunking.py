"""Structure-aware chunking to a token budget measured by the embedding model's tokenizer.

Sections arrive already split along headings (the parsers keep the heading
path); inside a section the splitter prefers paragraph, then sentence, then
word boundaries. The heading path is embedded with the text, so the budget
leaves room for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from semantic_text_splitter import MarkdownSplitter

from knowledge.parsers.base import ParsedDocument

HEADING_SEPARATOR = " > "


@dataclass(frozen=True)
class ChunkDraft:
    position: int
    heading: str
    page: int | None
    text: str
    token_count: int

    @property
    def embedding_text(self) -> str:
        """What gets embedded: the heading path gives a passage its context."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


# The room a section's heading takes is counted in steps of this many tokens, so its
# sections share a few splitters: building one (it copies the tokenizer, 6 MB) took 20 ms,
# two thirds of chunking, when every heading length had its own (bench/README.md, ingestion).
RESERVE_STEP = 8


@lru_cache(maxsize=8)
def _splitter(capacity: int, overlap: int) -> MarkdownSplitter:
    from knowledge.embeddings import get_tokenizer

    return MarkdownSplitter.from_huggingface_tokenizer(
        get_tokenizer(), capacity=(max(1, capacity // 2), capacity), overlap=overlap, trim=True
    )


def _count_tokens(text: str) -> int:
    from knowledge.embeddings import get_tokenizer

    return len(get_tokenizer().encode(text, add_special_tokens=False).ids)


def chunk_document(document: ParsedDocument, *, tokens: int, overlap: int) -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    for section in document.sections:
        heading = HEADING_SEPARATOR.join(section.heading_path)
        header = section.table_header
        reserved = _count_tokens(heading) + (_count_tokens(header) if header else 0) + 2
        reserved = -(-reserved // RESERVE_STEP) * RESERVE_STEP  # rounded up: never over budget
        budget = max(32, tokens - reserved)
        pieces = _splitter(budget, min(overlap, budget // 4)).chunks(section.text)
        for piece in pieces:
            # A table piece repeats its header row, so it can be understood alone.
            text = f"{header}\n{piece}" if header and not piece.startswith(header) else piece
            drafts.append(
                ChunkDraft(
                    position=len(drafts),
                    heading=heading,
                    page=section.page,
                    text=text,
                    token_count=_count_tokens(text),
                )
            )
    return drafts
