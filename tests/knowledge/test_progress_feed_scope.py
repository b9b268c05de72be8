"""The Knowledge page's live feed shows a knowledge manager only the collections they manage."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from knowledge import events
from tests.support import ws
from tests.support.personas import hr_manager

pytestmark = pytest.mark.django_db(transaction=True)


def progress(collection: int, title: str) -> events.DocumentProgress:
    return events.DocumentProgress(
        type="document.progress",
        document=1,
        collection=collection,
        name=f"{title}.md",
        title=title,
        status="parsing",
        progress=5,
        chunks=0,
        version=1,
        error="",
    )


async def test_the_manager_of_hr_sees_hr_progress_and_nothing_of_engineering(
    client, hr, engineering
) -> None:
    hugo = await sync_to_async(hr_manager)()
    headers = await sync_to_async(ws.session_headers)(client, hugo)
    communicator = WebsocketCommunicator(application, "/ws/knowledge/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected

    layer = get_channel_layer()
    await layer.group_send(events.DOCUMENTS_GROUP, progress(engineering.pk, "Roadmap 2027"))
    await layer.group_send(events.DOCUMENTS_GROUP, progress(hr.pk, "Salary bands"))

    # Events arrive in order: the first one through is HR's, Engineering's was held back.
    first = await communicator.receive_json_from(timeout=10)
    assert first["title"] == "Salary bands"
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
