"""Docent's Prometheus metrics: every metric object, the calls that feed them, the scrape.

Callers use the small functions below (`answer_observed`, `question_failed`,
`socket_opened`, `ingest_stages`...), never the metric objects, so names and
labels live in this one module (docs/grafana-dashboard.json reads them).

One process or many: with PROMETHEUS_MULTIPROC_DIR set (an empty directory, emptied at
each start) every process (Daphne, Celery workers) writes its values there and a scrape
of any web process sums them; unset, a scrape shows the process that answers it, which
is enough for one Daphne and leaves out what Celery workers measure (docs/operations.md).
The environment variable must be set before the process starts: prometheus_client reads
it on import.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar

from django.conf import settings
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from knowledge.models import Document, DocumentStatus

if TYPE_CHECKING:
    from django.http import HttpRequest

S = TypeVar("S", bound=str)  # the pipeline's Stage names

# How a question ended: chatbot.models.Outcome's values, plus "error" when answering raised.
OUTCOMES = (
    "answered",
    "evidence",
    "model_failed",
    "abstained",
    "cached",
    "cancelled",
    "error",
)

# Seconds. An exact cache hit takes milliseconds; the bundled model's first words take
# about a second on two cores, a large model's whole answer up to minutes.
_ANSWER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)
_RETRIEVAL_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
_RATE_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 200)
_STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

QUESTIONS = Counter(
    "docent_questions", "Questions answered over the socket, by outcome.", ["outcome"]
)
FIRST_TOKEN = Histogram(
    "docent_answer_first_token_seconds",
    "From the question's arrival to its first words, by outcome.",
    ["outcome"],
    buckets=_ANSWER_BUCKETS,
)
ANSWER_TOTAL = Histogram(
    "docent_answer_seconds",
    "From the question's arrival to the whole answer, by outcome.",
    ["outcome"],
    buckets=_ANSWER_BUCKETS,
)
CACHE_HITS = Counter(
    "docent_cache_hits",
    "Questions answered from the answer cache, by tier (exact, semantic).",
    ["tier"],
)
MODEL_RATE = Histogram(
    "docent_model_tokens_per_second",
    "Model tokens per second of one answer, from the request to its last token.",
    buckets=_RATE_BUCKETS,
)
RETRIEVAL = Histogram(
    "docent_retrieval_seconds",
    "Hybrid search, rerank and context building for one uncached question.",
    buckets=_RETRIEVAL_BUCKETS,
)
INGEST_STAGE = Histogram(
    "docent_ingest_stage_seconds",
    "Duration of each ingest stage of one document (parsing, chunking, embedding, storing).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
# livesum: the sum over the processes alive now, so a restarted Daphne's sockets vanish.
SOCKETS = Gauge(
    "docent_sockets_open",
    "Chat websockets open and signed in.",
    multiprocess_mode="livesum",
)
# The fair line in front of the model backends (chatbot.model_queue).
MODEL_WAITING = Gauge(
    "docent_model_queue_waiting",
    "Questions waiting for a model backend slot.",
    multiprocess_mode="livesum",
)
MODEL_WAIT = Histogram(
    "docent_model_queue_wait_seconds",
    "How long a question waited in line for a model backend.",
    buckets=_ANSWER_BUCKETS,
)
BACKEND_BUSY = Gauge(
    "docent_model_backend_busy",
    "Questions a model backend is answering now (host:port; 0 = idle).",
    ["backend"],
    multiprocess_mode="livesum",
)
BACKEND_UP = Gauge(
    "docent_model_backend_up",
    "1 while a model backend takes questions, 0 while it is paused after a failure.",
    ["backend"],
    multiprocess_mode="liveall",
)


class Done(Protocol):
    """What `answer_observed` reads of chatbot.answering.DoneEvent (knowledge imports this module,
    and knowledge never imports chatbot)."""

    @property
    def outcome(self) -> str: ...
    @property
    def timings(self) -> dict[str, float]: ...
    @property
    def usage(self) -> _Usage | None: ...
    @property
    def cache_tier(self) -> str | None: ...


class _Usage(Protocol):
    @property
    def answer_tokens(self) -> int: ...


# --- Feeding them ---------------------------------------------------------------------------


def answer_observed(done: Done) -> None:
    """Count one finished answer and record its timings (milliseconds, chatbot.answering)."""
    outcome = str(done.outcome)
    QUESTIONS.labels(outcome=outcome).inc()
    if done.cache_tier:
        CACHE_HITS.labels(tier=done.cache_tier).inc()
    timings = done.timings
    if "first_token" in timings:
        FIRST_TOKEN.labels(outcome=outcome).observe(timings["first_token"] / 1000)
    if "total" in timings:
        ANSWER_TOTAL.labels(outcome=outcome).observe(timings["total"] / 1000)
    if "retrieve" in timings:
        RETRIEVAL.observe(timings["retrieve"] / 1000)
    # The model is asked once the evidence is out (first_token) and done at "model".
    model_ms = timings.get("model", 0) - timings.get("first_token", 0)
    if done.usage is not None and done.usage.answer_tokens > 0 and model_ms > 0:
        MODEL_RATE.observe(done.usage.answer_tokens / (model_ms / 1000))


def question_failed() -> None:
    """Answering raised (model unreachable with nothing to show, a bug): outcome "error"."""
    QUESTIONS.labels(outcome="error").inc()


def question_cancelled() -> None:
    """The reader stopped the answer or closed the socket before it was done."""
    QUESTIONS.labels(outcome="cancelled").inc()


def model_queue_seen(*, waiting: int, backends: list[tuple[str, int, bool]]) -> None:
    """The line's state: questions waiting, and each backend's (host:port, busy, up)."""
    MODEL_WAITING.set(waiting)
    for backend, busy, up in backends:
        BACKEND_BUSY.labels(backend=backend).set(busy)
        BACKEND_UP.labels(backend=backend).set(1 if up else 0)


def model_queue_waited(seconds: float) -> None:
    MODEL_WAIT.observe(seconds)


def socket_opened() -> None:
    SOCKETS.inc()


def socket_closed() -> None:
    SOCKETS.dec()


@contextlib.contextmanager
def ingest_stages(on_stage: Callable[[S], None] | None) -> Iterator[Callable[[S], None]]:
    """Time the ingest stages of one run: each lasts until the next starts or the run ends.

    Yields the `on_stage` to hand to the pipeline (calling the caller's too). A stage
    cut short by a failure is not recorded: its time says nothing about the stage.
    """
    current: list[tuple[S, float]] = []

    def started(stage: S) -> None:
        now = time.perf_counter()
        if current:
            INGEST_STAGE.labels(stage=current[0][0]).observe(now - current[0][1])
        current[:] = [(stage, now)]
        if on_stage is not None:
            on_stage(stage)

    yield started
    if current:
        INGEST_STAGE.labels(stage=current[0][0]).observe(time.perf_counter() - current[0][1])


# --- The scrape -----------------------------------------------------------------------------


class IngestBacklog:
    """Documents waiting for a worker and being ingested, read from PostgreSQL at each scrape
    (the database, not the broker, is the record of pending work: knowledge.tasks)."""

    def collect(self) -> Iterator[Metric]:
        queued = Document.objects.filter(status=DocumentStatus.QUEUED).count()
        running = Document.objects.exclude(
            status__in=(DocumentStatus.QUEUED, DocumentStatus.READY, DocumentStatus.FAILED)
        ).count()
        yield GaugeMetricFamily(
            "docent_ingest_queue_depth", "Documents queued and not yet started.", value=queued
        )
        yield GaugeMetricFamily(
            "docent_ingest_running", "Documents being parsed, chunked or embedded.", value=running
        )


class _ThisProcess:
    """The default registry (this process's metrics and its CPU and memory) as one collector."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition() -> bytes:
    """The metrics in Prometheus's text format: every process's (multiprocess) or this one's."""
    registry = CollectorRegistry()
    if settings.METRICS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.METRICS_MULTIPROC_DIR)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(IngestBacklog())
    return generate_latest(registry)


def scrape_allowed(request: HttpRequest) -> bool:
    """METRICS_TOKEN as a bearer token, or a client address on METRICS_ALLOWED_IPS.

    A request that came through the reverse proxy (X-Forwarded-For set) is never judged by
    its address: behind a proxy on the same host every client would look like loopback.
    """
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if "x-forwarded-for" in request.headers:
        return False
    return address_allowed(request.META.get("REMOTE_ADDR", ""), settings.METRICS_ALLOWED_IPS)


def address_allowed(address: str, allowed: list[str]) -> bool:
    """Whether `address` is one of `allowed` (addresses or networks such as 10.0.0.0/8)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in allowed)
