"""Two Celery workers on one batch: each document is ingested exactly once.

Ten documents are uploaded (each queued once, as the upload view queues it), then the
whole batch is queued again, as a worker's start does with every pending document
(knowledge.tasks.requeue_pending_documents) while the first copies are still being
worked on. Two real workers share the queue; the pipeline's advisory lock and its claim
of the version keep a second copy of a document from ingesting it again.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from knowledge.models import Collection, Document
from knowledge.tasks import ingest_document
from knowledge.uploads import document_upload
from tests.conftest import worker_popen

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTS = 10


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def drain(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.output.append(line)

    def outcomes(self, outcome: str) -> int:
        """Tasks this worker ran to the given outcome (Celery logs each task's return value)."""
        return sum(
            "knowledge.tasks.ingest_document" in line and "succeeded in" in line
            and line.rstrip().endswith(f"'{outcome}'")
            for line in self.output
        )


def start(name: str) -> Worker:
    proc = worker_popen(name)
    worker = Worker(name, proc)
    deadline = time.monotonic() + 120  # a bound on waiting, not a speed assertion
    for line in proc.stdout:  # type: ignore[union-attr]
        worker.output.append(line)
        if "ready." in line:
            threading.Thread(target=worker.drain, daemon=True).start()
            return worker
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"the Celery worker {name} did not start:\n{''.join(worker.output)}")


@pytest.fixture
def two_workers() -> Iterator[list[Worker]]:
    workers = [start("first"), start("second")]
    yield workers
    for worker in workers:
        worker.proc.terminate()
    for worker in workers:
        try:
            worker.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
    # A copy that found its document locked was put back to retry later: nothing is left to do.
    from config.celery import app

    app.control.purge()


def manual(n: int) -> str:
    """A document of a few dozen chunks: each takes a worker a moment, so both take part."""
    return f"# Manual {n}\n\n" + "\n\n".join(
        f"## Part {n}.{p}\n\n"
        + " ".join(f"Unit {n} part {p} step {k} sets dial {k} to {n + k}." for k in range(12))
        for p in range(30)
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout  # a bound on waiting, not a speed assertion
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_two_workers_ingest_a_batch_each_document_exactly_once(
    tmp_path: Path, two_workers: list[Worker], handbook: Collection
) -> None:
    documents = []
    for n in range(DOCUMENTS):
        path = tmp_path / f"manual-{n}.md"
        path.write_text(manual(n))
        with path.open("rb") as content:
            documents.append(
                document_upload(collection=handbook, content=content, original_name=path.name)
                .document
            )
    for document in documents:  # the batch again, as a worker's start re-queues pending work
        ingest_document.delay(document.pk, document.version)

    wait_for(
        lambda: Document.objects.filter(pk__in=[d.pk for d in documents])
        .exclude(status__in=("ready", "failed"))
        .count()
        == 0,
        timeout=600,
        what="the batch to be ingested",
    )

    for document in documents:
        document.refresh_from_db()
        assert (document.status, document.error) == ("ready", ""), document.original_name
        positions = list(document.chunks.order_by("position").values_list("position", flat=True))
        # One set of chunks: every position once, as many as the document says it has.
        assert document.chunk_count > 20
        assert positions == list(range(document.chunk_count))
        assert document.attempts == 1  # claimed by one run only
    # Celery logs a task's outcome just after the document is saved.
    wait_for(
        lambda: sum(worker.outcomes("ready") for worker in two_workers) >= DOCUMENTS,
        timeout=60,
        what="the workers to log the runs",
    )
    ran = {worker.name: worker.outcomes("ready") for worker in two_workers}
    # Every document was ingested by one worker: ten runs ended ready in all, and both
    # workers took part.
    assert sum(ran.values()) == DOCUMENTS, ran
    assert all(ran.values()), ran
