"""/healthz and /readyz against the real embedded services the test session starts."""

from __future__ import annotations

import pytest

from config import embedded, model_workers
from knowledge import embeddings

CHECKS = {"database", "redis", "broker", "model_backend", "embedding_model"}


@pytest.fixture
def warm(db) -> None:
    """The embedding model loaded, as the web process does when it starts (config.asgi):
    until it is, /readyz says the model is not ready."""
    embeddings.get_model()


def test_healthz_says_the_process_is_up_without_touching_the_database(client) -> None:
    # No `db` fixture: pytest-django refuses any query, so a 200 proves none was made.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_needs_no_sign_in_and_is_never_cached(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_every_dependency_ok(client, warm) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    for name, check in body["checks"].items():
        assert check["status"] == "ok", (name, check)
        assert check["reason"] == "ok"
        assert check["latency_ms"] >= 0


def test_readyz_is_503_naming_the_model_backend_when_it_does_not_answer(
    client, settings, warm
) -> None:
    port = embedded.free_port()  # nothing listens there
    settings.LLM_BASE_URL = f"http://docent:s3cret-pass@127.0.0.1:{port}/v1"

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    backend = body["checks"]["model_backend"]
    assert (backend["status"], backend["reason"]) == ("error", "cannot connect")
    assert all(body["checks"][name]["status"] == "ok" for name in CHECKS - {"model_backend"})
    # Where the backend is, and its password, stay out of a body anyone may read.
    assert b"s3cret-pass" not in response.content
    assert str(port).encode() not in response.content


def test_readyz_checks_every_backend_and_stays_ready_while_one_answers(
    client, settings, warm
) -> None:
    answering = model_workers.llm_worker_url()  # the suite's own model worker
    dead = [embedded.free_port() for _ in range(2)]  # nothing listens there
    settings.LLM_BASE_URL = f"{answering},http://127.0.0.1:{dead[0]}/v1"

    partly = client.get("/readyz")

    assert partly.status_code == 200
    backend = partly.json()["checks"]["model_backend"]
    assert (backend["status"], backend["reason"]) == ("ok", "1 of 2 backends answer (down: 2)")

    settings.LLM_BASE_URL = ",".join(f"http://127.0.0.1:{port}/v1" for port in dead)
    none = client.get("/readyz")

    assert none.status_code == 503
    backend = none.json()["checks"]["model_backend"]
    assert (backend["status"], backend["reason"]) == ("error", "none of 2 backends answers")


@pytest.mark.django_db
def test_readyz_reports_a_broker_that_cannot_be_reached(client, settings, tmp_path) -> None:
    from config.celery import app

    missing = tmp_path / "no-redis.sock"
    app.conf.broker_url = f"redis+socket://{missing}"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL

    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["status"] == "error" and broker["reason"]
    assert str(tmp_path).encode() not in response.content


@pytest.mark.django_db
def test_readyz_does_not_wait_for_a_dependency_that_hangs(client) -> None:
    # The process's embedding model is taken (as by a long batch): its check cannot finish.
    with embeddings._lock:
        response = client.get("/readyz")

    assert response.status_code == 503
    check = response.json()["checks"]["embedding_model"]
    assert (check["status"], check["reason"]) == ("error", "timed out")
    assert response.json()["checks"]["database"]["status"] == "ok"
