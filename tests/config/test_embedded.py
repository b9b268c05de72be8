"""The embedded services: started on demand by entry points, reused, stopped; nothing on import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import embedded, model_workers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty var directory of this test's own; whatever it started is stopped after."""
    var = tmp_path / "var"
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))
    yield var
    embedded.stop_redis()
    model_workers.stop_llm_worker()


def stand_in_worker() -> subprocess.Popen[bytes]:
    """A process to record as the model worker, reaped as soon as it ends (as init would)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    threading.Thread(target=proc.wait, daemon=True).start()
    return proc


def redis_server_pid(var: Path) -> int:
    return int((var / "redis.pid").read_text())


def test_it_starts_redis_on_a_socket_in_the_var_directory(fresh_var: Path) -> None:
    assert not embedded._redis_ping(fresh_var / "redis.sock")

    path = embedded.ensure_redis()

    assert path == fresh_var / "redis.sock"
    assert embedded._redis_ping(path)


def test_a_running_redis_is_reused_not_started_again(fresh_var: Path) -> None:
    embedded.ensure_redis()
    first = redis_server_pid(fresh_var)

    embedded.ensure_redis()

    assert redis_server_pid(fresh_var) == first
    assert (fresh_var / "log" / "redis.log").read_text().count("Redis is starting") == 1


def test_processes_starting_redis_at_once_start_one_server(fresh_var: Path) -> None:
    start = "from config import embedded; embedded.ensure_redis()"
    env = {**os.environ, "DOCENT_VAR_DIR": str(fresh_var)}
    procs = [
        subprocess.Popen([sys.executable, "-c", start], cwd=ROOT, env=env) for _ in range(3)
    ]

    assert [proc.wait(timeout=60) for proc in procs] == [0, 0, 0]
    assert (fresh_var / "log" / "redis.log").read_text().count("Redis is starting") == 1
    assert embedded._redis_ping(fresh_var / "redis.sock")


def test_stopping_redis_stops_it_once(fresh_var: Path) -> None:
    path = embedded.ensure_redis()

    assert embedded.stop_redis() is True

    assert not embedded._redis_ping(path)
    assert embedded.stop_redis() is False


def test_services_configured_elsewhere_are_not_started(fresh_var: Path, settings) -> None:
    settings.EMBEDDED_REDIS = False
    settings.LLM_BASE_URL = "http://llm.example:8001/v1"

    embedded.ensure_services(redis=True, llm=True)

    assert not (fresh_var / "redis.sock").exists()
    assert not (fresh_var / "llm.json").exists()


def test_the_model_worker_url_is_read_not_started(fresh_var: Path) -> None:
    assert model_workers.llm_worker_url() is None
    fresh_var.mkdir()

    # A worker recorded by a process that is gone is not a worker.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (fresh_var / "llm.json").write_text(f'{{"pid": {gone.pid}, "port": 1}}')
    assert model_workers.llm_worker_url() is None

    # A live process is taken at its word; whether it answers yet is the client's concern.
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        (fresh_var / "llm.json").write_text(f'{{"pid": {alive.pid}, "port": 4321}}')
        assert model_workers.llm_worker_url() == "http://127.0.0.1:4321/v1"
        assert sorted(p.name for p in fresh_var.iterdir()) == ["llm.json"]
    finally:
        alive.kill()
        alive.wait()


def test_stopping_the_model_worker_ends_the_recorded_process(fresh_var: Path) -> None:
    fresh_var.mkdir()
    worker = stand_in_worker()
    (fresh_var / "llm.json").write_text(f'{{"pid": {worker.pid}, "port": 1}}')

    assert model_workers.stop_llm_worker() is True

    assert worker.wait(timeout=10) == -signal.SIGTERM
    assert not (fresh_var / "llm.json").exists()


def test_a_model_worker_serving_another_model_is_stopped(fresh_var: Path, settings) -> None:
    # A worker outlives its starter: after LLM_MODEL_PATH changes, the old model must not go on.
    fresh_var.mkdir()
    worker = stand_in_worker()
    (fresh_var / "llm.json").write_text(f'{{"pid": {worker.pid}, "port": 1}}')  # bundled
    settings.LLM_MODEL_PATH = ""
    assert model_workers.stop_llm_worker_of_other_model() is False
    assert worker.poll() is None

    settings.LLM_MODEL_PATH = "/models/larger.gguf"
    assert model_workers.stop_llm_worker_of_other_model() is True

    assert worker.wait(timeout=10) == -signal.SIGTERM
    assert not (fresh_var / "llm.json").exists()


def test_the_secret_key_is_generated_once_and_kept_private(fresh_var: Path) -> None:
    assert embedded.secret_key_read() is None

    key = embedded.secret_key_ensure()

    assert len(key) >= 50
    assert embedded.secret_key_ensure() == key
    assert embedded.secret_key_read() == key
    assert (fresh_var / "secret_key").stat().st_mode & 0o777 == 0o600
