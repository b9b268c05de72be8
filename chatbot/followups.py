"""Turn a follow-up ("and for contractors?") into a question that stands alone.

Retrieval sees only the stand-alone question, so it must carry the earlier
turn's subject. The rewrite is deterministic and costs nothing: the previous
question, then the follow-up. Questions that already stand alone pass through.
"""

from __future__ import annotations

import re

_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|and what|what if|same for|or)\b"
    r"|\b(it|its|they|them|their|that|this|those|these|he|she|there)\b",
    re.I,
)


def looks_like_follow_up(question: str) -> bool:
    words = question.split()
    return len(words) <= 6 or bool(_FOLLOW_UP.search(question))


async def standalone_question(*, question: str, history: list[tuple[str, str]]) -> str:
    previous = [text for role, text in history if role == "user"]
    if not previous or not looks_like_follow_up(question):
        return question
    return f"{previous[-1].rstrip(' ?')}? {question}"
