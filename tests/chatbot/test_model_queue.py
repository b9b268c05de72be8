"""The line in front of the model backends: fair by person, spread, paused on failure.

Unit tests of chatbot.model_queue alone: backends are addresses nobody calls.
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from chatbot import model_queue
from chatbot.model_queue import Backend, ModelQueue, NoBackend


class Asker:
    """One question waiting in the line: what it was told, and the backend it got."""

    def __init__(self, queue: ModelQueue, person: str) -> None:
        self.places: list[int] = []
        self.task = asyncio.ensure_future(
            queue.acquire(person=person, tell=self.places.append)
        )

    @property
    def place(self) -> int | None:
        return self.places[-1] if self.places else None


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_persons_many_questions_do_not_starve_anothers_one() -> None:
    queue = ModelQueue([Backend("http://a", slots=1)])
    first = Asker(queue, "ann")  # served at once, holds the only slot
    await settle()
    ann = [Asker(queue, "ann") for _ in range(3)]
    await settle()
    bob = Asker(queue, "bob")  # arrives last, but has not been served yet
    await settle()

    assert first.task.done() and first.places == []  # never waited, never told a place
    assert [a.place for a in ann] + [bob.place] == [2, 3, 4, 1]
    # What /metrics shows of the line: four waiting, the backend busy with one.
    assert REGISTRY.get_sample_value("docent_model_queue_waiting") == 4
    assert REGISTRY.get_sample_value("docent_model_backend_busy", {"backend": "a"}) == 1

    queue.release(first.task.result())
    await settle()
    assert bob.task.done() and not any(a.task.done() for a in ann)
    # Then ann and bob alternate again; with bob's line empty, ann's questions go in order.
    assert [a.place for a in ann] == [1, 2, 3]


async def test_questions_spread_over_backends_by_how_busy_they_are() -> None:
    queue = ModelQueue([Backend("http://a", slots=1), Backend("http://b", slots=2)])
    askers = [Asker(queue, f"p{n}") for n in range(4)]
    await settle()

    got = [a.task.result().backend.url for a in askers[:3]]
    assert sorted(got) == ["http://a", "http://b", "http://b"]
    assert askers[3].place == 1 and not askers[3].task.done()


async def test_a_failed_backend_is_paused_and_used_again_after_the_pause(monkeypatch) -> None:
    monkeypatch.setattr(model_queue, "BACKOFF_SECONDS", 0.2)
    queue = ModelQueue([Backend("http://a", slots=1)])
    lease = await queue.acquire(person="ann", tell=lambda place: None)
    lease.failed = True
    queue.release(lease)

    waiting = Asker(queue, "bob")
    await settle()
    assert not waiting.task.done() and waiting.place == 1  # paused: nothing serves it yet

    await asyncio.wait_for(waiting.task, timeout=5)  # served once the pause is over
    queue.release(waiting.task.result())
    assert queue.backends[0].failures == 0  # a success clears the record


async def test_a_question_that_tried_every_backend_is_refused() -> None:
    queue = ModelQueue([Backend("http://a", slots=1)])

    with pytest.raises(NoBackend):
        await queue.acquire(person="ann", tell=lambda place: None, excluded=frozenset({"http://a"}))


async def test_a_question_stopped_while_waiting_leaves_the_line() -> None:
    queue = ModelQueue([Backend("http://a", slots=1)])
    holder = Asker(queue, "ann")
    await settle()
    gone, stays = Asker(queue, "bob"), Asker(queue, "carl")
    await settle()
    assert (gone.place, stays.place) == (1, 2)

    gone.task.cancel()
    await settle()

    assert stays.place == 1 and queue.waiting() == 1
    queue.release(holder.task.result())
    await settle()
    assert stays.task.done()
    assert queue.backends[0].busy == 1  # only carl's slot is held
