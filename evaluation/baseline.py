"""The plain recipe most retrieval projects use, as a yardstick for Docent's own.

Each document's parsed text is cut into fixed 1,000-character windows with
200 characters of overlap, embedded with the same model, and searched by
exact cosine top-k (numpy in memory, which ranks as exact pgvector search
would). It reads the same stored files through the same sandboxed parsers as
ingestion, so the only differences measured are chunking and retrieval, not
text extraction. The index lives for one evaluation run and is never stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from evaluation.metrics import RankedDocument
from knowledge.models import Document, DocumentStatus
from knowledge.parsers.base import ParsedDocument, ParseError
from knowledge.selectors import ReaderScope

CHUNK_CHARS = 1000
OVERLAP_CHARS = 200


def plain_text(parsed: ParsedDocument) -> str:
    """The document's text as a plain loader sees it: headings in place, once each.

    Headings are kept because a plain loader reading the file (raw Markdown, an
    HTML page's text, a PDF's text layer) sees them too; leaving them out would
    handicap the baseline, not measure it.
    """
    lines: list[str] = []
    previous: tuple[str, ...] = ()
    for section in parsed.sections:
        path = section.heading_path
        # Only the headings that begin here, not the whole path again.
        common = 0
        while common < min(len(path), len(previous)) and path[common] == previous[common]:
            common += 1
        lines.extend(path[common:])
        lines.append(section.text)
        previous = path
    return "\n\n".join(line for line in lines if line.strip())


def fixed_windows(text: str, *, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    """Windows of `size` characters starting every `size - overlap`; the last one reaches the end."""
    text = text.strip()
    if not text:
        return []
    step = size - overlap
    return [text[start : start + size] for start in range(0, max(len(text) - overlap, 1), step)]


@dataclass
class PlainIndex:
    documents: list[RankedDocument]
    owners: np.ndarray  # chunk row -> index into documents
    matrix: np.ndarray  # normalised chunk embeddings, one row a chunk
    build_seconds: float
    skipped: list[str]

    @classmethod
    def for_scope(cls, scope: ReaderScope) -> PlainIndex:
        """Exactly the documents the reader's Docent search sees: ready ones in readable collections."""
        documents = Document.objects.filter(
            collection_id__in=scope.collection_ids, status=DocumentStatus.READY
        ).order_by("pk")
        return cls.build(documents)

    @classmethod
    def build(cls, documents: Iterable[Document]) -> PlainIndex:
        from knowledge.embeddings import embed_passages
        from knowledge.parsers.sandbox import parse_file
        from knowledge.pipeline import parse_limits

        started = time.monotonic()
        ranked: list[RankedDocument] = []
        owners: list[int] = []
        texts: list[str] = []
        skipped: list[str] = []
        for document in documents:
            try:
                parsed = parse_file(
                    path=Path(document.file.path),
                    original_name=document.original_name,
                    limits=parse_limits(),
                    max_text_chars=settings.DOCUMENT_MAX_TEXT_CHARS,
                )
            except (ParseError, OSError, ValueError):
                # The file moved or no longer parses: say so in the report rather than fail the run.
                skipped.append(document.original_name)
                continue
            windows = fixed_windows(plain_text(parsed))
            if not windows:
                continue
            ranked.append(
                RankedDocument(
                    id=document.pk,
                    path=document.original_name,
                    title=document.title or document.original_name,
                )
            )
            owners.extend([len(ranked) - 1] * len(windows))
            texts.extend(windows)
        matrix = (
            embed_passages(texts)
            if texts
            else np.zeros((0, settings.EMBEDDING_DIMENSIONS), dtype=np.float32)
        )
        return cls(
            documents=ranked,
            owners=np.asarray(owners, dtype=np.int64),
            matrix=np.asarray(matrix, dtype=np.float32),
            build_seconds=time.monotonic() - started,
            skipped=skipped,
        )

    def search(self, question: str, vector: np.ndarray, k: int) -> list[RankedDocument]:
        """Exact cosine top-k over the windows (vectors are normalised, so a dot product)."""
        if not len(self.matrix):
            return []
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self.documents[self.owners[i]] for i in top]

    def notes(self) -> dict[str, object]:
        return {
            "chunks": int(len(self.matrix)),
            "documents": len(self.documents),
            "build_seconds": round(self.build_seconds, 1),
            "skipped": self.skipped,
        }
