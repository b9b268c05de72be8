"""Two Daphne processes sharing the Redis channel layer, as behind a proxy.

An event published by one web process reaches a socket held by the other, and two
people asking at once, each through another process, each get only their own answer.
Real processes, real sockets (the `websockets` client), the session's database, Redis and
model worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from websockets.sync.client import ClientConnection, connect

from accounts.models import User
from accounts.services import token_create
from config.embedded import free_port
from knowledge.models import Collection, Document
from knowledge.pipeline import document_ingest
from knowledge.uploads import document_upload
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 300  # seconds: a bound on waiting for a message, not a speed assertion


def daphne(port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DOCENT_DB_NAME": settings.DATABASES["default"]["NAME"],
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "config.asgi:application"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )


@pytest.fixture
def two_web_processes(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two web processes on two ports: (A, B) as host:port (their output in tmp_path)."""
    ports = [free_port(), free_port()]
    procs = [daphne(port, tmp_path / f"daphne-{port}.log") for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, "daphne exited"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "daphne did not start"
                time.sleep(0.3)
        yield f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def socket(host: str, path: str, token: str) -> ClientConnection:
    return connect(
        f"ws://{host}{path}", additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=60,
    )


def receive(ws: ClientConnection) -> dict:
    return json.loads(ws.recv(timeout=WAIT))


def test_a_progress_event_from_one_web_process_reaches_a_feed_on_the_other(
    two_web_processes: tuple[str, str], alice: User, handbook: Collection, tmp_path: Path
) -> None:
    a, b = two_web_processes
    token = token_create(user=alice, name="scale-out")
    with socket(a, "/ws/knowledge/", token) as feed:
        # Uploaded and deleted through B's REST API: B publishes, A holds the socket.
        (tmp_path / "notice.md").write_text("# Notice\n\nThe canteen opens at 11:30.")
        with (tmp_path / "notice.md").open("rb") as content:
            uploaded = httpx.post(
                f"http://{b}/api/documents/", data={"collection": handbook.slug},
                files={"file": ("notice.md", content, "text/markdown")},
                headers={"Authorization": f"Bearer {token}"}, timeout=60,
            )
        assert uploaded.status_code == 201, uploaded.text
        document = uploaded.json()["documents"][0]["document"]
        deleted = httpx.delete(
            f"http://{b}/api/documents/{document}/",
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        )
        assert deleted.status_code in (200, 204), deleted.text

        statuses: list[str] = []
        while not statuses or statuses[-1] != "deleted":
            event = receive(feed)
            if event.get("document") == document:  # events of other documents may come too
                assert event["type"] == "document.progress"
                statuses.append(event["status"])

    assert statuses == ["queued", "deleted"]
    assert not Document.objects.filter(pk=document).exists()


def ingest(collection: Collection, tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    with (tmp_path / name).open("rb") as content:
        document = document_upload(
            collection=collection, content=content, original_name=name, enqueue=False
        ).document
    assert document_ingest(document_id=document.pk, version=document.version) == "ready"


def test_two_people_asking_at_once_through_two_web_processes_each_get_their_own_answer(
    two_web_processes: tuple[str, str], bob: User, carol: User, handbook: Collection,
    tmp_path: Path,
) -> None:
    ingest(handbook, tmp_path, "valves.md",
           "# Valves\n\nThe pressure valve in hall 3 must be inspected every 14 days.")
    ingest(handbook, tmp_path, "badges.md",
           "# Visitors\n\nVisitor badges are handed back at the front desk before 17:00.")
    a, b = two_web_processes
    asks = [
        (bob, a, "How often must the pressure valve in hall 3 be inspected?", "14 days"),
        (carol, b, "Where are visitor badges handed back?", "front desk"),
    ]
    received: dict[str, list[dict]] = {}
    ready = threading.Barrier(len(asks))

    def ask(user: User, host: str, question: str) -> None:
        with socket(host, "/ws/chat/", token_create(user=user, name="scale-out")) as chat:
            assert receive(chat)["type"] == "hello"
            ready.wait(timeout=WAIT)  # both sockets open: the questions go at once
            # The same id on both sockets: a crossed stream would show up as a second done.
            chat.send(json.dumps({"type": "ask", "id": "q", "text": question, "fresh": True}))
            messages = received.setdefault(user.username, [])
            while not messages or messages[-1]["type"] not in ("done", "error"):
                messages.append(receive(chat))

    threads = [
        threading.Thread(target=ask, args=(user, host, question)) for user, host, question, _ in asks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT * 2)

    for user, _, _, expected in asks:
        messages = received[user.username]
        done = messages[-1]
        assert done["type"] == "done", messages
        assert [m for m in messages if m["type"] == "done"] == [done]
        assert expected in done["answer"]
        streamed = "".join(m["text"] for m in messages if m["type"] == "token")
        assert streamed.strip() and expected in streamed
    # Neither saw the other's fact.
    assert "front desk" not in json.dumps(received["bob"])
    assert "14 days" not in json.dumps(received["carol"])
