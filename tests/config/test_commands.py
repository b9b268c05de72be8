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
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

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


class Output:
    """A process's output, collected by a thread so that waiting for a line can give up."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.closed = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
        self.closed.set()

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout  # a bound on waiting, not a speed assertion
        while text not in self.text():
            if self.closed.is_set() or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"{text!r} never came:\n{self.text()}")
            time.sleep(0.2)


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
    output = Output(up)
    try:
        output.wait_for("Docent is up")
        assert up.poll() is None, output.text()

        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)

        assert page.status_code == 302 and "/accounts/login/" in page.headers["location"]
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=30).status_code == 200
        assert embedded._redis_ping(up_var / "redis.sock")
        assert (up_var / "secret_key").exists()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=120)
        output.closed.wait(timeout=30)

    assert up.returncode == 0, output.text()
    assert "stopped embedded redis, postgres" in output.text()
    assert not embedded._redis_ping(up_var / "redis.sock")
    assert not (up_var / "pg" / "postmaster.pid").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


# --- the web and worker processes start what they need when they start ----------------------

FIRST_REQUEST = """
import asyncio, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from asgiref.testing import ApplicationCommunicator
from config.asgi import application

async def get_root():
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1")], "http_version": "1.1", "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 50000)}
    app = ApplicationCommunicator(application, scope)
    await app.send_input({"type": "http.request", "body": b""})
    print((await app.receive_output(120))["status"])

asyncio.run(get_root())
"""


def test_the_web_application_starts_redis_before_its_first_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = tmp_path / "var"
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))
    # A model server elsewhere, so that only Redis is the web process's to start.
    env = env_for(var, LLM_BASE_URL=f"http://127.0.0.1:{embedded.free_port()}/v1")
    try:
        result = subprocess.run([sys.executable, "-c", FIRST_REQUEST], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=180)

        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["302"]  # to the sign-in page
        assert embedded._redis_ping(var / "redis.sock")
        assert not (var / "llm.json").exists()
    finally:
        embedded.stop_redis()


def test_a_celery_worker_starts_redis_when_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db
) -> None:
    from django.db import connection

    from tests.conftest import worker_popen

    var = tmp_path / "var"
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))
    connection.ensure_connection()
    database = connection.settings_dict
    socket_dir = quote(database["HOST"], safe="")
    # The session's database, so that only Redis is new in this var directory.
    url = f"postgres://{database['USER']}@{socket_dir}:{database['PORT'] or 5432}/{database['NAME']}"
    worker = worker_popen("entry", DOCENT_VAR_DIR=str(var), DATABASE_URL=url)
    try:
        Output(worker).wait_for("ready.", timeout=120)
        assert worker.poll() is None, "the worker exited"
        assert embedded._redis_ping(var / "redis.sock")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        embedded.stop_redis()


# --- the front door: a command run before `up` prepares what it needs -------------------------


def test_ingest_on_a_bare_checkout_prepares_the_database_and_reports_what_it_skipped(
    up_var: Path, tmp_path: Path
) -> None:
    from knowledge.parsers.registry import UNSUPPORTED_MESSAGE

    folder = tmp_path / "shared drive"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    command = ("ingest", str(folder), "--collection", "policies", "--sync")

    first = manage(up_var, *command, timeout=600)

    assert first.returncode == 0, first.stderr
    assert "Preparing the database" in first.stderr
    assert first.stdout == f"skipped   {folder / 'photo.jpg'}  {UNSUPPORTED_MESSAGE}\n"

    again = manage(up_var, *command, timeout=600)

    assert again.returncode == 0, again.stderr
    assert "Preparing the database" not in again.stderr
    assert again.stdout == first.stdout


def test_token_and_user_commands_work_on_a_bare_checkout(up_var: Path) -> None:
    listed = manage(up_var, "token", "--list", timeout=600)
    assert listed.returncode == 0, listed.stderr
    assert "Preparing the database" in listed.stderr

    weak = subprocess.run(
        [sys.executable, "manage.py", "user", "erin", "--password-stdin"],
        cwd=ROOT, env=env_for(up_var), input="erin\n", capture_output=True, text=True,
        timeout=300,
    )
    # It reached the database (no "relation does not exist"): the weak password is what stops it.
    assert weak.returncode != 0 and "does not exist" not in weak.stderr
    assert "password" in weak.stderr.lower()
