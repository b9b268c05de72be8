"""Print the chat protocol as JSON Schema (the published copy is docs/protocol.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from chatbot.protocol import json_schema


class Command(BaseCommand):
    help = "Print the chat websocket protocol's messages as one JSON Schema document."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False))
