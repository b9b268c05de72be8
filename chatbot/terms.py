"""The words of a text that carry its meaning: stems, numbers, names and codes.

Evidence selection (chatbot.evidence) and the check of a model's sentence against the
evidence (chatbot.agreement) compare texts by these, so both read them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chatbot.words import STOP_WORDS

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_'+.%-]*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
NAME = re.compile(r"(?<=[a-z0-9,;:)] )[A-Z][A-Za-z]+")
MARKUP = re.compile(r"\*\*|__|`")
CODE = re.compile(
    r"(?:^|\s)(?:--?[A-Za-z][\w-]*|`[^`]+`|[A-Za-z_]+[_.][A-Za-z_.]+|[A-Z]-\w|Control\+\w|C-\w)"
)
LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•+])\s+")
# A quotation opens after a space or a bracket and closes before one, so the apostrophes of
# "I'm", "doctor's" and "parents' place" open none.
_QUOTED = re.compile(r"""(?:^|(?<=[\s(\[]))(['"“‘`])(.+?)['"”’`](?=[\s,.;:!?)\]]|$)""")


def stem(word: str) -> str:
    """A crude, stable stem: enough for 'interns'/'internship', 'allowances'/'allowance'."""
    word = word.lower().strip(".'-%+")
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:6]


def _words(text: str) -> Iterable[str]:
    """Words, with an identifier's parts as words too ("default_pool_size": default, pool, size)."""
    for word in _WORD.findall(MARKUP.sub("", text)):
        word = re.split(r"['’]", word)[0]  # "what's" -> "what"
        yield word
        if re.search(r"[_.-]", word.strip(".-")):
            yield from (part for part in re.split(r"[_.-]+", word) if part)


def key_terms(text: str) -> set[str]:
    """Stems of the words that carry meaning (numbers included)."""
    return {
        stem(w) for w in _words(text) if w.lower() not in STOP_WORDS and (len(w) > 2 or w.isdigit())
    }


def key_words(text: str) -> dict[str, str]:
    """The words behind `key_terms`, by stem: the form each first appears in, lower-cased."""
    found: dict[str, str] = {}
    for w in _words(text):
        if w.lower() not in STOP_WORDS and len(w) > 2 and w.isalpha():
            found.setdefault(stem(w), w.lower())
    return found


def numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def plain(text: str) -> str:
    return MARKUP.sub("", text)


def quoted(text: str) -> list[str]:
    """Phrases the text quotes ('No newline at end of file', `Do you want to continue? [Y/n/?]`):
    a message, a prompt or a value asked about in its exact words."""
    return [m.group(2).strip() for m in _QUOTED.finditer(text) if m.group(2).strip()]


def holds_phrase(text: str, phrase: str) -> bool:
    """`phrase` stands in `text` as whole words, whatever the case, markup and spacing:
    "__all__" stands in "**__all__**", "fsum" in "math.fsum()"; "28" not in "128", "28.5" or
    "28,000"."""
    flat = " ".join(plain(text).split()).lower()
    wanted = re.escape(" ".join(plain(phrase).split()).lower())
    return re.search(rf"(?<!\w){wanted}(?!\w|[.,]\d)", flat) is not None


def names(text: str) -> set[str]:
    """Capitalised words past a sentence's start, and code-like words: places, roles, products."""
    found = set(NAME.findall(text))
    found |= {
        w
        for w in _words(text)
        if any(c.isdigit() for c in w) or "_" in w or w.isupper() and len(w) > 1
    }
    return {stem(w) for w in found if w.lower() not in STOP_WORDS}
