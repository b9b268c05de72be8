"""Per-person limits on the chat socket: sockets open, asks in flight, asks per minute.

One person (or one leaked token) must not keep the model busy for everyone else. The
counts are kept in Redis, so they hold across every socket and every web process of
that person. Each count is a sorted set of members scored by when they lapse: a web
process that dies without cleaning up leaks nothing for longer than that lapse.

Calls are short and blocking (async callers run them in a thread). An unreachable
Redis lets everything through: the limits protect the model, they are not worth
refusing questions over.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings

from chatbot.answer_cache.store import client
from chatbot.protocol import ErrorCode

log = logging.getLogger(__name__)

# An open socket renews its place every SOCKET_RENEW_SECONDS; one whose web process died
# without closing it stops counting SOCKET_LAPSE_SECONDS later.
SOCKET_RENEW_SECONDS = 60
SOCKET_LAPSE_SECONDS = 3 * SOCKET_RENEW_SECONDS
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Refusal:
    """Why an ask or a socket was refused: a protocol error code and a readable message."""

    code: ErrorCode
    message: str


def _key(kind: str, user_id: int) -> str:
    return f"docent:limits:{kind}:{user_id}"


def _admit(*, key: str, member: str, limit: int, lapse: float) -> bool:
    """Add `member` to the set at `key` unless `limit` live members are already there.

    Added first and counted after, in one round trip: two asks racing may both be
    refused, never both admitted past the limit.
    """
    return _admit_all([(key, limit, lapse)], member=member) is None


def _admit_all(counts: list[tuple[str, int, float]], *, member: str) -> int | None:
    """Add `member` to every set of `counts` (key, limit, lapse) in one round trip; the
    index of the first set it would take past its limit (the member then leaves them all),
    or None when it was admitted to every one."""
    now = time.time()
    with client().pipeline() as pipe:
        for key, _, lapse in counts:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {member: now + lapse})
            pipe.expire(key, int(lapse) + 1)
            pipe.zcard(key)
        replies = pipe.execute()
    live = replies[3::4]
    for index, (_, limit, _) in enumerate(counts):
        if live[index] > limit:
            for key, _, _ in counts:
                _forget(key=key, member=member)
            return index
    return None


def _forget(*, key: str, member: str) -> None:
    try:
        client().zrem(key, member)
    except redis.RedisError:
        log.warning("limits: could not release %s", key)


def socket_open(*, user_id: int, socket_id: str) -> Refusal | None:
    """Count one more open socket for this person, or say why not."""
    limit = settings.CHAT_SOCKETS_PER_USER
    try:
        admitted = _admit(
            key=_key("sockets", user_id), member=socket_id, limit=limit, lapse=SOCKET_LAPSE_SECONDS
        )
    except redis.RedisError:
        log.warning("limits: Redis unreachable; socket admitted unchecked")
        return None
    if admitted:
        return None
    return Refusal(
        "too_many_sockets",
        f"You already have {limit} chat connections open; close one and connect again.",
    )


def socket_renew(*, user_id: int, socket_id: str) -> None:
    """Still open: count it for another lapse."""
    key = _key("sockets", user_id)
    try:
        with client().pipeline() as pipe:
            pipe.zadd(key, {socket_id: time.time() + SOCKET_LAPSE_SECONDS})
            pipe.expire(key, SOCKET_LAPSE_SECONDS + 1)
            pipe.execute()
    except redis.RedisError:
        log.warning("limits: could not renew a socket's place")


def socket_close(*, user_id: int, socket_id: str) -> None:
    _forget(key=_key("sockets", user_id), member=socket_id)


@dataclass(frozen=True)
class AskTicket:
    """An admitted ask: release it when the answer ends, whatever way it ends."""

    user_id: int
    member: str

    def release(self) -> None:
        _forget(key=_key("inflight", self.user_id), member=self.member)


def ask_admit(*, user_id: int) -> AskTicket | Refusal:
    """Admit one ask if this person is under both the in-flight and the per-minute limit.

    Both are counted in one Redis round trip (this runs before every question)."""
    member = uuid.uuid4().hex
    per_minute = settings.CHAT_ASKS_PER_MINUTE
    in_flight = settings.CHAT_ASKS_IN_FLIGHT
    try:
        over = _admit_all(
            [
                # The in-flight lapse outlives the slowest answer the model may give.
                (_key("inflight", user_id), in_flight, settings.LLM_TIMEOUT + 60),
                (_key("asks", user_id), per_minute, WINDOW_SECONDS),
            ],
            member=member,
        )
    except redis.RedisError:
        log.warning("limits: Redis unreachable; ask admitted unchecked")
        over = None
    if over == 0:
        return Refusal(
            "busy",
            f"You already have {in_flight} questions being answered; wait for one to finish.",
        )
    if over == 1:
        return Refusal(
            "rate_limited",
            f"At most {per_minute} questions a minute; wait a little and ask again.",
        )
    return AskTicket(user_id=user_id, member=member)
