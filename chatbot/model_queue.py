"""The line in front of the model backends: fair across people, spread over every backend.

A model backend answers a few questions at a time (its slots: one for the embedded
llama-cpp-python worker, N for a llama-server started with `--parallel N`). Questions
beyond that wait here. The line is fair across people: whoever has waited longest
without being served goes next, round-robin by person, so one person's five questions
do not hold up another's one. Each waiting question hears its place (`queued`).

A backend that fails is taken out for a while (doubling from BACKOFF_SECONDS up to
BACKOFF_MAX_SECONDS) and its question is tried on another; once the pause is over it
gets questions again, and the first that succeeds clears its record.

The line lives in the web process (asyncio); with several web processes, each has its
own line over the same backends (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import weakref
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

from config import metrics, model_workers

log = logging.getLogger(__name__)

BACKOFF_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0

Position = Callable[[int], None]


@dataclass
class Backend:
    url: str
    slots: int
    busy: int = 0
    failures: int = 0
    down_until: float = 0.0

    def available(self, now: float) -> bool:
        return self.busy < self.slots and now >= self.down_until


@dataclass(eq=False)
class _Waiter:
    person: str
    tell: Position
    future: asyncio.Future[Backend] = field(default_factory=asyncio.Future)
    excluded: frozenset[str] = frozenset()
    told: int = 0
    since: float = field(default_factory=time.monotonic)


class NoBackend(Exception):
    """Every backend this question may use is failing."""


class ModelQueue:
    def __init__(self, backends: list[Backend]) -> None:
        self.backends = backends
        self._waiting: dict[str, deque[_Waiter]] = {}
        # When each person was last served (a tick of `_clock`): the least recently served
        # person with a question waiting goes first; someone never served, before them all.
        self._served: dict[str, int] = {}
        self._clock = itertools.count(1)
        self._timer: asyncio.TimerHandle | None = None

    # --- what answering uses ---------------------------------------------------------------

    async def acquire(
        self, *, person: str, tell: Position, excluded: frozenset[str] = frozenset()
    ) -> Lease:
        """Wait for a free slot on a working backend (not one of `excluded`). Release it."""
        return Lease(await self._acquire(person, tell, excluded))

    def release(self, lease: Lease) -> None:
        self._release(lease.backend, failed=lease.failed)

    def waiting(self) -> int:
        return sum(len(line) for line in self._waiting.values())

    # --- the line ------------------------------------------------------------------------------

    async def _acquire(self, person: str, tell: Position, excluded: frozenset[str]) -> Backend:
        if not self._usable(excluded):
            raise NoBackend("no model backend is left to try")
        waiter = _Waiter(person=person, tell=tell, excluded=excluded)
        self._waiting.setdefault(person, deque()).append(waiter)
        self._dispatch()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self._release(waiter.future.result(), failed=False)  # served as it left
            else:
                self._forget(waiter)
            raise

    def _usable(self, excluded: frozenset[str]) -> bool:
        return any(backend.url not in excluded for backend in self.backends)

    def _forget(self, waiter: _Waiter) -> None:
        line = self._waiting.get(waiter.person)
        if line and waiter in line:
            line.remove(waiter)
            if not line:
                del self._waiting[waiter.person]
        self._dispatch()

    def _release(self, backend: Backend, *, failed: bool) -> None:
        backend.busy -= 1
        if failed:
            backend.failures += 1
            pause = min(BACKOFF_SECONDS * 2 ** (backend.failures - 1), BACKOFF_MAX_SECONDS)
            backend.down_until = time.monotonic() + pause
            log.warning("model backend %s failed; paused for %.0f s", _address(backend.url), pause)
        else:
            backend.failures = 0
        self._dispatch()

    def _people_in_turn(self) -> list[str]:
        """People with a question waiting, the least recently served first."""
        return sorted(self._waiting, key=lambda person: self._served.get(person, 0))

    def _dispatch(self) -> None:
        """Serve whoever's turn it is while a working slot is free for their next question."""
        now = time.monotonic()
        served = True
        while served:
            served = False
            for person in self._people_in_turn():
                line = self._waiting[person]
                waiter = line[0]
                if waiter.future.done():  # cancelled, its task not yet told: drop it
                    line.popleft()
                    if not line:
                        del self._waiting[person]
                    served = True
                    break
                backend = self._free_backend(now, waiter.excluded)
                if backend is None:
                    continue  # busy (or paused) for this one: maybe not for the next person's
                line.popleft()
                if not line:
                    del self._waiting[person]
                backend.busy += 1
                waiter.future.set_result(backend)
                metrics.model_queue_waited(now - waiter.since)
                self._served[person] = next(self._clock)
                served = True
                break
        self._forget_old_turns()
        metrics.model_queue_seen(
            waiting=self.waiting(),
            backends=[(_address(b.url), b.busy, now >= b.down_until) for b in self.backends],
        )
        self._tell_positions()
        self._wake_when_a_backend_returns(now)

    def _forget_old_turns(self, keep: int = 10_000) -> None:
        if len(self._served) > keep:
            for person, _ in sorted(self._served.items(), key=lambda item: item[1])[: keep // 2]:
                if person not in self._waiting:
                    del self._served[person]

    def _free_backend(self, now: float, excluded: frozenset[str]) -> Backend | None:
        free = [b for b in self.backends if b.url not in excluded and b.available(now)]
        return min(free, key=lambda b: b.busy / b.slots) if free else None

    def _tell_positions(self) -> None:
        """Each waiting question's place (1 is served next, if a slot frees for it), in the
        order the turns would give: one question per person per round. Told on change."""
        lines = [list(self._waiting[person]) for person in self._people_in_turn()]
        order = [w for rank in itertools.zip_longest(*lines) for w in rank if w is not None]
        for place, waiter in enumerate(order, start=1):
            if waiter.told != place and not waiter.future.done():
                waiter.told = place
                waiter.tell(place)

    def _wake_when_a_backend_returns(self, now: float) -> None:
        if self._timer is not None or not self._waiting:
            return
        paused = [b.down_until for b in self.backends if b.down_until > now]
        if paused:
            loop = asyncio.get_running_loop()

            def wake() -> None:
                self._timer = None
                self._dispatch()

            self._timer = loop.call_later(min(paused) - now + 0.01, wake)


def _address(url: str) -> str:
    """host:port of a backend, for metrics and logs (never its path or credentials)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


@dataclass
class Lease:
    backend: Backend
    failed: bool = False

    @property
    def url(self) -> str:
        return self.backend.url


# One line per event loop (a web process has one; tests run many) and per configuration.
_queues: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[tuple[str, int], ...], ModelQueue]
] = weakref.WeakKeyDictionary()


def backends_configured() -> list[tuple[str, int]]:
    """(base URL, slots) of every backend: LLM_BASE_URL (comma-separated for several), else
    every embedded worker alive (LLM_WORKERS of them). Read on each question: the embedded
    workers may move ports."""
    from chatbot.llm import NO_WORKER, ModelUnavailable

    slots = max(1, int(settings.LLM_SLOTS))
    if settings.LLM_BASE_URL:
        urls = [u.strip().rstrip("/") for u in str(settings.LLM_BASE_URL).split(",") if u.strip()]
        return [(url, slots) for url in urls]
    urls = model_workers.llm_worker_urls()
    if not urls:
        raise ModelUnavailable(NO_WORKER)
    return [(url, slots) for url in urls]


async def lease(
    queue: ModelQueue, *, person: str, excluded: frozenset[str] = frozenset()
) -> AsyncGenerator[int | Lease, None]:
    """Wait in line: each new place (an int, 1 = next) while waiting, then the Lease.

    For a generator that must pass the places on (answering yields them to the socket)."""
    places: asyncio.Queue[int] = asyncio.Queue()
    acquiring = asyncio.ensure_future(
        queue.acquire(person=person, tell=places.put_nowait, excluded=excluded)
    )
    try:
        while not acquiring.done():
            place = asyncio.ensure_future(places.get())
            await asyncio.wait({acquiring, place}, return_when=asyncio.FIRST_COMPLETED)
            if place.done():
                yield place.result()
            else:
                place.cancel()
        yield acquiring.result()
    except BaseException:
        acquiring.cancel()  # stopped while waiting: the place is given up
        raise


def model_queue() -> ModelQueue:
    """This process's line for the configured backends (one per configuration, kept)."""
    key = tuple(backends_configured())
    lines = _queues.setdefault(asyncio.get_running_loop(), {})
    queue = lines.get(key)
    if queue is None:
        queue = lines[key] = ModelQueue([Backend(url, slots) for url, slots in key])
    return queue
