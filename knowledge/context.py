"""Turn ranked hits into the passages a prompt gets.

Before the best are taken, a long section's chunks past the first few give way
to the next sections' (`spread_sections`, chatbot.answering.retrieve).

Near-identical passages (the same paragraph in two documents, or two
overlapping chunks) are kept once; a passage is joined with the next chunk of
the same section, so an answer that spans a chunk boundary holds together;
passages are added best first until the token budget is spent.
"""

from __future__ import annotations

import re
from dataclasses import replace

from knowledge.models import Chunk
from knowledge.search import Hit

_WORD = re.compile(r"\w+", re.UNICODE)
NEAR_DUPLICATE = 0.8


def estimate_tokens(text: str) -> int:
    """Conservative for English with a llama-style vocabulary (about 4 characters a token)."""
    return len(text) // 3 + 1


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def drop_near_duplicates(hits: list[Hit]) -> list[Hit]:
    kept: list[tuple[Hit, set]] = []
    for hit in hits:
        shingles = _shingles(hit.text)
        if any(
            len(shingles & other) / max(1, len(shingles | other)) >= NEAR_DUPLICATE
            for _, other in kept
        ):
            continue
        kept.append((hit, shingles))
    return [hit for hit, _ in kept]


def spread_sections(hits: list[Hit], *, per_section: int | None) -> list[Hit]:
    """`hits` in order, but a section's chunks past its first `per_section` go last.

    A long section whose words match the question everywhere ("Command-line actions",
    a policy chapter) can fill every passage with itself while the one sentence that
    answers stands in the next-ranked section.
    """
    if not per_section:
        return hits
    seen: dict[tuple[int, str], int] = {}
    first: list[Hit] = []
    later: list[Hit] = []
    for hit in hits:
        section = (hit.document, hit.heading)
        seen[section] = seen.get(section, 0) + 1
        (first if seen[section] <= per_section else later).append(hit)
    return first + later


def with_next_chunk(hits: list[Hit]) -> list[Hit]:
    """Append the following chunk of the same document and heading to each hit (one query)."""
    wanted = {(hit.document, hit.position + 1) for hit in hits}
    if not wanted:
        return hits
    taken = {(hit.document, hit.position) for hit in hits}
    rows = Chunk.objects.filter(
        document_id__in={d for d, _ in wanted}, position__in={p for _, p in wanted}
    ).values_list("document_id", "position", "heading", "text")
    following = {(d, p): (heading, text) for d, p, heading, text in rows if (d, p) in wanted}
    expanded = []
    for hit in hits:
        key = (hit.document, hit.position + 1)
        if key in following and key not in taken and following[key][0] == hit.heading:
            expanded.append(replace(hit, text=_join(hit.text, following[key][1])))
        else:
            expanded.append(hit)
    return expanded


def _join(first: str, second: str) -> str:
    """Join two overlapping chunks without repeating the overlap."""
    for size in range(min(len(first), len(second), 400), 20, -1):
        if first.endswith(second[:size]):
            return first + second[size:]
    return f"{first}\n{second}"


def fit_to_budget(hits: list[Hit], *, tokens: int) -> list[Hit]:
    """Best passages first, as many as fit; the best one always goes in, trimmed if need be."""
    chosen: list[Hit] = []
    spent = 0
    for hit in hits:
        cost = estimate_tokens(hit.text) + 8
        if spent + cost > tokens:
            if not chosen:
                chosen.append(replace(hit, text=hit.text[: max(0, tokens - 8) * 3]))
            break
        chosen.append(hit)
        spent += cost
    return chosen


def build_context(hits: list[Hit], *, tokens: int, expand: bool = True) -> list[Hit]:
    hits = drop_near_duplicates(hits)
    if expand:
        hits = with_next_chunk(hits)
    return fit_to_budget(hits, tokens=tokens)
