"""Django set up once for every script in bench/ (each starts with `django_setup()`).

The scripts run as `python bench/NAME.py`, so Python puts bench/ on the path and
this module imports as `_bootstrap`; it puts the checkout's root there too, so
the apps and `evaluation` import as they do under manage.py.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup(*, database: str | None = None, redis: bool = True) -> Path:
    """Set Django up with the project's settings; `database` names a throwaway database
    (DOCENT_DB_NAME) for benches that fill one. A bench is an entry point, so it starts
    the embedded Redis (ingestion publishes progress, answering caches) unless told not
    to; PostgreSQL starts on the first connection. Returns the checkout's root."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if database:
        os.environ.setdefault("DOCENT_DB_NAME", database)
    import django

    django.setup()
    if redis:
        from config import embedded

        embedded.ensure_services(redis=True)
    return ROOT


def wait_for_http(url: str, proc, *, timeout: float) -> None:
    """Until `url` answers 200 while the process `proc` started serves it; exits the bench
    when the process dies or the time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[:4]} exited with {proc.returncode}")
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")
