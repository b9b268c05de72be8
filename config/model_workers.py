"""The model workers a bare checkout starts for itself (`manage.py llm_worker`).

Used only when LLM_BASE_URL is unset. LLM_WORKERS of them share LLM_THREADS; each
listens on a free loopback port recorded under the var directory, where every
process that needs the model finds it. As with config.embedded's servers, the
first caller starts them under a file lock and reading where a worker is
(`llm_worker_url`, `running_llm_worker`) starts nothing. Worker 0 is recorded in
var/llm.json and logs to var/log/llm.log, as a single worker always did; worker
i > 0 in var/llm-<i>.json and var/log/llm-<i>.log.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config.embedded import (
    BASE_DIR,
    free_port,
    process_alive,
    service_lock,
    var_dir,
    var_dir_ensure,
)

log = logging.getLogger(__name__)


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
    if info is None or not process_alive(info["pid"]):
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
    if info and process_alive(info["pid"]) and _llm_healthy(info["port"]):
        return f"http://127.0.0.1:{info['port']}/v1"
    return None


def _all_running() -> bool:
    """Every planned worker is alive and answering."""
    for index in range(len(llm_worker_plan())):
        info = _llm_info(index)
        if not (info and process_alive(info["pid"]) and _llm_healthy(info["port"])):
            return False
    return True



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
        if not process_alive(pid):
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
    with service_lock("llm"):
        stop_llm_worker_of_other_model()
    if _all_running():
        return str(running_llm_worker())
    with service_lock("llm"):
        started: list[tuple[int, subprocess.Popen[bytes]]] = []
        for index, threads in enumerate(llm_worker_plan()):
            info = _llm_info(index)
            if info and process_alive(info["pid"]):
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
        if info is None or not process_alive(info["pid"]):
            continue
        os.kill(info["pid"], signal.SIGTERM)
        stopped.append(info["pid"])
    for _ in range(50):
        if not any(process_alive(pid) for pid in stopped):
            break
        time.sleep(0.1)
    return bool(stopped)

