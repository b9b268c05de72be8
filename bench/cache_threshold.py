"""The answer cache's semantic tier on near-miss pairs: false hits against paraphrase hits.

Embeds both questions of every pair with the real embedding model and prints, for the
pairs of bench/qa/cache_pairs.jsonl (handbook, engineering, HR and the Debian diffutils
and aptitude manuals: other numbers, places, roles, settings and options, negation,
question type, plus true paraphrases) and knowledge/sample/paraphrases.jsonl (the first
80 sample pairs):

- the false-hit rate (a near miss that would be served the other's answer; must be 0) and
  the paraphrase-hit rate, at ANSWER_CACHE_SIMILARITY, for cosine alone, the previous
  guard (frozen below as `previous_same_question`) and the current one
  (chatbot.answer_cache.guard), in the same run;
- the same per corpus and per kind, and a sweep of thresholds for the current guard.

    .venv/bin/python bench/cache_threshold.py [--misses]

`--misses` lists every pair with its cosine and both guards' verdicts.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable

from _bootstrap import django_setup  # noqa: E402  (bench/ is on the path: scripts run as files)

ROOT = django_setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402

from chatbot.answer_cache.guard import compare  # noqa: E402
from knowledge.embeddings import embed_passages  # noqa: E402

FILES = [
    ROOT / "bench" / "qa" / "cache_pairs.jsonl",
    ROOT / "knowledge" / "sample" / "paraphrases.jsonl",
]
THRESHOLDS = [round(0.40 + 0.05 * i, 2) for i in range(12)]  # 0.40 .. 0.95


# --- the guard before issue 8, frozen here as the baseline ------------------------------------

_OLD_STOP = frozenset(
    "a an the and or of to in on at for from with by about into onto inside under over after "
    "before per is are was were be been am do does did doing have has had get got can could "
    "may might must shall should will would i me my mine we our us you your it its this that "
    "these those there what whats which who whom whose when where why how many much "
    "if then than so any some each all not no yes please tell know need want"
    " im ive id dont didnt".split()
)


def _old_normalise(question: str) -> str:
    text = unicodedata.normalize("NFKC", question).casefold()
    text = re.sub(r"(?<=\w)['’](?=\w)|(?<=\d),(?=\d)", "", text)
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]+", " ", text)).strip()


def _old_words(normalised: str) -> set[str]:
    words = set()
    for word in normalised.split():
        if word in _OLD_STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def previous_same_question(asked: str, cached: str) -> bool:
    a, b = _old_normalise(asked), _old_normalise(cached)
    if set(re.findall(r"\d+", a)) != set(re.findall(r"\d+", b)):
        return False
    words_a, words_b = _old_words(a), _old_words(b)
    shared = words_a & words_b
    only_a, only_b = words_a - shared, words_b - shared
    if not shared or not (only_a or only_b):
        return True
    return max(len(only_a), len(only_b)) > len(shared)


# --- the run ----------------------------------------------------------------------------------


def load() -> list[dict]:
    pairs = []
    for path in FILES:
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                row.setdefault("corpus", "handbook (first 80)")
                row.setdefault("kind", "paraphrase" if row["same"] else "near miss")
                if path.name == "paraphrases.jsonl":
                    row["corpus"] = "sample 80"
                pairs.append(row)
    return pairs


def main() -> None:
    pairs = load()
    # The cache embeds the question as asked (embed_query); a batch gives the same vectors.
    a = embed_passages([p["a"] for p in pairs])
    b = embed_passages([p["b"] for p in pairs])
    cosine = np.sum(a * b, axis=1)
    same = np.array([p["same"] for p in pairs])
    # The cache asks the guard with the new question first; both orders must agree.
    verdicts = [compare(p["b"], p["a"]) for p in pairs]
    current = np.array(
        [
            v == "same" and compare(p["a"], p["b"]) == "same"
            for v, p in zip(verdicts, pairs, strict=True)
        ]
    )
    previous = np.array([previous_same_question(p["b"], p["a"]) for p in pairs])
    guards: dict[str, np.ndarray] = {
        "cosine only": np.ones(len(pairs), dtype=bool),
        "previous guard": previous,
        "current guard": current,
    }
    chosen = settings.ANSWER_CACHE_SIMILARITY
    positives, negatives = int(same.sum()), int((~same).sum())
    print(
        f"{settings.EMBEDDING_MODEL or 'bundled all-MiniLM-L6-v2'}; {len(pairs)} pairs: "
        f"{negatives} near misses, {positives} paraphrases; threshold {chosen:.2f}\n"
    )
    print(f"{'':16} | false hits (must be 0)  | paraphrase hits")
    for name, passes in guards.items():
        hit = (cosine >= chosen) & passes
        print(f"{name:16} | {_rate(hit[~same]):>22} | {_rate(hit[same])}")

    for field in ("corpus", "kind"):
        print(
            f"\nby {field} (false hits / paraphrase hits at {chosen:.2f}: previous -> current guard)"
        )
        for value in sorted({p[field] for p in pairs}):
            rows = np.array([p[field] == value for p in pairs])
            cells = []
            for flags in (~same & rows, same & rows):
                if flags.any():
                    old = _count((cosine >= chosen) & previous, flags)
                    new = _count((cosine >= chosen) & current, flags)
                    cells.append(f"{old} -> {new}")
                else:
                    cells.append("-")
            print(f"  {value:20} {cells[0]:>22} | {cells[1]}")

    print("\nthreshold | current guard: false hits  paraphrase hits | cosine only: false hits")
    for t in sorted({*THRESHOLDS, chosen}):
        hit = cosine >= t
        print(
            f"   {t:.2f}   |   {_rate((hit & current)[~same]):>18}   {_rate((hit & current)[same]):>15}"
            f" | {_rate(hit[~same]):>18}" + ("   <- ANSWER_CACHE_SIMILARITY" if t == chosen else "")
        )
    passing = cosine[~same & current]
    if len(passing):
        print(f"\nnearest near miss the current guard lets through: cosine {passing.max():.3f}")
    if "--misses" in sys.argv:
        _listing(pairs, cosine, same, previous, verdicts, lambda i: True)


def _listing(
    pairs: list[dict],
    cosine: np.ndarray,
    same: np.ndarray,
    previous: np.ndarray,
    verdicts: list,
    keep: Callable[[int], bool],
) -> None:
    print("\nsame  previous  current    cosine  a | b")
    for i in np.argsort(-cosine):
        if keep(int(i)):
            print(
                f"{same[i]!s:5} {previous[i]!s:9} {verdicts[i]!s:10} {cosine[i]:.3f}  "
                f"{pairs[i]['a']} | {pairs[i]['b']}"
            )


def _count(hits: np.ndarray, rows: np.ndarray) -> str:
    return f"{int(hits[rows].sum())}/{int(rows.sum())}"


def _rate(flags: np.ndarray) -> str:
    return f"{flags.mean() * 100:5.1f}% ({int(flags.sum())}/{len(flags)})"


if __name__ == "__main__":
    main()
