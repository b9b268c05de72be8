"""Typo correction against the reader's own vocabulary.

Every word of every chunk is counted per collection in `knowledge_search_word`,
kept in step with the chunks by database triggers (migration 0003), and read
here once per collection and knowledge version into a trigram index in memory.
(pg_trgm would do the matching in SQL, but the embedded PostgreSQL ships only
plpgsql and pgvector; the trigrams here are pg_trgm's: lower case, two spaces
before a word and one after.)

A query word is corrected only when no collection the reader may read holds it
and it is not an ordinary word the embedding model knows (so "vacation" asked of
a manual that never says it does not become "location"). A rarer English word (a
word frequency list counts it) is corrected only to another spelling of itself
("practise" to "practice", not "tweak" to "weak"). A word inside a path or a
code ("/usr/sbin/smail", "max_retries") is typed as it stands. The replacement is
one edit away among the most trigram-similar words of the reader's
collections only, so no other collection's words leak into a query.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection

from knowledge.selectors import ReaderScope

_TOKEN = re.compile(r"[\w][\w'-]*", re.UNICODE)
# Shorter words are too ambiguous to correct.
MIN_LENGTH = 3
# pg_trgm's default similarity_threshold: fewer shared trigrams is not a near spelling.
MIN_SIMILARITY = 0.3
# Trigram neighbours looked at per unknown word before choosing by edit distance.
NEIGHBOURS = 10
# A word counted at least this often in pyspellchecker's English frequency list is English,
# not a typo ("tweak" 1,493, "pasting" 254). The list's floor is 50, where it keeps common
# misspellings ("instal", "dependancy"); the typos of the QA sets are not in it at all.
ENGLISH_MIN_COUNT = 100
# Such a word is replaced only by a word whose embedding (one word each) lies this close:
# spellings of one word measured 0.64-0.98 (practise/practice 0.64, colour/color 0.97,
# freelancer/freelancers 0.93), other words one edit away 0.26-0.46 (tweak/weak 0.27,
# pasting/passing 0.46, keyword/keyboard 0.45).
SAME_MEANING = 0.6
# A whitespace-separated piece of the question holding one of these is a path, a code or an
# address: its words are not corrected.
_CODE_MARK = re.compile(r"[/\\_.=@:](?=\w)")


def trigrams(word: str) -> frozenset[str]:
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


@dataclass
class Vocabulary:
    """One collection's words: how many chunks hold each, and which words hold each trigram."""

    chunks: dict[str, int] = field(default_factory=dict)
    postings: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: list[tuple[str, int]]) -> Vocabulary:
        vocabulary = cls(chunks=dict(rows))
        for word in vocabulary.chunks:
            if word.isalpha():
                for gram in trigrams(word):
                    vocabulary.postings.setdefault(gram, []).append(word)
        return vocabulary


_cache: dict[int, tuple[int, Vocabulary]] = {}
_lock = threading.Lock()


def _vocabularies(collection_ids: tuple[int, ...]) -> list[Vocabulary]:
    """The collections' vocabularies, read again when a collection's knowledge version moved."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, knowledge_version FROM knowledge_collection WHERE id = ANY(%s)",
            [list(collection_ids)],
        )
        versions = dict(cursor.fetchall())
        stale = [c for c in versions if _cache.get(c, (None,))[0] != versions[c]]
        for collection_id in stale:
            cursor.execute(
                "SELECT word, chunks FROM knowledge_search_word WHERE collection_id = %s",
                [collection_id],
            )
            vocabulary = Vocabulary.build(cursor.fetchall())
            with _lock:
                _cache[collection_id] = (versions[collection_id], vocabulary)
    return [_cache[c][1] for c in versions if c in _cache]


@dataclass(frozen=True)
class Correction:
    text: str
    replacements: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.replacements)


def edit_distance(a: str, b: str) -> int:
    """Edits between two words: insertions, deletions, substitutions and swaps of two
    neighbouring letters ("teh"), each counting one (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(
                rows[i - 1][j] + 1,
                row[j - 1] + 1,
                rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def near_enough(word: str, candidate: str) -> bool:
    """One edit; a word of three letters only by a letter left out ("hom" -> "home"),
    since one changed letter turns most short words into another ("src" -> "sec").
    Two edits reached real words that are merely absent from a manual ("keyword" ->
    "keyboard", "config" -> "confirm", measured on the QA sets)."""
    if len(candidate) < MIN_LENGTH or edit_distance(word, candidate) != 1:
        return False
    return len(word) > 3 or len(candidate) == len(word) + 1


def _model_knows(word: str) -> bool:
    """A whole word in the embedding model's vocabulary is English, not a typo."""
    from knowledge.embeddings import get_tokenizer

    return get_tokenizer().token_to_id(word) is not None


def _may_become(word: str, replacement: str) -> bool:
    """A word the model does not know as a whole is a typo, unless written English counts
    it; then only a spelling of the same word replaces it."""
    if english_word_counts().get(word, 0) < ENGLISH_MIN_COUNT:
        return True
    from knowledge.embeddings import embed_words

    vectors = embed_words([word, replacement])
    return float(vectors[word] @ vectors[replacement]) >= SAME_MEANING


@lru_cache(maxsize=1)
def english_word_counts() -> Mapping[str, int]:
    """pyspellchecker's English word counts (160,000 words, read once a process in ~0.25 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(language="en", case_sensitive=False).word_frequency.dictionary


def _correctable(query: str) -> set[str]:
    """The query's words a typo correction may touch: alphabetic, long enough, and not
    part of a path or a code."""
    pieces = (p for p in query.split() if not _CODE_MARK.search(p))
    words = {m.lower() for piece in pieces for m in _TOKEN.findall(piece)}
    return {w for w in words if w.isalpha() and len(w) >= MIN_LENGTH}


def neighbours(word: str, vocabularies: list[Vocabulary]) -> list[tuple[str, float, int]]:
    """The known words most trigram-similar to `word`: (word, similarity, chunks), best first."""
    grams = trigrams(word)
    shared: dict[str, int] = {}
    for vocabulary in vocabularies:
        overlaps = Counter(w for gram in grams for w in vocabulary.postings.get(gram, ()))
        for candidate, overlap in overlaps.items():
            shared[candidate] = max(overlap, shared.get(candidate, 0))
    scored = []
    for candidate, overlap in shared.items():
        similarity = overlap / (len(grams) + len(trigrams(candidate)) - overlap)
        if similarity >= MIN_SIMILARITY:
            chunks = sum(v.chunks.get(candidate, 0) for v in vocabularies)
            scored.append((candidate, similarity, chunks))
    scored.sort(key=lambda s: (-s[1], s[0]))
    return scored[:NEIGHBOURS]


def best_replacement(word: str, candidates: list[tuple[str, float, int]]) -> str | None:
    """The most trigram-similar candidate `near_enough` to `word`, then the more frequent;
    None when nothing is near enough."""
    near = [
        (-similarity, -chunks, c) for c, similarity, chunks in candidates if near_enough(word, c)
    ]
    return min(near)[2] if near else None


def query_correct(*, scope: ReaderScope, query: str) -> Correction:
    """`query` with each word unknown to the reader's collections replaced by its nearest
    known word, when one is near enough; unchanged otherwise."""
    words = _correctable(query)
    if not words or not scope.collection_ids:
        return Correction(text=query)
    vocabularies = _vocabularies(scope.collection_ids)
    unknown = sorted(
        w for w in words if not any(w in v.chunks for v in vocabularies) and not _model_knows(w)
    )
    replacements = {
        word: best
        for word in unknown
        if (best := best_replacement(word, neighbours(word, vocabularies))) is not None
        and _may_become(word, best)
    }
    if not replacements:
        return Correction(text=query)
    text = _TOKEN.sub(lambda m: replacements.get(m.group(0).lower(), m.group(0)), query)
    return Correction(text=text, replacements=tuple(sorted(replacements.items())))


def words_unknown(*, scope: ReaderScope, text: str) -> set[str]:
    """The words of `text` (three letters or more) that no collection the reader may read
    holds: what the reader's documents never mention, whatever the embedding thinks."""
    words = {t for t in (m.lower() for m in _TOKEN.findall(text)) if t.isalpha()}
    words = {w for w in words if len(w) >= MIN_LENGTH}
    if not words or not scope.collection_ids:
        return words
    vocabularies = _vocabularies(scope.collection_ids)
    return {
        w for w in words if not any(form in v.chunks for form in _forms(w) for v in vocabularies)
    }


def _forms(word: str) -> set[str]:
    """The word and its nearest inflections, so "increases" is known where "increase" is."""
    forms = {word, f"{word}s", f"{word}es"}
    for suffix in ("s", "es", "ed", "d", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_LENGTH:
            forms.add(word[: -len(suffix)])
    return forms
