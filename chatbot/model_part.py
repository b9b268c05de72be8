"""The model's part of an answer: its sentences, from a backend free for this person,
each checked against the evidence before it is sent (chatbot.agreement).

Compact (the bundled model): one line from the evidence's passage. Full (any capable
model): numbered passages and [n] citations, checked sentence by sentence.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from django.conf import settings

from chatbot import agreement, evidence, model_queue
from chatbot.citations import explicit_citations, without_citations
from chatbot.llm import ModelUnavailable, Usage, stream_chat
from chatbot.prompts import (
    COMPACT_MAX_TOKENS,
    compact,
    evidence_messages,
    full_messages,
    stop_sequences,
)
from knowledge.search import Hit

log = logging.getLogger(__name__)


@dataclass
class ModelPart:
    """What the model added after the evidence, and whether all it said was kept."""

    text: str = ""
    cited: list[int] = field(default_factory=list)
    complete: bool = True
    usage: Usage | None = None  # set once the model is asked


@dataclass
class QueuedEvent:
    """The question waits for a model backend; `position` 1 is served next."""

    position: int


async def model_sentences(
    *,
    question: str,
    hits: list[Hit],
    shown: list[evidence.Evidence],
    part: ModelPart,
    person: str,
) -> AsyncIterator[str | QueuedEvent]:
    """The model's checked sentences, from the first backend free for this person.

    Waits in the fair line (chatbot.model_queue), passing on its place. A backend that
    fails before anything of its answer was sent is paused and the question goes to
    another; once every backend failed, ModelUnavailable (the evidence stands alone).
    """
    queue = model_queue.model_queue()
    tried: set[str] = set()
    while True:
        lease: model_queue.Lease | None = None
        try:
            # Closed with this generator: a question stopped while waiting leaves the line.
            async with contextlib.aclosing(
                model_queue.lease(queue, person=person, excluded=frozenset(tried))
            ) as steps:
                async for step in steps:
                    if isinstance(step, int):
                        yield QueuedEvent(step)
                    else:
                        lease = step
        except model_queue.NoBackend as exc:
            raise ModelUnavailable(str(exc)) from exc
        assert lease is not None
        sent = False
        try:
            async for sentence in _sentences(
                url=lease.url, question=question, hits=hits, shown=shown, part=part
            ):
                sent = True
                yield sentence
            return
        except ModelUnavailable:
            lease.failed = True
            tried.add(lease.url)
            if sent:
                raise  # half an answer is not asked again elsewhere: it would not join up
            # Asked again on another backend, if any is left (model_queue logs the pause).
        finally:
            queue.release(lease)


async def _sentences(
    *, url: str, question: str, hits: list[Hit], shown: list[evidence.Evidence], part: ModelPart
) -> AsyncIterator[str]:
    """The model's sentences that agree with what it was given, each checked before it is sent.

    Compact (the bundled model): one line from the evidence's passage, checked against
    the evidence span. Full: numbered passages; each sentence is checked against the
    passages it cites (or all of them) and the stream ends at the first that fails.
    """
    chosen = shown[0]
    part.usage = Usage()
    if compact():
        passage = hits[chosen.passage - 1]
        messages = evidence_messages(question=question, hit=passage)
        stream = stream_chat(
            messages,
            stop=stop_sequences(),
            usage=part.usage,
            url=url,
            max_tokens=min(COMPACT_MAX_TOKENS, settings.LLM_MAX_ANSWER_TOKENS),
        )
        line = "".join([piece async for piece in stream])
        line = agreement.tidy(line)
        sections = [(chosen.heading, chosen.text)]
        if line and agreement.agrees(
            line, evidence_text=chosen.text, question=question, sections=sections
        ):
            part.text = line
            yield line
        else:
            part.complete = False
        return
    messages = full_messages(question=question, hits=hits)
    buffer = ""
    async for piece in stream_chat(messages, stop=stop_sequences(), usage=part.usage, url=url):
        buffer += piece
        *ready, buffer = agreement.split_sentences(buffer)
        for sentence in ready:
            if not _keep(sentence, hits=hits, shown=shown, question=question, part=part):
                return
            yield sentence
    if buffer.strip() and _keep(buffer, hits=hits, shown=shown, question=question, part=part):
        yield buffer


def _keep(
    sentence: str,
    *,
    hits: list[Hit],
    shown: list[evidence.Evidence],
    question: str,
    part: ModelPart,
) -> bool:
    """A sentence stays when it agrees with the passages it cites or, citing none, with the
    evidence already shown: an uncited figure found somewhere among all the passages is not
    enough (it may belong to another row, place or person)."""
    cited = explicit_citations(sentence, len(hits))
    sections = (
        [(hits[n - 1].heading, hits[n - 1].text) for n in cited]
        if cited
        else [(e.heading, e.text) for e in shown]
    )
    source = "\n".join(text for _, text in sections)
    checked = without_citations(sentence)
    if not agreement.agrees(
        checked, evidence_text=source, question=question, polarity=False, sections=sections
    ):
        part.complete = False
        return False
    part.text += sentence
    part.cited += [n for n in explicit_citations(sentence, len(hits)) if n not in part.cited]
    return True
