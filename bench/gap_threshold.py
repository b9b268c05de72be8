"""The knowledge gaps' grouping threshold (chatbot.gaps): which questions belong together.

A gap group should hold the questions one missing document would answer. So a true
paraphrase pair ("how much PTO do I get" / "number of vacation days per year") must land
in one group, and two questions of different pairs (different topics: vacation and the
on-call rota) must not. The near misses of the cache's set ("after 3 years" / "after 5
years", `same: false`) ask about the same topic with another number: one group is fine
for a gap (the same document answers both), so they are reported but not scored.

Embeds every question of bench/qa/cache_pairs.jsonl and knowledge/sample/paraphrases.jsonl
with the real model and prints, per threshold: the share of paraphrase pairs at or above it
(grouped together), of near-miss pairs, of cross-row pairs (each question against every
question of the other rows: mostly other topics, some the same) and of cross-corpus pairs
(surely other topics; must stay near 0).

    .venv/bin/python bench/gap_threshold.py
"""

from __future__ import annotations

import json

from _bootstrap import django_setup  # noqa: E402

ROOT = django_setup()

import numpy as np  # noqa: E402

from knowledge.embeddings import embed_passages  # noqa: E402

FILES = [
    ROOT / "bench" / "qa" / "cache_pairs.jsonl",
    ROOT / "knowledge" / "sample" / "paraphrases.jsonl",
]


def main() -> None:
    rows = [json.loads(line) for path in FILES for line in path.open() if line.strip()]
    a = embed_passages([row["a"] for row in rows])
    b = embed_passages([row["b"] for row in rows])
    pair = np.sum(a * b, axis=1)
    same = np.array([row["same"] for row in rows])
    # Cross-topic: row i's question against row j's (i != j), both sides; a row's own pair
    # and rows sharing a question are left out.
    texts = np.vstack([a, b])
    owner = np.concatenate([np.arange(len(rows)), np.arange(len(rows))])
    sims = texts @ texts.T
    mask = owner[:, None] != owner[None, :]
    words = [row["a"] for row in rows] + [row["b"] for row in rows]
    distinct = np.array([[x != y for y in words] for x in words])
    cross = sims[mask & distinct]
    # Questions of different corpora (handbook, HR, engineering, diffutils, aptitude): surely
    # different gaps, where rows of one corpus may share a topic.
    corpus = np.array([row.get("corpus", "sample") for row in rows] * 2)
    apart = sims[corpus[:, None] != corpus[None, :]]
    print(
        f"{same.sum()} paraphrase pairs, {(~same).sum()} near-miss pairs, "
        f"{cross.size} cross-row pairs, {apart.size} cross-corpus pairs"
    )
    print("threshold  paraphrases  near-misses  cross-row  cross-corpus")
    for threshold in np.arange(0.40, 0.86, 0.05):
        print(
            f"  {threshold:.2f}      {np.mean(pair[same] >= threshold):6.1%}"
            f"      {np.mean(pair[~same] >= threshold):6.1%}"
            f"      {np.mean(cross >= threshold):7.2%}"
            f"    {np.mean(apart >= threshold):7.3%}"
        )


if __name__ == "__main__":
    main()
