from __future__ import annotations

import sys

from django.apps import AppConfig
from django.conf import settings


class ConfigApp(AppConfig):
    """Holds project-wide commands (`up`, `down`) and starts embedded Redis on first use."""

    name = "config"
    label = "docent_config"

    def ready(self) -> None:
        # `down` stops what is running; starting Redis first only to stop it would be silly.
        if settings.EMBEDDED_REDIS and sys.argv[1:2] != ["down"]:
            from config import embedded

            embedded.ensure_redis()
