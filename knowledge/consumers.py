"""The Knowledge page's live feed: ingest progress of documents, for knowledge managers only.

The socket is one-way. Each `document.progress` event published by
knowledge.events to the group is forwarded unchanged as a JSON text frame, to the
people who manage its collection (knowledge.selectors.collections_managed_by).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts import sockets
from knowledge import events
from knowledge.selectors import collections_managed_by, is_knowledge_manager

# Close codes in the 4000 range mirror HTTP: 4403 = signed in or not, manages nothing.
FORBIDDEN = 4403


class DocumentProgressConsumer(AsyncJsonWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        # The user was resolved by the auth middleware; whether they manage anything is read.
        user = self.scope.get("user")
        if not await sync_to_async(is_knowledge_manager)(user):
            await self.close(code=FORBIDDEN)
            return
        self.credentials = sockets.credentials_of(self.scope)
        self.user = user
        self.managed = await self._managed_ids()
        self.refused: set[int] = set()
        self.user_group = sockets.user_group(user.pk)
        await self.channel_layer.group_add(events.DOCUMENTS_GROUP, self.channel_name)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        self.joined = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(events.DOCUMENTS_GROUP, self.channel_name)
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def credentials_changed(self, event: dict) -> None:
        """Signed out, deactivated or managing nothing any more: the feed stops at once."""
        if sockets.named_gone(self.credentials, event):
            await self.close(code=FORBIDDEN)
            return
        user = await sync_to_async(sockets.signed_in_user)(self.credentials)
        if not await sync_to_async(is_knowledge_manager)(user):
            await self.close(code=FORBIDDEN)
            return
        self.user = user
        self.managed = await self._managed_ids()
        self.refused.clear()

    async def _managed_ids(self) -> set[int]:
        return await sync_to_async(
            lambda: set(collections_managed_by(self.user).values_list("pk", flat=True))
        )()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Clients have nothing to say on this socket; what they send is ignored."""

    async def document_progress(self, event: events.DocumentProgress) -> None:
        """Forwarded only for collections this person manages (titles come from content).

        A collection made since the socket opened is looked up once, when its first event comes.
        """
        collection = event["collection"]
        if collection not in self.managed and collection not in self.refused:
            self.managed = await self._managed_ids()
            if collection not in self.managed:
                self.refused.add(collection)
        if collection in self.managed:
            await self.send_json(event)
