from __future__ import annotations

from django.core.management.base import BaseCommand

from config import embedded


class Command(BaseCommand):
    help = "Stop the embedded PostgreSQL, Redis and model worker of this checkout's var/ folder."

    def handle(self, *args: object, **options: object) -> None:
        stopped = embedded.stop_all()
        self.stdout.write(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
