from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class ConfigApp(AppConfig):
    """Holds project-wide commands (`up`, `down`) and starts embedded Redis on first use."""

    name = "config"
    label = "docent_config"

    def ready(self) -> None:
        if settings.EMBEDDED_REDIS:
            from config import embedded

            embedded.ensure_redis()
