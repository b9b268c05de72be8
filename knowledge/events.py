"""Progress events for the Knowledge page, sent over the channel layer after commit.

`DocumentProgress` is the one message the /ws/knowledge/ socket sends (knowledge.consumers
forwards it unchanged); `server_message` validates it strictly in tests, as the chat
protocol's messages are.
"""

from __future__ import annotations

import logging
from typing import Literal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from pydantic import ConfigDict, TypeAdapter, with_config

# pydantic reads typing.TypedDict only from Python 3.12 on.
from typing_extensions import TypedDict

from knowledge.models import Document

log = logging.getLogger(__name__)

DOCUMENTS_GROUP = "knowledge.documents"


@with_config(ConfigDict(extra="forbid"))
class DocumentProgress(TypedDict):
    type: Literal["document.progress"]
    document: int
    collection: int
    name: str
    title: str
    status: Literal["queued", "parsing", "chunking", "embedding", "ready", "failed", "deleted"]
    progress: int
    chunks: int
    version: int
    error: str


server_message: TypeAdapter[DocumentProgress] = TypeAdapter(DocumentProgress)


def progress_message(document: Document, *, status: str | None = None) -> DocumentProgress:
    return DocumentProgress(
        type="document.progress",
        document=document.pk,
        collection=document.collection_id,
        name=document.original_name,
        title=document.title,
        status=status or document.status,  # type: ignore[typeddict-item]
        progress=document.progress,
        chunks=document.chunk_count,
        version=document.version,
        error=document.error,
    )


def publish(message: DocumentProgress) -> None:
    """Best effort: a page that misses one event catches up on the next."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(DOCUMENTS_GROUP, message)
    except Exception:  # noqa: BLE001 - progress must never fail an ingest
        log.warning(
            "could not publish progress for document %s", message["document"], exc_info=True
        )
