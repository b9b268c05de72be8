"""Start everything on embedded defaults: database, Redis, model worker, Celery, Daphne.

The entry point of a bare checkout: it starts the embedded services itself,
then the processes that use them, and stops all of it on Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import embedded, model_workers
from config.env import env_secret
from config.management.database import database_migrate

DEMO_USERS = (
    # username, password variable, groups, staff, superuser
    ("admin", "DOCENT_ADMIN_PASSWORD", ["Engineering", "HR"], True, True),
    ("employee", "DOCENT_EMPLOYEE_PASSWORD", ["Engineering"], False, False),
)


CELERY_WORKER = [
    "celery",
    "-A",
    "config",
    "worker",
    "--loglevel=WARNING",
    "--concurrency=1",
    "--hostname=docent@%h",
]


def daphne(host: str, port: int) -> list[str]:
    return [
        "daphne",
        "-b",
        host,
        "-p",
        str(port),
        "--access-log",
        os.devnull,
        "config.asgi:application",
    ]


def _start(module_args: list[str]) -> subprocess.Popen[bytes]:
    """Run `python -m <module> ...` from the project folder with this interpreter."""
    return subprocess.Popen([sys.executable, "-m", *module_args], cwd=settings.BASE_DIR)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_web(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CommandError(f"the web process exited with status {proc.returncode}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise CommandError(f"the web process did not answer {url} in {timeout:.0f} s")


class Command(BaseCommand):
    help = (
        "Run Docent: migrate, demo users and documents, then the model worker, Celery and Daphne."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--no-demo", action="store_true", help="no demo users or sample documents"
        )

    def handle(self, *args: object, host: str, port: int, no_demo: bool, **options: object) -> None:
        started = time.monotonic()
        if not env_secret("SECRET_KEY"):
            # Before the web process starts, so that it signs sessions with the kept key.
            embedded.secret_key_ensure()
        embedded.ensure_services(redis=True)
        database_migrate()  # starts PostgreSQL
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        # SIGTERM (from a supervisor or a test) stops everything as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            models: list[subprocess.Popen[bytes]] = []
            if not settings.LLM_BASE_URL:
                model_workers.stop_llm_worker_of_other_model()
            if not settings.LLM_BASE_URL and not model_workers.llm_worker_urls():
                # LLM_WORKERS of them, each with its share of LLM_THREADS.
                models = model_workers.spawn_llm_workers(detached=False)
                for index, proc in enumerate(models):
                    children.append((f"model worker {index + 1}/{len(models)}", proc))
            children.append(("worker", _start(CELERY_WORKER)))
            if not no_demo:
                self._demo()
            if models:
                self.stdout.write(
                    f"waiting for {len(models)} model worker(s) "
                    "(the first start prepares the model)…"
                )
                model_workers.wait_for_llm_workers(models)
            elif not settings.LLM_BASE_URL:
                model_workers.ensure_llm_worker()  # started earlier: may still be loading, or fewer
            # The web process's default WEBSOCKET_ALLOWED_ORIGINS name the port it serves on.
            os.environ["PORT"] = str(port)
            web = _start(daphne(host, port))
            children.append(("web", web))
            # Announce only what answers; the first request also warms the web process up.
            _wait_web(f"http://{host}:{port}/", web)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDocent is up in {time.monotonic() - started:.0f} s: "
                    f"open http://{host}:{port}  (Ctrl-C stops everything)\n"
                )
            )
            self._watch(children)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(children)

    def _demo(self) -> None:
        from accounts.services import user_ensure
        from knowledge.demo import sample_corpus_install

        for username, variable, groups, staff, superuser in DEMO_USERS:
            password = os.environ.get(variable) or secrets.token_urlsafe(9)
            _, created = user_ensure(
                username=username,
                password=password,
                groups=groups,
                is_staff=staff,
                is_superuser=superuser,
            )
            if created:
                # Shown once: it is not stored anywhere in clear.
                self.stdout.write(f"created demo user {username!r} with password {password!r}")
        queued = [r for r in sample_corpus_install() if r.outcome == "queued"]
        if queued:
            self.stdout.write(f"ingesting {len(queued)} sample documents in the background")

    def _watch(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with status {proc.returncode}; stopping.")
                    return
            time.sleep(0.5)

    def _stop(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        self.stdout.write("stopping…")
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(children):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                proc.kill()
        stopped = embedded.stop_all()
        if stopped:
            self.stdout.write(f"stopped embedded {', '.join(stopped)}")
