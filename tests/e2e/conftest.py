"""A real Daphne serving the real ASGI app on the test database, and Debian's chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from django.conf import settings

from config.embedded import free_port
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def live_daphne(port: int, **env: str) -> Iterator[str]:
    """A real Daphne serving the ASGI app on the test database at `port`, with `env` added."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env={
            **os.environ,
            "DOCENT_DB_NAME": settings.DATABASES["default"]["NAME"],
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PORT": str(port),  # the page's websocket origin, http://127.0.0.1:PORT, is allowed
            **env,
        },
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("daphne did not start")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def live_url(transactional_db) -> Iterator[str]:
    with live_daphne(free_port()) as url:
        yield url


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run `make browser` (make test does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django must allow ORM use here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        yield context.new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
