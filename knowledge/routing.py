from __future__ import annotations

from django.urls import path

from knowledge.consumers import DocumentProgressConsumer

websocket_urlpatterns = [path("ws/knowledge/", DocumentProgressConsumer.as_asgi())]
