"""Shared fixtures: personas, a real Celery worker, and the embedded services' lifetime.

Tests run against the same embedded PostgreSQL (with pgvector), Redis and model
worker that `make run` uses, under var/test/ (config.embedded.var_dir). The
test session is an entry point like `up`: `embedded_services` starts them once
(PostgreSQL on the first connection) and `pytest_unconfigure` stops them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from accounts.services import user_ensure
from knowledge.collections import collection_ensure
from knowledge.models import Collection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def embedded_services() -> None:
    """Redis and the model worker, once per session; setting Django up starts nothing.

    Every test that uses the database gets them (through `django_db_setup`);
    a test that needs Redis or the model without the database asks for this
    fixture. The model worker is waited for here: the LLM client only reads
    where it is (chatbot.llm). With REDIS_URL or LLM_BASE_URL set, those are
    used instead and nothing is started.
    """
    from config import embedded

    embedded.ensure_services(redis=True, llm=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Leave nothing running after the suite (CI runs on a shared machine).
    from config import embedded

    embedded.stop_all()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, embedded_services):
    """After the suite, end worker and thread connections so the test database can be dropped."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """A channel layer binds to the event loop that first receives on it; tests use several."""
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    """Per-person limits live in Redis, across tests: each test starts with none counted."""
    import redis

    from chatbot.answer_cache.store import client

    try:
        keys = list(client().scan_iter("docent:limits:*"))
        if keys:
            client().delete(*keys)
    except redis.RedisError:
        pass  # not started yet: nothing is counted either


# --- personas: alice the admin, bob in Engineering, carol in HR, dave with no groups ---------


@pytest.fixture
def alice(db) -> User:
    return user_ensure(
        username="alice", password="pw-alice", groups=[], is_staff=True, is_superuser=True
    )[0]


@pytest.fixture
def bob(db) -> User:
    return user_ensure(username="bob", password="pw-bob", groups=["Engineering"])[0]


@pytest.fixture
def carol(db) -> User:
    return user_ensure(username="carol", password="pw-carol", groups=["HR"])[0]


@pytest.fixture
def dave(db) -> User:
    return user_ensure(username="dave", password="pw-dave", groups=[])[0]


@pytest.fixture
def handbook(db) -> Collection:
    return collection_ensure(slug="handbook", name="Employee handbook", public=True)


@pytest.fixture
def hr(db) -> Collection:
    return collection_ensure(slug="hr", name="HR confidential", public=False, groups=["HR"])


@pytest.fixture
def engineering(db) -> Collection:
    return collection_ensure(
        slug="engineering", name="Engineering", public=False, groups=["Engineering"]
    )


# --- a real Celery worker on the test database ------------------------------------------------


def worker_popen(name: str, *, new_session: bool = False, **env: str) -> subprocess.Popen:
    """A real Celery worker process on the test database and media folder."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
         "--loglevel=INFO", f"--hostname={name}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env={
            **os.environ,
            "DOCENT_DB_NAME": settings.DATABASES["default"]["NAME"],
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )


def start_worker(name: str) -> subprocess.Popen:
    proc = worker_popen(name)
    deadline = time.monotonic() + 120
    for line in proc.stdout:  # type: ignore[union-attr]
        if "ready." in line:
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("the Celery worker did not start")


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[subprocess.Popen]:
    """A real worker process. The test must use committed data (transactional_db)."""
    proc = start_worker("test")
    # Keep draining its output so the pipe never fills and blocks it.
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
