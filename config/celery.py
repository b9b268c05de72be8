"""The Celery application. A worker (`celery -A config worker`) is an entry point."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("docent")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def start_embedded_services(**_: Any) -> None:
    """A worker's broker is embedded Redis on a bare checkout: start it before connecting.

    Only worker start-up does this; web processes and commands that merely
    enqueue start Redis from their own entry points (docs/architecture.md).
    """
    from config import embedded

    embedded.ensure_services(redis=True)


worker_init.connect(start_embedded_services)
