"""A worker killed mid-ingest loses nothing: the next worker to start finishes the document.

The Redis broker would hand the killed worker's unacknowledged task out again
only after the visibility timeout (hours), so what is proven here is the
database-side record: a fresh worker's worker_ready hook
(knowledge.tasks.requeue_pending_documents) queues every half-done document again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from knowledge.models import Document
from knowledge.uploads import document_upload
from tests.conftest import worker_popen

pytestmark = pytest.mark.django_db(transaction=True)

# ~160 sections of ~120 words: one chunk each, so embedding takes seconds, not milliseconds.
LARGE = "\n\n".join(
    f"## Procedure {n}\n\n"
    + " ".join(f"Step {n}.{k} checks valve {k} and logs it." for k in range(14))
    for n in range(160)
)


@dataclass
class Worker:
    proc: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def drain(self) -> None:
        """Keep reading its output so the pipe never fills and blocks it."""
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.output.append(line)


def spawn_worker(name: str, **env: str) -> Worker:
    """A Celery worker in a session of its own, so its whole process group can be killed.

    (tests.conftest.start_worker shares pytest's process group, where killpg would
    take pytest down with it.)
    """
    proc = worker_popen(name, new_session=True, **env)
    worker = Worker(proc)
    deadline = time.monotonic() + 120
    for line in proc.stdout:  # type: ignore[union-attr]
        worker.output.append(line)
        if "ready." in line:
            threading.Thread(target=worker.drain, daemon=True).start()
            return worker
        if time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("the Celery worker did not start")


@pytest.fixture
def workers() -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(name: str, **env: str) -> Worker:
        started.append(spawn_worker(name, **env))
        return started[-1]

    yield start
    for proc in (worker.proc for worker in started):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_document_whose_worker_died_while_embedding_is_finished_by_a_fresh_worker(
    tmp_path, workers, handbook
):
    # Small embedding batches make progress move while there is still much to do.
    first = workers("doomed", EMBEDDING_BATCH_SIZE="8")
    (tmp_path / "procedures.md").write_text(LARGE)
    with (tmp_path / "procedures.md").open("rb") as content:
        document = document_upload(
            collection=handbook, content=content, original_name="procedures.md"
        ).document

    def embedding_under_way() -> bool:
        status, progress = Document.objects.values_list("status", "progress").get(pk=document.pk)
        assert status not in ("ready", "failed"), "the document finished before it could be cut"
        return status == "embedding" and progress > 40

    wait_for(embedding_under_way, timeout=180, what="the embedding stage")
    os.killpg(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=20)

    document.refresh_from_db()
    assert document.status == "embedding"
    assert document.chunks.count() == 0

    fresh = workers("fresh")
    wait_for(
        lambda: Document.objects.get(pk=document.pk).status in ("ready", "failed"),
        timeout=300,
        what="the fresh worker to finish the document",
    )

    document.refresh_from_db()
    assert (document.status, document.error) == ("ready", "")
    positions = list(document.chunks.order_by("position").values_list("position", flat=True))
    assert document.chunk_count > 100
    assert positions == list(range(document.chunk_count))
    assert document.attempts == 2
    assert any("re-queued 1 pending documents" in line for line in fresh.output)
