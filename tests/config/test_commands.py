"""`help` and `check` start nothing; `down` stops what runs; `up` serves the site and stops it all.

Each runs `manage.py` as a real process on a var directory of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from config import embedded
from tests.config.test_embedded import stand_in_worker

ROOT = Path(__file__).resolve().parents[2]
ENV_OF_THE_SESSION = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "LLM_BASE_URL",
                      "DOCENT_DB_NAME", "MEDIA_ROOT", "SECRET_KEY")


def env_for(var: Path, **extra: str) -> dict[str, str]:
    """This environment on embedded defaults, with `var` as the var directory."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_OF_THE_SESSION}
    return {**env, "DOCENT_VAR_DIR": str(var), **extra}


def manage(var: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env_for(var),
        capture_output=True, text=True, timeout=timeout,
    )


@pytest.mark.parametrize("command", [["help"], ["check"], ["help", "ingest"]])
def test_a_command_that_needs_no_service_starts_none_and_writes_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    var = tmp_path / "var"

    result = manage(var, *command)

    assert result.returncode == 0, result.stderr
    assert not var.exists(), sorted(str(p.relative_to(var)) for p in var.rglob("*"))


@pytest.mark.parametrize(
    "entry", ["import config.asgi", "import django; django.setup(); import config.celery, knowledge.tasks"]
)
def test_importing_the_web_and_worker_applications_starts_nothing(tmp_path: Path, entry: str) -> None:
    var = tmp_path / "var"
    code = f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); {entry}"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env_for(var), capture_output=True, text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert not var.exists(), sorted(str(p.relative_to(var)) for p in var.rglob("*"))


def test_down_stops_redis_and_the_model_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "var"
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))
    socket = embedded.ensure_redis()
    # A stand-in for the model worker: `down` only needs a process recorded in llm.json.
    worker = stand_in_worker()
    (var / "llm.json").write_text(json.dumps({"pid": worker.pid, "port": 1}))
    try:
        result = manage(var, "down")

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "stopped: model worker, redis"
        assert not embedded._redis_ping(socket)
        assert worker.wait(timeout=10) == -signal.SIGTERM
        assert manage(var, "down").stdout.strip() == "nothing was running"
    finally:
        worker.kill()
        embedded.stop_redis()


@pytest.fixture
def up_var() -> Iterator[Path]:
    """A var directory for `up`, inside the session's: PostgreSQL's own user can reach it."""
    var = embedded.var_dir() / f"up-{os.getpid()}"
    yield var
    subprocess.run([sys.executable, "manage.py", "down"], cwd=ROOT, env=env_for(var),
                   capture_output=True, timeout=120)
    shutil.rmtree(var, ignore_errors=True)


def test_up_serves_the_site_and_stops_everything_it_started(up_var: Path) -> None:
    port = embedded.free_port()
    # No demo content, and a model server elsewhere (nothing listens there): the test is about
    # the processes, not the model.
    env = env_for(up_var, LLM_BASE_URL=f"http://127.0.0.1:{embedded.free_port()}/v1")
    up = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--no-demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    try:
        assert up.stdout is not None
        for line in up.stdout:
            output.append(line)
            if "Docent is up" in line:
                break
        assert up.poll() is None, "".join(output)

        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)

        assert page.status_code == 302 and "/accounts/login/" in page.headers["location"]
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=30).status_code == 200
        assert embedded._redis_ping(up_var / "redis.sock")
        assert (up_var / "secret_key").exists()
    finally:
        up.send_signal(signal.SIGTERM)
        rest, _ = up.communicate(timeout=120)
        output.append(rest)

    assert up.returncode == 0, "".join(output)
    assert "stopped embedded redis, postgres" in "".join(output)
    assert not embedded._redis_ping(up_var / "redis.sock")
    assert not (up_var / "pg" / "postmaster.pid").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
