"""The Knowledge page's live feed shows staff only the collections they manage."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from accounts.services import user_ensure
from config.asgi import application
from knowledge import events
from tests.support import ws

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


async def test_a_staff_member_in_hr_sees_hr_progress_and_nothing_of_engineering(
    client, hr, engineering
) -> None:
    hr_staff = await sync_to_async(user_ensure)(
        username="hilda", password="pw-hilda-staff", groups=["HR"], is_staff=True
    )
    headers = await sync_to_async(ws.session_headers)(client, hr_staff[0])
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
