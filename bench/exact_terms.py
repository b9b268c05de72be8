"""Exact terms on a corpus of thousands of chunks: is the one chunk holding a rare word found?

    DOCENT_VAR_DIR=var/bench .venv/bin/python bench/exact_terms.py [--words 100] [--seed 7]

Ingests (once; later runs reuse them) the Debian manuals found installed, the
large ones too (apt-get install debian-reference-en debian-handbook
diffutils-doc aptitude-doc-en), and searches them all as one reader. It picks
real words that occur in exactly one chunk of that scope (by the vocabulary
table and by the stemmed full-text index, so the chunk is the only right
answer), and asks for each as a bare word and inside a question. It prints
hit@1 and hit@3 (the chunk holding the word ranks first, in the first three)
for Docent's search and for the same search without the exact-term lane, in
the same run with the same embeddings.

This prints figures; it never passes or fails.
"""

from __future__ import annotations

import argparse
import sys
import time

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from dataclasses import replace  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from evaluation.corpora import LARGE_MANUALS, MANUALS, ingest_manual, scope_of  # noqa: E402
from knowledge.embeddings import embed_query  # noqa: E402
from knowledge.search import DEFAULT_TUNING, SearchTuning, chunk_search, unusual_words  # noqa: E402
from knowledge.selectors import ReaderScope  # noqa: E402

SYSTEMS: dict[str, SearchTuning] = {
    "docent": DEFAULT_TUNING,
    "without exact lane": replace(DEFAULT_TUNING, exact_weight=0),
    "exact x1": replace(DEFAULT_TUNING, exact_weight=1.0),
}
FORMS = {
    "bare word": "{word}",
    "in a question": "What does the manual say about {word}?",
}

# Words held by exactly one chunk of the scope, both as written and as the English stemmer
# sees them (otherwise "configurations" could stem to a lexeme many chunks share).
_RARE_SQL = """
WITH once AS (
    SELECT word FROM knowledge_search_word
    WHERE collection_id = ANY(%(collections)s) AND word ~ '^[a-z][a-z0-9]{5,}$'
    GROUP BY word HAVING sum(chunks) = 1
),
sampled AS (
    SELECT word FROM once
    WHERE numnode(plainto_tsquery('english', word)) = 1
    ORDER BY md5(word || %(seed)s) LIMIT %(pool)s
),
matches AS (
    SELECT sampled.word, c.id
    FROM sampled
    JOIN knowledge_chunk c
      ON c.collection_id = ANY(%(collections)s)
     AND c.search_vector @@ plainto_tsquery('english', sampled.word)
)
SELECT word, min(id) FROM matches GROUP BY word HAVING count(*) = 1 ORDER BY md5(word || %(seed)s)
"""


def rare_words(scope: ReaderScope, count: int, seed: int) -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            _RARE_SQL,
            {"collections": list(scope.collection_ids), "seed": str(seed), "pool": count * 4},
        )
        rows = [(w, i) for w, i in cursor.fetchall()][:count]
    print(f"{len(rows)} words held by exactly one chunk (also once stemmed), sampled")
    return rows


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    collections: list[int] = []
    for manual in MANUALS + LARGE_MANUALS:
        collections.extend(ingest_manual(manual) or [])
    scope = scope_of(collections)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM knowledge_chunk WHERE collection_id = ANY(%s)", [collections]
        )
        total = cursor.fetchone()[0]
    print(f"scope: {len(collections)} collections, {total} chunks")

    words = rare_words(scope, args.words, args.seed)
    # Words the embedding model has no token for (codes, names) are what the exact lane is for;
    # ordinary words ("superior") it leaves to the other lanes. Figures for both.
    kinds = {word: "unusual" if unusual_words(word) else "ordinary" for word, _ in words}
    counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in ("unusual", "ordinary")}
    hits = {(s, f, k): [0, 0] for s in SYSTEMS for f in FORMS for k in counts}
    misses: dict[str, list[str]] = {s: [] for s in SYSTEMS}
    started = time.monotonic()
    for word, chunk in words:
        for form, template in FORMS.items():
            query = template.format(word=word)
            vector = embed_query(query)
            for system, tuning in SYSTEMS.items():
                found = [
                    h.chunk
                    for h in chunk_search(
                        scope=scope, query=query, vector=vector, k=3, tuning=tuning
                    )
                ]
                hits[system, form, kinds[word]][0] += found[:1] == [chunk]
                hits[system, form, kinds[word]][1] += chunk in found
                if form == "in a question" and chunk not in found:
                    misses[system].append(word)
    print(f"\n{len(words)} rare words, {time.monotonic() - started:.0f} s")
    print(f"{'system':<22}{'form':<16}{'words':<18}{'hit@1':>8}{'hit@3':>8}")
    for system in SYSTEMS:
        for form in FORMS:
            for kind, n in counts.items():
                at1, at3 = hits[system, form, kind]
                label = f"{kind} ({n})"
                print(
                    f"{system:<22}{form:<16}{label:<18}{at1 / max(1, n):>8.3f}{at3 / max(1, n):>8.3f}"
                )
            at1 = sum(hits[system, form, k][0] for k in counts)
            at3 = sum(hits[system, form, k][1] for k in counts)
            total = max(1, len(words))
            label = f"all ({len(words)})"
            print(f"{system:<22}{form:<16}{label:<18}{at1 / total:>8.3f}{at3 / total:>8.3f}")
    for system, words_missed in misses.items():
        shown = ", ".join(words_missed[:15])
        print(f"{system}: not in the top 3 as a question ({len(words_missed)}): {shown}")


if __name__ == "__main__":
    main()
