"""ASGI entry point: Django over HTTP; the chat and Knowledge-page consumers over websockets.

Websockets carry cookies, so a browser's socket must come from one of our own
pages (Origin checked against ALLOWED_HOSTS). Bots authenticate with a bearer
token and may omit Origin; see accounts.websocket.
"""

from __future__ import annotations

import os
import threading

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

import chatbot.routing  # noqa: E402
import knowledge.routing  # noqa: E402
from accounts.websocket import websocket_auth_stack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_auth_stack(
            URLRouter(
                chatbot.routing.websocket_urlpatterns + knowledge.routing.websocket_urlpatterns
            )
        ),
    }
)

# Load the embedding model while the server starts, not on the first question (seconds).
from knowledge.embeddings import get_model  # noqa: E402

threading.Thread(target=get_model, name="embedding-warmup", daemon=True).start()
