"""The answer cache in Redis: entries, the embedding bucket of each context, retirements.

- `entry:<id>`: the answer as JSON, with what produced it (scope, model, context);
- `bucket:<context>`: a hash of entry id -> time stamp + question embedding, read whole by
  the semantic tier, so it stays small (BUCKET_ENTRIES) and the oldest leave first;
- `retired:<id>`: the hash of an answer someone retired, so the same words are not kept
  again for that question and context while the retirement lasts (one TTL).

Calls are short and blocking; async callers run them in a thread. Every function lets
redis.RedisError through: the service decides that an unreachable cache is a miss.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import redis
from django.conf import settings

from chatbot.answer_cache.keys import bucket_key, entry_key, retired_key

BUCKET_ENTRIES = 256
# How many of the closest cached questions the guard may look at: the nearest one may be
# a near-miss while the next is the paraphrase.
CANDIDATES = 5
_STAMP = struct.Struct("<d")


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    similarity: float
    data: dict[str, Any]


def entry_read(*, entry_id: str) -> dict[str, Any] | None:
    raw = client().get(entry_key(entry_id))
    return None if raw is None else json.loads(raw)


def entry_write(
    *, entry_id: str, context: str, vector: np.ndarray, data: dict[str, Any], ttl: int
) -> None:
    """Keep the entry and its question's embedding, trimming the bucket when it is full."""
    r = client()
    bucket = bucket_key(context)
    stamped = _STAMP.pack(time.time()) + np.asarray(vector, dtype=np.float32).tobytes()
    with r.pipeline() as pipe:
        pipe.set(entry_key(entry_id), json.dumps(data), ex=ttl)
        pipe.hset(bucket, entry_id, stamped)
        pipe.expire(bucket, ttl)
        pipe.hlen(bucket)
        size = pipe.execute()[-1]
    if size > BUCKET_ENTRIES:
        _bucket_trim(r, bucket)


def entry_delete(*, entry_id: str, context: str, answer: str | None, ttl: int) -> bool:
    """Remove an entry from both tiers; with its answer, remember that those words were
    retired. True when there was an entry to remove."""
    with client().pipeline() as pipe:
        pipe.delete(entry_key(entry_id))
        pipe.hdel(bucket_key(context), entry_id)
        if answer is not None:
            pipe.set(retired_key(entry_id), answer_digest(answer), ex=ttl)
        removed = pipe.execute()[0]
    return bool(removed)


def answer_was_retired(*, entry_id: str, answer: str) -> bool:
    return client().get(retired_key(entry_id)) == answer_digest(answer).encode()


def answer_digest(answer: str) -> str:
    return hashlib.sha256(answer.strip().encode()).hexdigest()


def closest(*, context: str, vector: np.ndarray, threshold: float) -> list[Candidate]:
    """The cached questions of `context` at least `threshold` close to `vector`, closest
    first (at most CANDIDATES), with their entries. Expired entries leave the bucket."""
    r = client()
    bucket = bucket_key(context)
    fields = cast(dict[bytes, bytes], r.hgetall(bucket))  # a client without decode_responses
    if not fields:
        return []
    ids = [field.decode() for field in fields]
    matrix = np.stack(
        [np.frombuffer(value, dtype=np.float32, offset=_STAMP.size) for value in fields.values()]
    )
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    order = [i for i in np.argsort(-scores) if scores[i] >= threshold][:CANDIDATES]
    if not order:
        return []
    found = []
    for i, raw in zip(order, r.mget([entry_key(ids[i]) for i in order]), strict=True):
        if raw is None:
            r.hdel(bucket, ids[i])
            continue
        found.append(Candidate(entry_id=ids[i], similarity=float(scores[i]), data=json.loads(raw)))
    return found


def entries_alive(*, entry_ids: list[str]) -> list[bool]:
    if not entry_ids:
        return []
    with client().pipeline(transaction=False) as pipe:
        for entry_id in entry_ids:
            pipe.exists(entry_key(entry_id))
        return [bool(n) for n in pipe.execute()]


def _bucket_trim(r: redis.Redis, bucket: str) -> None:
    """Drop questions whose entries are gone, then the oldest beyond BUCKET_ENTRIES."""
    fields = cast(dict[bytes, bytes], r.hgetall(bucket))
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
