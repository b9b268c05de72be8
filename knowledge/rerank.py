"""A reranking stage behind a small interface.

The default keeps the fused order (it works with what ships). Where a
cross-encoder is available on disk, RERANKER_MODEL points at it and it
reorders the candidates by its relevance score.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import lru_cache
from typing import Protocol

from django.conf import settings

from knowledge.search import Hit


class Reranker(Protocol):
    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]: ...


class FusedOrder:
    """Keep retrieval's reciprocal-rank order."""

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        return hits


class CrossEncoderReranker:
    """Score (query, passage) pairs with a local sentence-transformers CrossEncoder."""

    def __init__(self, path: str) -> None:
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(path, device="cpu", local_files_only=True)
        self._lock = threading.Lock()

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        pairs = [(query, f"{hit.heading}\n{hit.text}" if hit.heading else hit.text) for hit in hits]
        with self._lock:
            scores = self._model.predict(pairs, show_progress_bar=False)
        ranked = sorted(zip(scores, hits, strict=True), key=lambda pair: -float(pair[0]))
        return [replace(hit, score=float(score)) for score, hit in ranked]


@lru_cache(maxsize=1)
def get_reranker() -> Reranker:
    if settings.RERANKER_MODEL:
        return CrossEncoderReranker(settings.RERANKER_MODEL)
    return FusedOrder()
