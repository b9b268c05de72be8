"""Whether two close questions ask the same thing, so one may be served the other's answer.

Embeddings put "vacation days for interns" right next to "... for contractors", and "What
time should I turn up on my first day?" next to "When do I have to be online during the
day?". Closeness is therefore never enough: a semantic hit must also agree, term for term,
on what the question is about and what qualifies it:

- options and keys as typed (`-i` is not `-I`, `+` is not `-`);
- numbers, amounts and ordinals ("first" is 1, "two" is 2);
- negation ("not", "without", "can't");
- what is asked: when, where, who, why, how many, how much, how long, how (to), yes or no;
- permission against obligation ("can I" is not "must I"; "should I" asks for advice and
  is neither);
- relations that stop-word lists drop: over/under, more/less, before/after, from X;
- every remaining content word, folded only for inflection (days/day, configured/configure).
  Places, roles, settings and names are content words, so a swap of any of them is a miss.

Synonyms are deliberately not folded: "PTO" and "vacation" miss each other. A miss costs
seconds; a false hit costs trust.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from chatbot.answer_cache.wording import lex
from chatbot.words import STOP_WORDS


class Verdict(enum.StrEnum):
    """The first thing two questions disagree on, or SAME."""

    SAME = "same"
    OPTIONS = "options"
    NUMBERS = "numbers"
    NEGATION = "negation"
    ASKS = "asks"
    MODALITY = "modality"
    RELATION = "relation"
    WORDS = "words"


_NUMBER_WORDS = {
    word: str(n)
    for n, words in enumerate(
        [
            (),
            ("one", "first", "once", "single"),
            ("two", "second", "twice", "double"),
            ("three", "third", "triple"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
            ("ten", "tenth"),
            ("eleven", "eleventh"),
            ("twelve", "twelfth"),
        ]
    )
    for word in words
} | {"half": "0.5", "zero": "0", "none": "0"}
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_DIGITS = re.compile(r"\d+(?:[.:]\d+)*")

_NEGATION = frozenset("not no never without nothing nobody neither nor unless except".split())
_PERMISSION = frozenset("can could may might allowed allow permitted permit able".split())
_OBLIGATION = frozenset(
    "must need needs needed required require requires mandatory obliged necessary supposed".split()
)
_RELATION = frozenset(
    "over under above below more less fewer least most before after until till since within "
    "during beyond exceed exceeds exceeding".split()
)
_AUXILIARY = frozenset(
    "is are am was were do does did can could may might must shall should will would have "
    "has had".split()
)
_WHEN_NOUNS = frozenset("time date day days year month week hour".split())
_HOW_WHAT = frozenset("many much long often far soon old big large fast quickly early late".split())


@dataclass(frozen=True)
class Terms:
    """What a question is about and what qualifies it."""

    options: frozenset[str]
    numbers: frozenset[str]
    negated: bool
    asks: frozenset[str]
    modality: frozenset[str]
    relation: frozenset[str]
    words: frozenset[str]


def terms_of(question: str) -> Terms:
    tokens = lex(question)
    options: set[str] = set()
    numbers: set[str] = set()
    modality: set[str] = set()
    relation: set[str] = set()
    words: set[str] = set()
    negated = False
    asks = _asks(tokens)
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _WHEN_NOUNS and i and tokens[i - 1] in {"what", "which"}:
            continue  # "what time" asks when: the noun is the question's frame
        if not token[0].isalnum() and token[0] != "_":
            options.add(token)  # an option or a key: compared as typed
        elif _DIGITS.fullmatch(token) or _ORDINAL.fullmatch(token):
            numbers.add(_ORDINAL.sub(r"\1", token))
        elif token in _NUMBER_WORDS and not (token == "one" and after in {"of", ""}):
            numbers.add(_NUMBER_WORDS[token])
        elif token in _NEGATION:
            negated = True
        elif token in _PERMISSION:
            # "how can I report ..." asks for a procedure, not for permission.
            if not (token in {"can", "could"} and "how" in asks):
                modality.add("may")
        elif token in _OBLIGATION or (token in {"have", "has", "had"} and after == "to"):
            modality.add("must")
        elif token in _RELATION:
            relation.add(token)
        elif token == "from" and (origin := _next_word(tokens, i)):
            relation.add(f"from {_stem(origin)}")  # from Berlin to Toronto is not the reverse
        elif token in STOP_WORDS:
            continue
        else:
            numbers.update(d for d in _DIGITS.findall(token))  # sev1, l4, v2
            words.add(_stem(token))
    return Terms(
        options=frozenset(options),
        numbers=frozenset(numbers),
        negated=negated,
        asks=asks,
        modality=frozenset(modality),
        relation=frozenset(relation),
        words=frozenset(words),
    )


def _next_word(tokens: list[str], i: int) -> str:
    for token in tokens[i + 1 :]:
        if token not in STOP_WORDS:
            return token
    return ""


def _asks(tokens: list[str]) -> frozenset[str]:
    """What kind of answer the question wants; empty for a bare phrase ("hotel cap Lisbon")."""
    asks: set[str] = set()
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token == "how":
            asks.add(f"how {after}" if after in _HOW_WHAT else "how")
        elif token in {"when"} or (token in {"what", "which"} and after in _WHEN_NOUNS):
            asks.add("when")
        elif token in {"where", "why"}:
            asks.add(token)
        elif token in {"who", "whom", "whose"}:
            asks.add("who")
    if not asks and tokens and tokens[0] in _AUXILIARY:
        asks.add("yes or no")
    return frozenset(asks)


def _stem(word: str) -> str:
    """A light inflection fold (days -> day, policies -> policy, configured -> configure).

    No -ing fold: "training" and "train" are different questions.
    """
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    elif word.endswith("ied") and len(word) > 5:
        word = word[:-3] + "y"  # carried -> carry
    elif word.endswith("ed") and len(word) > 5:
        word = word[:-2]
        if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "ls":
            word = word[:-1]  # planned -> plan
    if word.endswith("ize"):
        word = word[:-3] + "ise"
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def compare(asked: str, cached: str) -> Verdict:
    """SAME when `cached`'s answer may be served for `asked`; otherwise what differs."""
    a, b = terms_of(asked), terms_of(cached)
    for verdict, left, right in (
        (Verdict.OPTIONS, a.options, b.options),
        (Verdict.NUMBERS, a.numbers, b.numbers),
        (Verdict.NEGATION, a.negated, b.negated),
        (Verdict.ASKS, a.asks, b.asks),
        (Verdict.MODALITY, a.modality, b.modality),
        (Verdict.RELATION, a.relation, b.relation),
        (Verdict.WORDS, a.words, b.words),
    ):
        if left != right:
            return verdict
    return Verdict.SAME


def same_question(asked: str, cached: str) -> bool:
    return compare(asked, cached) is Verdict.SAME
