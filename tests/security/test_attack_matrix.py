"""The attack matrix (issue 9): every path a chunk can leave by, for every persona, 0 leaks.

Two private collections, HR (read by the group HR) and Engineering (read by the group
Engineering), each hold one document with a secret marker word, in its text and its file
name. For each path and persona, the marker of a collection the persona may not read
never appears in what they get, and the marker of one they may read does (so every cell
can fail). Each test is one path; it checks every persona and reports all cells at once.

Personas: alice the superuser (in no group), carol in HR, bob in Engineering, dave in no
group, hannah, staff in HR only (the staff flag manages nothing), and hugo, the knowledge
manager of HR (in HR, and in the group that manages HR's collection). Reader paths
(search, ask, socket, caches, citation links, REST status) follow groups for everyone,
superusers included. Staff paths (the Knowledge page and its progress feed, Frequent
questions) show a superuser everything, a knowledge manager the collections they manage,
and refuse everyone else; the admin shows knowledge to superusers only.

Real services throughout: PostgreSQL, Redis, the embedding model and the language model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import token_create
from chatbot.answering import DoneEvent, TokenEvent, answer_question
from chatbot.models import Conversation, FrequentQuestion, Message
from config.asgi import application
from knowledge import events
from knowledge.embeddings import embed_query
from knowledge.models import Collection, Document
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope
from tests.chatbot.test_cache import _empty_cache, seed, source  # noqa: F401  (Redis starts empty)
from tests.support import ws
from tests.support.corpus import ingest_text
from tests.support.personas import hr_manager, hr_staff_member

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Secret:
    collection: str  # slug
    marker: str
    name: str
    text: str
    question: str
    paraphrase: str


HR = Secret(
    collection="hr",
    marker="QUOKKAVELT",
    name="payroll-quokkavelt.md",
    text=(
        "# Payroll desk\n\n## Codeword\n"
        "The payroll codeword for the payroll desk is QUOKKAVELT. Say it when the payroll desk "
        "asks.\n"
    ),
    question="What is the payroll codeword?",
    paraphrase="what's the payroll codeword",
)
ENGINEERING = Secret(
    collection="engineering",
    marker="ZORBLINDER",
    name="deploy-zorblinder.md",
    text=(
        "# Build servers\n\n## Deploy passphrase\n"
        "The deploy passphrase for the build servers is ZORBLINDER. Type it when deploy asks.\n"
    ),
    question="What is the deploy passphrase for the build servers?",
    paraphrase="what's the deploy passphrase for the build servers",
)
SECRETS = (HR, ENGINEERING)
BOTH = {HR.collection, ENGINEERING.collection}

# What each persona may read by the reader paths, and see on the staff paths.
READS: dict[str, set[str]] = {
    "alice": set(),
    "carol": {"hr"},
    "bob": {"engineering"},
    "dave": set(),
    "hannah": {"hr"},
    "hugo": {"hr"},
}
SEES: dict[str, set[str]] = {
    "alice": BOTH,
    "carol": set(),
    "bob": set(),
    "dave": set(),
    "hannah": set(),
    "hugo": {"hr"},
}
# The admin's knowledge models and conversations: superusers only.
ADMIN_SEES: dict[str, set[str]] = {**SEES, "hugo": set()}
# The REST status of a document: what one manages or reads.
REST: dict[str, set[str]] = {**READS, "alice": BOTH, "hugo": {"hr"}}


@dataclass
class Cells:
    """One path's row of the matrix: every persona's cell, and what went wrong in any."""

    path: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    def check(self, persona: str, text: str, allowed: set[str]) -> None:
        self.checked += 1
        seen = text.casefold()
        for secret in SECRETS:
            present = secret.marker.casefold() in seen
            if secret.collection in allowed and not present:
                self.problems.append(f"{self.path} x {persona}: {secret.marker} missing")
            elif secret.collection not in allowed and present:
                self.problems.append(f"LEAK {self.path} x {persona}: {secret.marker}")

    def expect(self, persona: str, condition: bool, what: str) -> None:
        if not condition:
            self.problems.append(f"{self.path} x {persona}: {what}")

    def assert_clean(self) -> None:
        assert self.checked >= len(READS), f"{self.path}: not every persona was checked"
        assert not self.problems, "\n".join(self.problems)


@dataclass
class World:
    people: dict[str, User]
    collections: dict[str, Collection]
    documents: dict[str, Document]

    def personas(self) -> Iterator[tuple[str, User]]:
        yield from self.people.items()


@pytest.fixture
def world(alice, carol, bob, dave, hr, engineering) -> World:
    people = {"alice": alice, "carol": carol, "bob": bob, "dave": dave}
    people["hannah"] = hr_staff_member()
    people["hugo"] = hr_manager()
    collections = {"hr": hr, "engineering": engineering}
    documents = {
        s.collection: ingest_text(collections[s.collection], s.name, s.text) for s in SECRETS
    }
    return World(people=people, collections=collections, documents=documents)


def ask(user: User, question: str) -> tuple[str, DoneEvent]:
    """The real answering path, as the socket and the ask command drive it."""

    async def run() -> tuple[str, DoneEvent]:
        text, done = [], None
        async for event in answer_question(user=user, question=question, save=False):
            if isinstance(event, TokenEvent):
                text.append(event.text)
            elif isinstance(event, DoneEvent):
                done = event
        assert done is not None
        return "".join(text), done

    return asyncio.run(run())


def shown(text: str, done: DoneEvent) -> str:
    """Everything a reader gets back from an answer: streamed text, final answer, sources."""
    sources = json.dumps([s.model_dump() for s in done.sources])
    return "\n".join([text, done.answer, sources, done.standalone_question, *done.searched])


def populate_cache(world: World) -> None:
    """carol asks HR's question and bob Engineering's: both answers are kept."""
    for persona, secret in (("carol", HR), ("bob", ENGINEERING)):
        text, done = ask(world.people[persona], secret.question)
        assert not done.cached and secret.marker in text, (persona, text)
    kept = set(FrequentQuestion.objects.values_list("question", flat=True))
    assert kept == {HR.question, ENGINEERING.question}, f"answers not kept: {kept}"


# --- reader paths -------------------------------------------------------------------------------


def test_search_through_the_service(world: World) -> None:
    cells = Cells("search (knowledge.search.chunk_search)")
    for persona, user in world.personas():
        hits = [
            hit.as_json()
            for secret in SECRETS
            for hit in chunk_search(
                scope=reader_scope(user),
                query=secret.question,
                vector=embed_query(secret.question),
                k=10,
            )
        ]
        cells.check(persona, json.dumps(hits), READS[persona])
    cells.assert_clean()


def test_search_through_the_command(world: World, capsys) -> None:
    cells = Cells("manage.py search --user")
    for persona in world.people:
        for secret in SECRETS:
            call_command("search", secret.question, "--json", "--user", persona, "-k", "10")
        cells.check(persona, capsys.readouterr().out, READS[persona])
    cells.assert_clean()


def test_ask(world: World) -> None:
    cells = Cells("ask (chatbot.answering.answer_question)")
    for persona, user in world.personas():
        out = [shown(*ask(user, secret.question)) for secret in SECRETS]
        cells.check(persona, "\n".join(out), READS[persona])
    cells.assert_clean()


def test_the_chat_socket(world: World, client: Client) -> None:
    cells = Cells("websocket /ws/chat/")

    async def conversation(headers: list[tuple[bytes, bytes]]) -> str:
        communicator = await ws.connect(headers)
        received = [await ws.receive(communicator)]  # hello
        for n, secret in enumerate(SECRETS):
            tokens, done = await ws.ask(communicator, secret.question, id=f"q{n}")
            received += [*tokens, done]
        await communicator.disconnect()
        return json.dumps(received)

    for persona, user in world.personas():
        cells.check(
            persona, asyncio.run(conversation(ws.session_headers(client, user))), READS[persona]
        )
    cells.assert_clean()


def test_the_exact_cache(world: World) -> None:
    """carol's and bob's answers are kept; each persona then asks the very same questions."""
    populate_cache(world)
    cells = Cells("exact answer cache")
    for persona, user in world.personas():
        out = []
        for secret in SECRETS:
            text, done = ask(user, secret.question)
            out.append(shown(text, done))
            allowed = secret.collection in READS[persona]
            cells.expect(
                persona, done.cached == allowed, f"cached={done.cached} for {secret.marker}"
            )
        cells.check(persona, "\n".join(out), READS[persona])
    cells.assert_clean()


def test_the_semantic_cache(world: World) -> None:
    """carol's and bob's answers are kept; each persona then asks them in other words."""
    populate_cache(world)
    cells = Cells("semantic answer cache")
    for persona, user in world.personas():
        out = []
        for secret in SECRETS:
            text, done = ask(user, secret.paraphrase)
            out.append(shown(text, done))
            allowed = secret.collection in READS[persona]
            cells.expect(
                persona, done.cached == allowed, f"cached={done.cached} for {secret.marker}"
            )
        cells.check(persona, "\n".join(out), READS[persona])
    cells.assert_clean()


def test_citation_links_and_the_document_view(world: World, client: Client) -> None:
    """The links carol's and bob's answers cite, and each document's page, opened by everyone."""
    links = []
    for persona, secret in (("carol", HR), ("bob", ENGINEERING)):
        _, done = ask(world.people[persona], secret.question)
        links += [
            s.url for s in done.sources if s.document == world.documents[secret.collection].pk
        ]
    assert len(links) >= 2, links
    links += [reverse("document", args=[d.pk]) for d in world.documents.values()]
    cells = Cells("citation link / document view")
    for persona, user in world.personas():
        client.force_login(user)
        pages = [client.get(link) for link in links]
        for page in pages:
            cells.expect(persona, page.status_code in (200, 404), f"{page.status_code}")
        cells.check(persona, "\n".join(p.content.decode() for p in pages), READS[persona])
    cells.assert_clean()


def test_the_rest_api(world: World, client: Client) -> None:
    cells = Cells("REST /api/documents/<id>/")
    for persona, user in world.personas():
        bearer = {"Authorization": f"Bearer {token_create(user=user, name='matrix')}"}
        replies = [
            client.get(reverse("api_document", args=[d.pk]), headers=bearer).content.decode()
            for d in world.documents.values()
        ]
        cells.check(persona, "\n".join(replies), REST[persona])
    cells.assert_clean()


# --- staff paths --------------------------------------------------------------------------------


def test_the_knowledge_page(world: World, client: Client) -> None:
    cells = Cells("Knowledge page")
    for persona, user in world.personas():
        client.force_login(user)
        cells.check(persona, client.get(reverse("knowledge")).content.decode(), SEES[persona])
    cells.assert_clean()


def test_the_knowledge_pages_progress_feed(world: World, client: Client) -> None:
    """Managers watch uploads land; Engineering's first, then HR's, each ingested in full."""
    cells = Cells("progress feed /ws/knowledge/")

    async def watch(headers: list[tuple[bytes, bytes]], persona: str) -> str:
        communicator = WebsocketCommunicator(application, "/ws/knowledge/", headers=headers)
        connected, _ = await communicator.connect(timeout=10)
        if not connected:
            await communicator.disconnect()
            return "refused"
        for secret in (ENGINEERING, HR):
            # A copy of its own per persona: the same bytes again would be a duplicate.
            name = secret.name.replace(".md", f"-{persona}.md")
            text = f"{secret.text}\nA copy for {persona}.\n"
            await sync_to_async(ingest_text)(world.collections[secret.collection], name, text)
        received: list[dict[str, Any]] = []
        while not (
            received
            and received[-1]["status"] == "ready"
            and received[-1]["name"] == HR.name.replace(".md", f"-{persona}.md")
        ):
            message = await communicator.receive_json_from(timeout=30)
            events.server_message.validate_python(message, strict=True)
            received.append(message)
        await communicator.disconnect()
        return json.dumps(received)

    for persona, user in world.personas():
        headers = ws.session_headers(client, user)
        cells.check(persona, asyncio.run(watch(headers, persona)), SEES[persona])
    cells.assert_clean()


def test_frequent_questions(world: World, client: Client) -> None:
    """Questions kept for HR's and Engineering's readers name their secrets."""
    for persona, secret in (("carol", HR), ("bob", ENGINEERING)):
        seed(
            world.people[persona],
            f"What does {secret.marker} open?",
            f"{secret.marker} opens the desk [1].",
            [source(document=world.documents[secret.collection].pk, path=secret.name)],
        )
    cells = Cells("Frequent questions")
    for persona, user in world.personas():
        client.force_login(user)
        cells.check(
            persona, client.get(reverse("frequent_questions")).content.decode(), SEES[persona]
        )
    cells.assert_clean()


def test_the_admin(world: World, client: Client) -> None:
    """Document and collection lists, each document's page, and conversations quoting them."""
    for persona, secret in (("carol", HR), ("bob", ENGINEERING)):
        conversation = Conversation.objects.create(user=world.people[persona], title="Secrets")
        Message.objects.create(conversation=conversation, role="assistant", text=secret.text)
    urls = ["/admin/", "/admin/knowledge/document/", "/admin/knowledge/collection/"]
    urls += [f"/admin/knowledge/document/{d.pk}/change/" for d in world.documents.values()]
    urls += [f"/admin/knowledge/document/{d.pk}/delete/" for d in world.documents.values()]
    urls += ["/admin/chatbot/conversation/"]
    urls += [f"/admin/chatbot/conversation/{c.pk}/change/" for c in Conversation.objects.all()]
    cells = Cells("admin")
    for persona, user in world.personas():
        client.force_login(user)
        pages = [client.get(url) for url in urls]
        cells.check(persona, "\n".join(p.content.decode() for p in pages), ADMIN_SEES[persona])
    cells.assert_clean()
