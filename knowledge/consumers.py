"""The Knowledge page's live feed: ingest progress of every document, for staff only.

The socket is one-way. Each `document.progress` event published by
knowledge.events to the group is forwarded unchanged as a JSON text frame.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.roles import is_staff_member
from knowledge import events

# Close codes in the 4000 range mirror HTTP: 4403 = signed in or not, not staff.
FORBIDDEN = 4403


class DocumentProgressConsumer(AsyncJsonWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        # The user was resolved by the auth middleware, so this reads no database.
        if not is_staff_member(self.scope.get("user")):
            await self.close(code=FORBIDDEN)
            return
        await self.channel_layer.group_add(events.DOCUMENTS_GROUP, self.channel_name)
        self.joined = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(events.DOCUMENTS_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Clients have nothing to say on this socket; what they send is ignored."""

    async def document_progress(self, event: events.DocumentProgress) -> None:
        await self.send_json(event)
