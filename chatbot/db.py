"""Database work on the chat path, in a pool of threads rather than Channels' one shared thread.

`sync_to_async` (and `database_sync_to_async`) run every call in a single thread by
default, so fifty people whose answers come from the cache wait for each other's few
milliseconds of queries, one after another. These calls touch only their own rows and
need no thread affinity: they run in the event loop's thread pool instead, each thread
keeping its own connection (CONN_MAX_AGE, checked before each call).
"""

from __future__ import annotations

import asyncio
import functools
import select
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from django.db import close_old_connections, connection

P = ParamSpec("P")
R = TypeVar("R")


def in_pool(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` as a coroutine that runs it in a pool thread with a usable connection.

    The standard library's `asyncio.to_thread` (the context goes along, so log records
    keep their question id) rather than asgiref's `sync_to_async`, whose wrapper object,
    per call, and copying the context back cost a cached answer more than its queries.
    Each function's coroutine is made once, not at every call.
    """
    if function in _POOLED:
        return _POOLED[function]

    @functools.wraps(function)
    async def pooled(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(_checked_call, function, *args, **kwargs)

    _POOLED[function] = pooled
    return pooled


_POOLED: dict[Callable[..., Any], Callable[..., Awaitable[Any]]] = {}


def _checked_call(function: Callable[..., R], /, *args: object, **kwargs: object) -> R:
    connection_checked()
    return function(*args, **kwargs)


def connection_checked() -> None:
    """This thread's connection, replaced if it is too old, failed, or the server hung up.

    Django's health check (CONN_HEALTH_CHECKS) asks the server `SELECT 1` before the first
    query of every call: a round trip per pool hop, and a cached answer is mostly hops.
    A server that stopped or restarted, or that ended this backend, has closed its end of
    the socket (with a last error message first): the socket reads as ready, which one
    poll without waiting tells. An idle connection has nothing to read otherwise (Docent
    never LISTENs), so ready means unusable, and the connection is replaced now, before
    the call, instead of failing it. A connection that fails mid-query for another reason
    is marked by Django and checked with `SELECT 1` before the next call, as before.
    """
    close_old_connections()  # past CONN_MAX_AGE, or errors since: checked or replaced
    raw = connection.connection
    if raw is None or connection.health_check_done:  # type: ignore[attr-defined]
        return
    if raw.closed or _peer_spoke(raw.fileno()):
        connection.close()  # the next query connects again
        return
    # Checked for this call: Django asks no SELECT 1 (an attribute django-stubs lacks).
    connection.health_check_done = True  # type: ignore[attr-defined]


def _peer_spoke(fd: int) -> bool:
    """Whether the socket has something to read, or was closed, right now."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(0))
