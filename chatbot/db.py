"""Database work on the chat path, in a pool of threads rather than Channels' one shared thread.

`sync_to_async` (and `database_sync_to_async`) run every call in a single thread by
default, so fifty people whose answers come from the cache wait for each other's few
milliseconds of queries, one after another. These calls touch only their own rows and
need no thread affinity: they run in the event loop's thread pool instead, each thread
keeping its own connection (CONN_MAX_AGE, checked before each call).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")


def in_pool(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` as a coroutine that runs it in a pool thread with a usable connection."""

    @functools.wraps(function)
    def fresh(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()  # a connection past CONN_MAX_AGE or broken is replaced
        return function(*args, **kwargs)

    return sync_to_async(fresh, thread_sensitive=False)
