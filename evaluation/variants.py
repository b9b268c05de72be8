"""Search tunings worth measuring against the default, by label (bench/retrieval_quality.py --variants).

Each is the real `chunk_search` with other knobs (knowledge.search.SearchTuning),
so what is measured is what would ship. The default is measured as "docent".
"""

from __future__ import annotations

from dataclasses import replace

from knowledge.search import DEFAULT_TUNING, SearchTuning

_D = DEFAULT_TUNING

VARIANTS: dict[str, SearchTuning] = {
    # Docent before the exact and section lanes and typo correction (search.py at 06e4e4b).
    "before (06e4e4b)": replace(_D, exact_weight=0, section_weight=0, correct_typos=False),
    "no exact lane": replace(_D, exact_weight=0),
    "exact lane takes ordinary words": replace(_D, exact_ordinary_words=True),
    "no section lane": replace(_D, section_weight=0),
    "section x0.5": replace(_D, section_weight=0.5),
    "no typo correction": replace(_D, correct_typos=False),
    "exact <=1 chunk": replace(_D, exact_max_chunks=1),
    "exact <=3 chunks": replace(_D, exact_max_chunks=3),
    "exact <=5 chunks": replace(_D, exact_max_chunks=5),
    "exact x1": replace(_D, exact_weight=1.0),
    "exact x2": replace(_D, exact_weight=2.0),
    "vector only": replace(_D, text_weight=0, exact_weight=0),
    "text only": replace(_D, vector_weight=0, exact_weight=0),
    "text x1, no cut (skeleton)": replace(
        _D, text_weight=1.0, common_share=None, exact_weight=0, correct_typos=False
    ),
    "text x0.25": replace(_D, text_weight=0.25),
    "cut 0.25": replace(_D, common_share=0.25),
    "no heading boost": replace(_D, rank_weights=(0.1, 0.2, 0.4, 0.4)),
    "<=2 chunks per document": replace(_D, per_document=2),
}
