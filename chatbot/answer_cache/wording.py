"""A question as tokens: the one reading of its wording that the cache key and the guard share.

Words are casefolded and stripped of punctuation, but what tells two questions apart
survives: command-line options, search terms and single-letter keys keep their case (`diff -i` is not `diff -I`), a key typed
on its own keeps its symbol (aptitude's `+` is not its `-`), currency symbols and `%`
become words, thousands separators go (2,000 is 2000) and decimals stay (0.30 is not 30).
"""

from __future__ import annotations

import re
import unicodedata

# -i, --ignore-case, and aptitude's search terms ~i and ?name
_OPTION = re.compile(r"(?:-{1,2}|~|\?)[A-Za-z0-9][\w-]*")
_SYMBOLS = re.compile(r"[^\w\s]+")
_SENTENCE_MARKS = re.compile(r"[.,;!?]+")
# Quotes and brackets around a word; not < and >, which are diff's %< and %>.
_AROUND = "\"'`()[]{}«»"
_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'(?:s|m|re|ve|d|ll)\b"), ""),
)
_WORDS_AS_WRITTEN = {
    "e-mail": "email",
    "e-mails": "emails",
    "wi-fi": "wifi",
    "euro": "eur",
    "euros": "eur",
}
_SIGNS = {"€": " eur ", "$": " usd ", "£": " gbp ", "%": " percent "}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER_OR_WORD = re.compile(r"\d+(?:[.:]\d+)+|\w+")


def lex(question: str) -> list[str]:
    """The question's tokens: "What's the EUR 2,000 limit for -I?" -> [what, the, eur, 2000, limit, for, -I]."""
    text = unicodedata.normalize("NFKC", question)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    tokens: list[str] = []
    for raw in text.split():
        token = raw.strip(_AROUND)
        core = token.rstrip(".,;:!?") or token
        if _OPTION.fullmatch(core):
            tokens.append(core.rstrip("-"))
        elif len(core) == 1 and core.isalpha() and core not in "IaA":
            tokens.append(core)  # a key as typed: aptitude's u and U are different keys
        elif core in _SIGNS:
            tokens.append(_SIGNS[core].strip())
        elif _SYMBOLS.fullmatch(core):
            if not _SENTENCE_MARKS.fullmatch(core):
                tokens.append(core)  # a key pressed on its own: "+", "_", "=", ":"
        else:
            tokens.extend(_words(core))
    return tokens


def _words(token: str) -> list[str]:
    text = token.casefold()
    text = _WORDS_AS_WRITTEN.get(text, text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    for sign, word in _SIGNS.items():
        text = text.replace(sign, word)
    text = _THOUSANDS.sub("", text)
    return [_number(t) if t[0].isdigit() else t for t in _NUMBER_OR_WORD.findall(text)]


def _number(token: str) -> str:
    """0.30 -> 0.3, 1.0 -> 1: one number, one spelling. Times (10:00) stay as written."""
    if re.fullmatch(r"\d+\.\d+", token):
        token = token.rstrip("0").rstrip(".")
    return token
