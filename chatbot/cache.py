"""The answer cache: checked answers kept in Redis, served again to readers who ask the same.

Two tiers share one entry per (question, reader scope, model):

- exact: the normalised stand-alone question with its context (the reader's scope key,
  which holds every readable collection's knowledge version, and the model id);
- semantic: the closest cached questions of the same context by embedding, at least
  ANSWER_CACHE_SIMILARITY close, of which only one that asks the same thing term for term
  (chatbot.answer_cache.guard) is served.

Only an answer that passed the evidence check, cites a source, and owes nothing to one
person's conversation is kept: it will be served to everyone with the same scope. An
answer someone retires (a 👎, or staff on the frequent-questions page) leaves both tiers,
and the same words are not kept again for that question while the retirement lasts.

Every entry records the scope and model that produced it; a mismatch is a miss. An ingest,
a new version or a delete moves a collection's knowledge version, so every scope that
reads it gets a new context: old entries stop matching at once and expire by their TTL.

This module is the service answering calls; the parts live in chatbot.answer_cache and the
staff-facing record in chatbot.frequent. Redis is short and blocking: async callers run
these in a thread. An unreachable Redis is a miss, never a failed answer.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import redis
from django.conf import settings

from chatbot import frequent
from chatbot.answer_cache import guard, store
from chatbot.answer_cache.keys import PREFIX, CacheKey, answer_key, normalise
from chatbot.answer_cache.store import client
from config.logs import content

__all__ = [
    "PREFIX",
    "CacheKey",
    "CachedAnswer",
    "NotKept",
    "Tier",
    "answer_get",
    "answer_get_similar",
    "answer_key",
    "answer_retire",
    "answer_set",
    "client",
    "keep_refusal",
]

log = logging.getLogger(__name__)

Tier = Literal["exact", "semantic"]


class NotKept(enum.StrEnum):
    """Why an answer was not kept."""

    DISABLED = "disabled"  # ANSWER_CACHE_ENABLED is off
    EMPTY = "empty"
    UNGROUNDED = "ungrounded"  # no source: an abstention or an uncited reply
    UNCHECKED = "unchecked"  # it failed the evidence check
    PRIVATE = "private"  # the asker's conversation reached the prompt
    RETIRED = "retired"  # these very words were retired for this question
    UNAVAILABLE = "unavailable"  # Redis could not be reached


@dataclass(frozen=True)
class CachedAnswer:
    entry_id: str
    question: str
    answer: str
    sources: list[dict[str, Any]]
    timings: dict[str, float]
    tier: Tier
    similarity: float


def _served(
    data: dict[str, Any] | None, key: CacheKey, entry_id: str, tier: Tier, similarity: float
) -> CachedAnswer | None:
    if data is None:
        return None
    # The entry says what produced it; anything else is a miss, whatever the key said.
    if data.get("scope") != key.scope or data.get("model") != key.model:
        return None
    return CachedAnswer(
        entry_id=entry_id,
        question=data["question"],
        answer=data["answer"],
        sources=data["sources"],
        timings=data["timings"],
        tier=tier,
        similarity=similarity,
    )


def answer_get(*, key: CacheKey) -> CachedAnswer | None:
    """The exact tier: the same normalised question, scope and model."""
    if not settings.ANSWER_CACHE_ENABLED:
        return None
    try:
        data = store.entry_read(entry_id=key.entry_id)
    except redis.RedisError as exc:
        log.warning("answer cache unavailable: %s", exc)
        return None
    found = _served(data, key, key.entry_id, "exact", 1.0)
    if found is not None and normalise(found.question) != key.normalised:
        return None
    return found


def answer_get_similar(*, key: CacheKey, vector: np.ndarray) -> CachedAnswer | None:
    """The semantic tier: a close cached question of the same scope and model that asks
    the same thing (same key terms and qualifiers)."""
    if not settings.ANSWER_CACHE_ENABLED:
        return None
    try:
        candidates = store.closest(
            context=key.context, vector=vector, threshold=settings.ANSWER_CACHE_SIMILARITY
        )
    except redis.RedisError as exc:
        log.warning("answer cache unavailable: %s", exc)
        return None
    for candidate in candidates:
        found = _served(candidate.data, key, candidate.entry_id, "semantic", candidate.similarity)
        if found is not None and guard.same_question(key.question, found.question):
            return found
    return None


def keep_refusal(
    *, answer: str, sources: list[dict[str, Any]], cacheable: bool, checked: bool
) -> NotKept | None:
    """Why this answer must not be kept, or None when it may be."""
    if not settings.ANSWER_CACHE_ENABLED:
        return NotKept.DISABLED
    if not answer.strip():
        return NotKept.EMPTY
    if not sources:
        return NotKept.UNGROUNDED
    if not checked:
        return NotKept.UNCHECKED
    if not cacheable:
        return NotKept.PRIVATE
    return None


def answer_set(
    *,
    key: CacheKey,
    vector: np.ndarray,
    answer: str,
    sources: list[dict[str, Any]],
    timings: dict[str, float],
    collections: list[str],
    cacheable: bool = True,
    checked: bool = True,
) -> str | None:
    """Keep an answer for everyone with this scope; its entry id, or None when not kept.

    `checked`: the answer passed the evidence check (False: never kept).
    `cacheable`: the answer owes nothing to the asker's conversation (False when history
    reached the prompt: it must never be served to anyone else, so it is not kept at all).
    """
    refusal = keep_refusal(answer=answer, sources=sources, cacheable=cacheable, checked=checked)
    if refusal is not None:
        log.debug("answer not cached (%s): %s", refusal, content(key.question))
        return None
    data = {
        "question": key.question,
        "answer": answer,
        "sources": sources,
        "timings": timings,
        "scope": key.scope,
        "context": key.context,
        "collections": collections,
        "model": key.model,
        "created_at": time.time(),
    }
    try:
        if store.answer_was_retired(entry_id=key.entry_id, answer=answer):
            log.info("answer not cached (%s): %s", NotKept.RETIRED, content(key.question))
            return None
        store.entry_write(
            entry_id=key.entry_id,
            context=key.context,
            vector=vector,
            data=data,
            ttl=settings.ANSWER_CACHE_TTL,
        )
    except redis.RedisError as exc:
        log.warning("answer cache unavailable, answer not kept (%s): %s", NotKept.UNAVAILABLE, exc)
        return None
    frequent.question_record(key=key, collections=collections)
    return key.entry_id


def answer_retire(*, entry_id: str) -> bool:
    """Stop serving an entry (a 👎, or staff's "Retire"): it leaves both tiers, the same
    answer is not kept again for that question while the retirement lasts (one TTL), and
    the frequent-questions record is marked. True when there was something to retire."""
    try:
        data = store.entry_read(entry_id=entry_id)
    except redis.RedisError as exc:
        log.warning("answer cache unavailable, entry %s not retired: %s", entry_id, exc)
        data = None
    context = data["context"] if data else frequent.question_context(entry_id=entry_id)
    removed = False
    if context is not None:
        try:
            removed = store.entry_delete(
                entry_id=entry_id,
                context=context,
                answer=data["answer"] if data else None,
                ttl=settings.ANSWER_CACHE_TTL,
            )
        except redis.RedisError as exc:
            log.warning("answer cache unavailable, entry %s not retired: %s", entry_id, exc)
    marked = frequent.question_retire(entry_id=entry_id)
    return removed or marked
