"""The answer cache: grounded answers kept in Redis, served again to readers who asked the same.

Two tiers share one entry per (question, reader scope, model):

- exact: the normalised stand-alone question (case, whitespace, punctuation) hashed with the
  context (the reader's scope key, which holds every readable collection's knowledge
  version, and the model id) names the entry;
- semantic: each context has a small bucket of question embeddings; a question whose
  embedding is at least ANSWER_CACHE_SIMILARITY from a cached one, and which passes a
  lexical guard against near-duplicates that differ in a qualifier, gets that entry.

Every entry records the scope and model that produced it; a mismatch is a miss. An ingest,
a new version or a delete moves a collection's knowledge version, so every scope that
reads it gets a new context: old entries stop matching at once and expire by their TTL.
No flush, no invalidation message, no race with the writer.

Redis calls here are short and blocking; async callers run them in a thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import struct
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from chatbot.models import FrequentQuestion
from chatbot.prompts import PROMPT_REVISION
from knowledge.selectors import ReaderScope

log = logging.getLogger(__name__)

PREFIX = "docent:answers:v1"
# A bucket holds the embeddings of one context's questions. Lookup reads it whole (1.5 KB
# per question), so it stays small; the oldest questions leave first.
BUCKET_ENTRIES = 256
_STAMP = struct.Struct("<d")


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


# --- keys -------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalise(question: str) -> str:
    """Casefolded, punctuation dropped, whitespace collapsed: "What's  the VPN?" -> "whats the vpn"."""
    text = unicodedata.normalize("NFKC", question).casefold()
    # what's -> whats (not "what s"), 2,000 -> 2000
    text = re.sub(r"(?<=\w)['’](?=\w)|(?<=\d),(?=\d)", "", text)
    return _SPACE.sub(" ", _PUNCTUATION.sub(" ", text)).strip()


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


@dataclass(frozen=True)
class CacheKey:
    """Where one question's answer lives for one reader scope and model."""

    question: str
    normalised: str
    scope: str
    model: str

    @property
    def context(self) -> str:
        # Collection ids and versions are only unique within one database: two installations
        # sharing a Redis (or a demo and a benchmark) must never meet.
        return _digest(_database(), self.scope, self.model, length=24)

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


def answer_key(*, question: str, scope: ReaderScope) -> CacheKey:
    return CacheKey(
        question=question, normalised=normalise(question), scope=scope.key, model=model_id()
    )


# --- the semantic guard -----------------------------------------------------------------------

_STOP = frozenset(
    "a an the and or of to in on at for from with by about into onto inside under over after "
    "before per is are was were be been am do does did doing have has had get got can could "
    "may might must shall should will would i me my mine we our us you your it its this that "
    "these those there what whats which who whom whose when where why how many much "
    "if then than so any some each all not no yes please tell know need want"
    " im ive id dont didnt".split()
)
_NUMBER = re.compile(r"\d+")


def _content_words(normalised: str) -> set[str]:
    words = set()
    for word in normalised.split():
        if word in _STOP:
            continue
        # A light plural fold so "day" and "days" are one word.
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def same_question(a: str, b: str) -> bool:
    """Whether two close questions may share an answer (both normalised).

    Embeddings put "vacation days for contractors" right next to "... for employees".
    Such pairs share most of their words and differ in one qualifier, while paraphrases
    share few words. So: the numbers must match, and two questions that share content
    words must not differ in as many or fewer words than they share (a swapped or added
    qualifier). Paraphrases worded almost alike become misses: a slower answer, never a
    wrong one.
    """
    if set(_NUMBER.findall(a)) != set(_NUMBER.findall(b)):
        return False
    words_a, words_b = _content_words(a), _content_words(b)
    shared = words_a & words_b
    only_a, only_b = words_a - shared, words_b - shared
    if not shared or not (only_a or only_b):
        return True
    return max(len(only_a), len(only_b)) > len(shared)


# --- get --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedAnswer:
    entry_id: str
    question: str
    answer: str
    sources: list[dict]
    timings: dict[str, float]
    tier: str  # "exact" or "semantic"
    similarity: float


def _entry(
    raw: bytes | None, key: CacheKey, entry_id: str, tier: str, similarity: float
) -> CachedAnswer | None:
    if raw is None:
        return None
    data = json.loads(raw)
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
        raw = client().get(key.entry_key)
    except redis.RedisError as exc:
        log.warning("answer cache unavailable: %s", exc)  # a miss, never a failed answer
        return None
    found = _entry(raw, key, key.entry_id, "exact", 1.0)
    if found is not None and normalise(found.question) != key.normalised:
        return None
    return found


def answer_get_similar(*, key: CacheKey, vector: np.ndarray) -> CachedAnswer | None:
    """The semantic tier: the closest cached question of the same scope and model."""
    if not settings.ANSWER_CACHE_ENABLED:
        return None
    try:
        return _closest(client(), key, vector)
    except redis.RedisError as exc:
        log.warning("answer cache unavailable: %s", exc)
        return None


def _closest(r: redis.Redis, key: CacheKey, vector: np.ndarray) -> CachedAnswer | None:
    bucket = r.hgetall(key.bucket_key)
    if not bucket:
        return None
    ids = [field.decode() for field in bucket]
    matrix = np.stack(
        [np.frombuffer(value, dtype=np.float32, offset=_STAMP.size) for value in bucket.values()]
    )
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    order = [i for i in np.argsort(-scores) if scores[i] >= settings.ANSWER_CACHE_SIMILARITY][:5]
    if not order:
        return None
    raws = r.mget([entry_key(ids[i]) for i in order])
    for i, raw in zip(order, raws, strict=True):
        if raw is None:  # expired or retired: tidy the bucket
            r.hdel(key.bucket_key, ids[i])
            continue
        found = _entry(raw, key, ids[i], "semantic", float(scores[i]))
        if found is not None and same_question(key.normalised, normalise(found.question)):
            return found
    return None


# --- set --------------------------------------------------------------------------------------


def answer_set(
    *,
    key: CacheKey,
    vector: np.ndarray,
    answer: str,
    sources: list[dict],
    timings: dict[str, float],
    collections: list[str],
) -> str | None:
    """Keep a grounded answer (one with sources); abstentions are never cached. Returns its id."""
    if not settings.ANSWER_CACHE_ENABLED or not sources or not answer.strip():
        return None
    ttl = settings.ANSWER_CACHE_TTL
    entry = {
        "question": key.question,
        "answer": answer,
        "sources": sources,
        "timings": timings,
        "scope": key.scope,
        "collections": collections,
        "model": key.model,
        "created_at": time.time(),
    }
    stamped = _STAMP.pack(time.time()) + np.asarray(vector, dtype=np.float32).tobytes()
    r = client()
    try:
        with r.pipeline() as pipe:
            pipe.set(key.entry_key, json.dumps(entry), ex=ttl)
            pipe.hset(key.bucket_key, key.entry_id, stamped)
            pipe.expire(key.bucket_key, ttl)
            pipe.hlen(key.bucket_key)
            size = pipe.execute()[-1]
        if size > BUCKET_ENTRIES:
            _bucket_trim(r, key.bucket_key)
    except redis.RedisError as exc:
        log.warning("answer cache unavailable, answer not kept: %s", exc)
        return None
    FrequentQuestion.objects.update_or_create(
        entry_id=key.entry_id,
        defaults={
            "question": key.question,
            "normalised": key.normalised,
            "scope_key": key.scope,
            "context": key.context,
            "collections": collections,
            "model": key.model,
            "hits": 0,
            "last_asked_at": timezone.now(),
            "retired_at": None,
        },
    )
    return key.entry_id


def _bucket_trim(r: redis.Redis, bucket: str) -> None:
    """Drop questions whose entries are gone, then the oldest beyond BUCKET_ENTRIES."""
    fields = r.hgetall(bucket)
    ids = list(fields)
    alive = r.mget([entry_key(i.decode()) for i in ids])
    gone = [i for i, raw in zip(ids, alive, strict=True) if raw is None]
    kept = sorted(
        (i for i, raw in zip(ids, alive, strict=True) if raw is not None),
        key=lambda i: _STAMP.unpack_from(fields[i])[0],
    )
    gone += kept[: max(0, len(kept) - BUCKET_ENTRIES)]
    if gone:
        r.hdel(bucket, *gone)
