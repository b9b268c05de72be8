"""ASGI entry point: Django over HTTP; the chat and Knowledge-page consumers over websockets.

An HTTP request body over its limit is refused with 413 before Django reads it
(config.limits); in production the reverse proxy refuses it first (deploy/).

Websockets carry cookies, so a browser's socket must come from one of our own
pages (Origin checked against WEBSOCKET_ALLOWED_ORIGINS). Bots authenticate with a bearer
token and may omit Origin; see accounts.websocket.

Importing this module starts nothing (tests import it to drive the consumers).
The web process starts what it needs when it is first called: see
`ServicesFirst`.
"""

from __future__ import annotations

import gc
import os
import threading
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from asgiref.sync import sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

import chatbot.routing  # noqa: E402
import knowledge.routing  # noqa: E402
from accounts.websocket import websocket_auth_stack  # noqa: E402
from config import embedded, model_workers  # noqa: E402
from config.limits import RequestBodyLimit  # noqa: E402

Scope = dict[str, Any]


def _plain_websocket_log_arguments() -> None:
    """autobahn (Daphne's websocket layer) formats the arguments of a debug log line for
    every frame it sends, whether debug is on or not, and styles them with click's ANSI
    colours when click is installed (Celery brings it): some 3 % of the web process's CPU
    per cached answer (bench/many_sockets.py). Unstyled, they are plain strings. Only
    autobahn's own debug lines would change, and Docent never shows them."""
    import autobahn.util

    autobahn.util._HAS_CLICK = False


_plain_websocket_log_arguments()


def web_process_start() -> None:
    """What the web process needs before it serves: Redis now, the rest in the background.

    Redis (channel layer, answer cache, Celery broker) is waited for: no request
    works without it. The embedding model loads in a thread so the first
    question does not pay for it (seconds). On a bare checkout with no model
    worker yet (`runserver`, a bare `daphne`), one is started in a thread:
    questions asked before it is ready get a clear "not running" error, never a
    wait of minutes. Under `up` the worker is already running.
    """
    embedded.ensure_services(redis=True)
    threading.Thread(target=_warm_up, name="embedding-warmup", daemon=True).start()
    if not settings.LLM_BASE_URL and model_workers.llm_worker_url() is None:
        threading.Thread(
            target=model_workers.ensure_llm_worker, name="model-worker-start", daemon=True
        ).start()


def _warm_up() -> None:
    """Load the embedding model and the English word counts typo correction reads, then
    freeze what start-up made out of the cyclic garbage collector's reach: the model, torch
    and Django are some 550,000 objects that live as long as the process, and every full
    collection scanned them all, a 130-290 ms pause of every socket every thousand or so
    cached answers (bench/many_sockets.py)."""
    from knowledge.embeddings import get_model
    from knowledge.spelling import english_word_counts

    get_model()
    english_word_counts()
    gc.freeze()


class ServicesFirst:
    """Runs `web_process_start` once, before the first connection or request is handled.

    A thread lock rather than an asyncio one: tests drive the application from
    several event loops. A failed start is tried again by the next request.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._started = False

    def _start_once(self) -> None:
        with self._lock:
            if not self._started:
                web_process_start()
                self._started = True

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self._started:
            await sync_to_async(self._start_once, thread_sensitive=False)()
        await self.app(scope, receive, send)


application = ServicesFirst(
    ProtocolTypeRouter(
        {
            # Bodies over their path's limit are refused before Django reads them.
            "http": RequestBodyLimit(django_asgi_app),
            "websocket": websocket_auth_stack(
                URLRouter(
                    chatbot.routing.websocket_urlpatterns + knowledge.routing.websocket_urlpatterns
                )
            ),
        }
    )
)
