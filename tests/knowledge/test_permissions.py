"""A reader outside a collection's groups never gets its chunks, by any path."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from chatbot.answering import DoneEvent, answer_question
from knowledge.embeddings import embed_query
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope
from tests.support import ws
from tests.support.corpus import HANDBOOK_VACATION, HR_SALARY, ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "What is the 2026 merit budget?"


@pytest.fixture
def documents(handbook, hr):
    return ingest_text(handbook, "vacation.md", HANDBOOK_VACATION), ingest_text(
        hr, "salary-bands.md", HR_SALARY
    )


def test_search_never_returns_chunks_of_collections_the_reader_cannot_read(
    documents, dave, carol
) -> None:
    vacation, salary = documents
    vector = embed_query(QUESTION)
    for_dave = chunk_search(scope=reader_scope(dave), query=QUESTION, vector=vector, k=10)
    for_carol = chunk_search(scope=reader_scope(carol), query=QUESTION, vector=vector, k=10)
    assert {hit.document for hit in for_dave} == {vacation.pk}
    assert for_carol[0].document == salary.pk


def test_the_search_command_as_a_user_is_filtered_like_that_user(documents, dave, capsys) -> None:
    call_command("search", QUESTION, "--json", "--user", "dave", "-k", "10")
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and all(hit["path"] == "vacation.md" for hit in hits)
    assert not any("3.7" in hit["text"] for hit in hits)


def test_the_search_command_without_a_user_sees_every_collection(documents, capsys) -> None:
    call_command("search", QUESTION, "--json", "-k", "1")
    assert json.loads(capsys.readouterr().out)["hits"][0]["path"] == "salary-bands.md"


def test_asking_as_an_outsider_never_cites_or_repeats_the_groups_document(documents, dave) -> None:
    async def run() -> DoneEvent:
        *_, done = [e async for e in answer_question(user=dave, question=QUESTION, save=False)]
        assert isinstance(done, DoneEvent)
        return done

    done = asyncio.run(run())
    assert all(source.path != "salary-bands.md" for source in done.sources)
    assert "3.7" not in done.answer


def test_a_group_member_gets_the_answer_with_its_citation(documents, carol) -> None:
    async def run() -> DoneEvent:
        *_, done = [e async for e in answer_question(user=carol, question=QUESTION, save=False)]
        assert isinstance(done, DoneEvent)
        return done

    done = asyncio.run(run())
    assert [source.path for source in done.sources][:1] == ["salary-bands.md"]
    assert "3.7" in done.answer


def test_the_document_link_opens_for_readers_and_is_not_found_for_others(
    documents, client, dave, carol
) -> None:
    _, salary = documents
    chunk = salary.chunks.first()
    url = reverse("document", args=[salary.pk]) + f"?chunk={chunk.pk}"
    client.force_login(dave)
    assert client.get(url).status_code == 404
    client.force_login(carol)
    page = client.get(url)
    assert page.status_code == 200
    assert b"3.7 percent" in page.content
    assert f'id="chunk-{chunk.pk}" class="chunk highlighted"'.encode() in page.content


def test_the_websocket_answers_an_outsider_without_the_groups_document(
    documents, client, dave
) -> None:
    headers = ws.session_headers(client, dave)

    async def run() -> dict:
        communicator = await ws.connect(headers)
        await ws.receive(communicator)
        _, done = await ws.ask(communicator, QUESTION)
        await communicator.disconnect()
        return done

    done = asyncio.run(run())
    assert done["type"] == "done"
    assert all(source["path"] != "salary-bands.md" for source in done["sources"])
    assert "3.7" not in done["answer"]
    assert "HR confidential" not in done["searched"]


def test_only_the_explicit_operator_reads_every_collection_and_none_is_no_reader(
    handbook, hr, engineering, dave
) -> None:
    from accounts.readers import OPERATOR
    from knowledge.selectors import reader_scope

    assert set(reader_scope(OPERATOR).collection_ids) == {handbook.pk, hr.pk, engineering.pk}
    assert set(reader_scope(dave).collection_ids) == {handbook.pk}
    with pytest.raises(TypeError):
        reader_scope(None)  # type: ignore[arg-type]  # a missing user must not read everything
