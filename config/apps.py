from __future__ import annotations

from django.apps import AppConfig


class ConfigApp(AppConfig):
    """Holds the project-wide commands (`up`, `down`).

    It starts nothing: embedded services are started by the entry points
    (config.embedded.ensure_services), never by setting Django up.
    """

    name = "config"
    label = "docent_config"
