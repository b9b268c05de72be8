"""Which entry a question and a reader scope name, and what produced an answer.

An entry is named by the normalised stand-alone question hashed with its context: the
reader's scope key (every readable collection with its knowledge version), the model id
and the database. A change to any of them is a different entry, so stale answers stop
matching without a flush.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from chatbot.answer_cache.wording import lex
from chatbot.prompts import PROMPT_REVISION
from knowledge.selectors import ReaderScope

# v2: questions are read by chatbot.answer_cache.wording, and every entry was admitted by
# the key-term guard; entries of v1 (the older guard) are never served again.
PREFIX = "docent:answers:v2"


def normalise(question: str) -> str:
    """One spelling per question: "What's  the VPN?" -> "what the vpn" (see wording.lex)."""
    return " ".join(lex(question))


def model_id() -> str:
    """What produces an answer besides the passages: the model, where it runs, the prompt."""
    where = settings.LLM_BASE_URL or settings.LLM_MODEL_PATH or "bundled"
    embedder = settings.EMBEDDING_MODEL or "bundled"
    prompt = f"{settings.LLM_PROMPT}.{PROMPT_REVISION}"
    return f"{settings.LLM_MODEL_NAME}@{where};prompt={prompt};embed={embedder}"


def _database() -> str:
    db = connection.settings_dict
    return f"{db.get('HOST', '')}:{db.get('PORT', '')}/{db['NAME']}"


def _digest(*parts: str, length: int) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def context_of(*, scope: str, model: str) -> str:
    # Collection ids and versions are only unique within one database: two installations
    # sharing a Redis (or a demo and a benchmark) must never meet.
    return _digest(_database(), scope, model, length=24)


@dataclass(frozen=True)
class CacheKey:
    """Where one question's answer lives for one reader scope and model."""

    question: str
    normalised: str
    scope: str
    model: str

    @property
    def context(self) -> str:
        return context_of(scope=self.scope, model=self.model)

    @property
    def entry_id(self) -> str:
        return _digest(self.context, self.normalised, length=32)

    @property
    def entry_key(self) -> str:
        return entry_key(self.entry_id)

    @property
    def bucket_key(self) -> str:
        return bucket_key(self.context)


def entry_key(entry_id: str) -> str:
    return f"{PREFIX}:entry:{entry_id}"


def bucket_key(context: str) -> str:
    return f"{PREFIX}:bucket:{context}"


def retired_key(entry_id: str) -> str:
    return f"{PREFIX}:retired:{entry_id}"


def answer_key(*, question: str, scope: ReaderScope) -> CacheKey:
    return CacheKey(
        question=question, normalised=normalise(question), scope=scope.key, model=model_id()
    )
