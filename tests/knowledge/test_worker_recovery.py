"""A worker killed mid-ingest loses nothing: the next worker to start finishes the document.

The Redis broker would hand the killed worker's unacknowledged task out again
only after the visibility timeout (hours), so what is proven here is the
database-side record: a fresh worker's worker_ready hook
(knowledge.tasks.requeue_pending_documents) queues every half-done document again.

The worker is killed with SIGKILL in each stage of the pipeline: parsing (held
in place by a FIFO in the stored file's place: the worker waits on its read),
chunking (a document long enough to chunk for a second or so), embedding, and
saving (held in place by a row lock on the old chunks, so it dies inside the
transaction that replaces them). Each time the document ends ready with exactly
one set of chunks, the new version's.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from knowledge.models import Chunk, Collection, Document
from knowledge.pipeline import document_ingest
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


# --- every other stage ------------------------------------------------------------------------


def upload(collection: Collection, path: Path, text: str) -> Document:
    path.write_text(text)
    with path.open("rb") as content:
        return document_upload(
            collection=collection, content=content, original_name="procedures.md"
        ).document


def kill(worker: Worker) -> None:
    os.killpg(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(timeout=20)


def status_of(document: Document) -> str:
    status, _ = Document.objects.values_list("status", "progress").get(pk=document.pk)
    assert status not in ("ready", "failed"), "the document finished before it could be cut"
    return status


def finished_by_a_fresh_worker(workers: Callable[..., Worker], document: Document) -> Document:
    """Start a fresh worker, wait for the document to end, and check it has one set of chunks."""
    fresh = workers("fresh")
    wait_for(
        lambda: Document.objects.get(pk=document.pk).status in ("ready", "failed"),
        timeout=300,
        what="the fresh worker to finish the document",
    )
    document.refresh_from_db()
    assert (document.status, document.error) == ("ready", "")
    positions = list(document.chunks.order_by("position").values_list("position", flat=True))
    assert positions == list(range(document.chunk_count))
    assert document.attempts == 2
    assert any("re-queued 1 pending documents" in line for line in fresh.output)
    return document


def test_a_document_whose_worker_died_while_parsing_is_finished_by_a_fresh_worker(
    tmp_path, workers, handbook
):
    document = upload(handbook, tmp_path / "procedures.md", LARGE)
    stored = Path(document.file.path)
    content = stored.read_bytes()
    # A FIFO in the file's place: the worker's read of it waits until we write, or for ever.
    stored.unlink()
    os.mkfifo(stored)
    first = workers("doomed")

    wait_for(lambda: status_of(document) == "parsing", timeout=180, what="the parsing stage")
    writer = None

    def reading() -> bool:
        nonlocal writer
        try:  # succeeds only once the worker has the FIFO open for reading
            writer = os.open(stored, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            assert exc.errno == errno.ENXIO
            return False
        return True

    wait_for(reading, timeout=180, what="the worker to read the file")
    kill(first)
    assert writer is not None
    os.close(writer)
    stored.unlink()
    stored.write_bytes(content)

    document.refresh_from_db()
    assert (document.status, document.chunks.count()) == ("parsing", 0)
    document = finished_by_a_fresh_worker(workers, document)
    assert "Step 159.13 checks valve 13" in "".join(document.chunks.values_list("text", flat=True))


# ~800 sections: chunking takes a second or more, long enough to be caught in.
SLOW_TO_CHUNK = "\n\n".join(
    f"## Check {n}\n\n" + " ".join(f"Item {n}.{k} is inspected daily." for k in range(6))
    for n in range(800)
)


def test_a_document_whose_worker_died_while_chunking_is_finished_by_a_fresh_worker(
    tmp_path, workers, handbook
):
    first = workers("doomed")
    document = upload(handbook, tmp_path / "checks.md", SLOW_TO_CHUNK)

    wait_for(lambda: status_of(document) == "chunking", timeout=180, what="the chunking stage")
    kill(first)

    document.refresh_from_db()
    assert (document.status, document.chunks.count()) == ("chunking", 0)
    assert finished_by_a_fresh_worker(workers, document).chunk_count >= 800


def test_a_document_whose_worker_died_while_saving_its_chunks_keeps_the_old_set_until_a_fresh_worker_saves_the_new(
    tmp_path, workers, handbook
):
    old = upload(handbook, tmp_path / "v1.md", "# Procedures\n\nThe old valve procedure.\n")
    assert document_ingest(document_id=old.pk, version=old.version) == "ready"
    old_chunks = list(Chunk.objects.filter(document=old).values_list("pk", flat=True))
    document = upload(handbook, tmp_path / "v2.md", LARGE)
    assert document.pk == old.pk and document.version == 2

    # Hold the old chunks' rows: the worker's transaction that replaces them waits on them.
    locked, release = threading.Event(), threading.Event()

    def hold_old_chunks() -> None:
        try:
            with transaction.atomic():
                # The chunks' rows only: the default ordering joins the document, whose row
                # the worker must still be free to update.
                chunks = Chunk.objects.select_for_update(of=("self",)).filter(pk__in=old_chunks)
                list(chunks.order_by("pk"))
                locked.set()
                release.wait(timeout=600)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_old_chunks)
    holder.start()
    locked.wait(timeout=60)
    first = workers("doomed")
    saving: list[int] = []

    def waiting_to_replace_the_chunks() -> bool:
        status_of(document)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'DELETE FROM \"knowledge_chunk\"%%'"
            )
            saving.extend(pid for (pid,) in cursor.fetchall())
        return bool(saving)

    try:
        wait_for(waiting_to_replace_the_chunks, timeout=300, what="the saving stage")
        kill(first)
    finally:
        release.set()
        holder.join(timeout=60)

    def gone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", saving[:1])
            return cursor.fetchone()[0] == 0

    # The dead worker's session rolls back its transaction and ends once it may go on.
    wait_for(gone, timeout=60, what="the killed worker's session to end")
    document.refresh_from_db()
    assert document.status == "embedding"
    assert sorted(document.chunks.values_list("pk", flat=True)) == sorted(old_chunks)

    document = finished_by_a_fresh_worker(workers, document)

    text = "".join(document.chunks.values_list("text", flat=True))
    assert "The old valve procedure." not in text and "Step 159.13 checks valve 13" in text
