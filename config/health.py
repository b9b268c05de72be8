"""Readiness checks: one function per dependency, each short, bounded in time and discreet.

A check returns nothing (or a short note) when its dependency answers and raises
`NotReady` with a short reason otherwise. Reasons never hold a URL (it may carry a password), an exception's
text (it may echo a query or a prompt) or a host name: only what failed and how
("refused", "timed out", "HTTP 503", the exception's class name).

Nothing here starts a service: a model worker that is not running is reported, not
started (docs/architecture.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import httpx
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from knowledge.embeddings import embed_query

# Seconds each check may take: a load balancer's probe must not hang on one dependency.
TIMEOUT = 3.0


class NotReady(Exception):
    """A dependency is not usable; the message is the short reason shown to the prober."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    reason: str
    latency_ms: float


def database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # a probe's own thread: leave no connection behind


def cache_redis() -> None:
    """Redis: the channel layer, the answer cache and the per-person limits."""
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


def broker() -> None:
    """Celery's broker: where uploads queue their ingest."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=TIMEOUT)


def model_backend() -> str | None:
    """Every model backend (LLM_BASE_URL's, else each embedded worker) lists its models.

    Ready while at least one answers: the fair line skips a backend that is down
    (chatbot.model_queue), so questions are still answered, more slowly; the reason then
    says how many of them answer, by position in the list (never a URL).
    """
    # Where the model line finds its backends, read the same way; imported here, as
    # chatbot's modules import config's when they load.
    from chatbot.llm import ModelUnavailable
    from chatbot.model_queue import backends_configured

    try:
        urls = [url for url, _ in backends_configured()]
    except ModelUnavailable:
        raise NotReady("no model worker is running") from None
    with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="readyz-model") as pool:
        failures = list(pool.map(_backend_failure, urls))  # None where it answers
    down = [n for n, failure in enumerate(failures, start=1) if failure is not None]
    if len(down) == len(urls):
        first = failures[0]
        assert first is not None
        raise NotReady(_reason(first) if len(urls) == 1 else f"none of {len(urls)} backends answers")
    if down:
        listed = ", ".join(map(str, down))
        return f"{len(urls) - len(down)} of {len(urls)} backends answer (down: {listed})"
    return None


def _backend_failure(url: str) -> Exception | None:
    """Why the backend at `url` does not list its models, or None when it does."""
    headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}"} if settings.LLM_API_KEY else {}
    try:
        response = httpx.get(f"{url}/models", headers=headers, timeout=TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - a reason, not a crash
        return exc
    return None if response.status_code == 200 else NotReady(f"HTTP {response.status_code}")


def embedding_model() -> None:
    """The embedding model loads (once per process) and embeds a word."""
    vector = embed_query("ready")
    if len(vector) != settings.EMBEDDING_DIMENSIONS:
        raise NotReady(f"{len(vector)} dimensions, not {settings.EMBEDDING_DIMENSIONS}")


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": database,
    "redis": cache_redis,
    "broker": broker,
    "model_backend": model_backend,
    "embedding_model": embedding_model,
}


def run_check(name: str, check: Callable[[], str | None]) -> CheckResult:
    """A check passes by returning: nothing ("ok"), or a note on how (a backend down)."""
    start = time.perf_counter()
    try:
        note = check()
    except Exception as exc:  # noqa: BLE001 - every failure is a reason, never a crash
        ok, reason = False, _reason(exc)
    else:
        ok, reason = True, note or "ok"
    return CheckResult(name, ok, reason, round((time.perf_counter() - start) * 1000, 1))


def readiness() -> list[CheckResult]:
    """Every check, at once: a probe takes as long as the slowest, not the sum.

    One that has not answered by the deadline (the embedding model busy with a long
    batch, a socket that hangs) is reported as timed out and left to finish on its own.
    """
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    deadline = time.monotonic() + TIMEOUT + 1
    try:
        futures = {name: pool.submit(run_check, name, check) for name, check in CHECKS.items()}
        results = []
        for name, future in futures.items():
            try:
                results.append(future.result(timeout=max(0, deadline - time.monotonic())))
            except FutureTimeout:
                results.append(CheckResult(name, False, "timed out", (TIMEOUT + 1) * 1000))
        return results
    finally:
        pool.shutdown(wait=False)


def _reason(exc: Exception) -> str:
    if isinstance(exc, NotReady):
        return str(exc)
    if isinstance(exc, (httpx.ConnectError, ConnectionRefusedError, redis.ConnectionError)):
        return "cannot connect"
    if isinstance(exc, (httpx.TimeoutException, TimeoutError, redis.TimeoutError)):
        return "timed out"
    return f"failed: {type(exc).__name__}"
