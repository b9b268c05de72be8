"""Evidence: the span that answers is chosen by the question; a model line stands only if it agrees."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from chatbot import agreement, evidence, excerpts, terms
from chatbot.answering import DoneEvent, TokenEvent, answer_question
from chatbot.followups import query_vector, standalone
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope
from tests.support.corpus import ingest_text
from tests.support.hits import make_hit

VACATION = """# Vacation and leave

## Annual vacation
Full-time permanent employees get 28 working days of paid vacation per calendar year.
After 5 years of service, employees get 30 days.

## Interns
Interns earn 2 paid vacation days per full month of internship.

## Contractors
Contractors do not receive paid vacation.
"""

PER_DIEM = """# Travel and expenses

## Per diem
Per diems cover meals while you travel for work. The daily allowance depends on the country
you travel to; partial days are paid at a reduced rate.

### Germany
- Full day: **EUR 28**
- Partial day: **EUR 14**

### Canada
- Full day: **CAD 85**
- Partial day: **CAD 45**

### United States
- Full day: **USD 79**
- Partial day: **USD 40**
"""


# --- spans and the agreement check, without the database --------------------------------------


def test_a_short_list_under_its_heading_is_one_span() -> None:
    units = evidence.spans("- Full day: **CAD 85**\n- Partial day: **CAD 45**")
    assert units == ["- Full day: **CAD 85**\n- Partial day: **CAD 45**"]


def test_a_table_row_keeps_its_header() -> None:
    units = evidence.spans(
        "| Country | Full day |\n|---|---|\n| Canada | CAD 85 |\n| Germany | EUR 28 |"
    )
    assert units == [
        "| Country | Full day |\n| Canada | CAD 85 |",
        "| Country | Full day |\n| Germany | EUR 28 |",
    ]


def test_paragraphs_split_into_sentences() -> None:
    units = evidence.spans(
        "Interns earn 2 days a month. Contractors earn none.\nThey may take unpaid leave."
    )
    assert units == [
        "Interns earn 2 days a month.",
        "Contractors earn none.",
        "They may take unpaid leave.",
    ]


def test_a_definition_list_entry_keeps_its_term_with_its_description() -> None:
    # An option reference as HTML leaves it: terms on lines of their own, then what they do.
    text = (
        "-i\n--ignore-case\nIgnore changes in case. See Suppressing Case Differences .\n"
        "-I regexp\nIgnore changes that just insert or delete lines that match regexp ."
    )
    assert evidence.spans(text) == [
        "-i --ignore-case Ignore changes in case. See Suppressing Case Differences .",
        "-I regexp Ignore changes that just insert or delete lines that match regexp .",
    ]


def test_prose_lines_stay_sentences() -> None:
    # Lines that end sentences are no terms: a paragraph's sentences are still its units.
    text = "Interns earn 2 days per month.\nDays not taken are paid out. Ask People."
    assert evidence.spans(text) == [
        "Interns earn 2 days per month.",
        "Days not taken are paid out.",
        "Ask People.",
    ]


def test_a_runner_up_from_the_same_document_is_shown_more_readily() -> None:
    # Between RUNNER_UP_SHARE (0.9) and SAME_DOCUMENT_SHARE (0.85) of the best span's score.
    # Past the best span's context (CONTEXT_AFTER following spans), so not already shown.
    hits = [
        make_hit(1, "Alpha one. Beta two. Gamma three. Epsilon five. Zeta six. Delta four."),
        make_hit(2, "Other text."),
    ]
    best = evidence.Evidence(
        passage=1, text="Alpha one.", heading="", title="Doc 1", score=1.0, term_share=1.0
    )
    same = evidence.Evidence(
        passage=1,
        text="Delta four.",
        heading="",
        title="Doc 1",
        score=0.87,
        term_share=1.0,
        index=5,
    )
    other = evidence.Evidence(
        passage=2, text="Other text.", heading="", title="Doc 2", score=0.87, term_share=1.0
    )
    assert [e.text for e in evidence.excerpts(ranked_spans=[best, same], hits=hits)][1:] == [
        "Delta four."
    ]
    assert [e.text for e in evidence.excerpts(ranked_spans=[best, other], hits=hits)][1:] == []


def test_the_best_span_is_shown_with_what_follows_it_while_the_excerpt_is_short() -> None:
    # Manuals set a question up before answering it: the answer two sentences on is shown.
    filler = "Filler sentence number one goes on for a while to take some room. " * 12
    text = (
        "Lists are slow as queues. Inserts at the front shift every element. "
        f"To implement a queue, use collections.deque. It has fast appends and pops. {filler}"
    )
    best = evidence.Evidence(
        passage=1,
        text="Lists are slow as queues.",
        heading="",
        title="Doc 1",
        score=1.0,
        term_share=1.0,
        index=0,
    )
    shown = evidence.excerpts(ranked_spans=[best], hits=[make_hit(1, text)])[0].text
    assert shown.startswith("Lists are slow as queues.")
    assert "use collections.deque" in shown
    assert "Filler" not in shown
    assert len(shown) <= excerpts.CONTEXT_CHARS


def test_a_long_list_keeps_as_many_items_with_its_introduction_as_fit() -> None:
    items = "\n".join(f"- /var/lib/part{n}/" + "x" * 60 for n in range(10))
    units = evidence.spans(f"The following files are included in the bundle:\n{items}")
    assert units[0].startswith("The following files are included in the bundle:\n- /var/lib/part0/")
    assert "/var/lib/part3/" in units[0]
    assert len(units[0]) <= excerpts.MAX_SPAN_CHARS
    assert len(units) > 1 and all(unit.startswith("- /var/lib/part") for unit in units[1:])


def test_a_table_of_contents_is_no_evidence() -> None:
    toc = (
        "- 7. Input and Output 7.1. Fancier Output Formatting 7.1.1. Formatted String Literals "
        "7.1.2. The String format() Method"
    )
    assert evidence.spans(toc) == []
    assert evidence.spans("Table of Contents Introduction What is this thing, anyway?") == []
    assert evidence.spans("Section 7.1. Fancier Output explains the format() method.") != []


def test_quoted_phrases_are_read_from_the_question() -> None:
    # A message or a prompt asked about in its exact words; apostrophes open no quotation.
    assert terms.quoted("At the 'Do you want to continue? [Y/n/?]' prompt, what does s do?") == [
        "Do you want to continue? [Y/n/?]"
    ]
    assert terms.quoted('What does "No newline at end of file" mean?') == [
        "No newline at end of file"
    ]
    assert terms.quoted("I'm sick: from which day do I need a doctor's note?") == []
    assert terms.quoted("Can I work from my parents' place for a month?") == []
    assert terms.holds_phrase(
        "Do you want to **continue?**  [Y/n/?] s", "do you want to continue? [Y/n/?]"
    )
    assert not terms.holds_phrase("a cat", "c")
    # Markup counts for nothing on either side; a number is not part of a longer one.
    assert terms.holds_phrase("Define `__all__` in the package's `__init__.py`.", "__all__")
    assert terms.holds_phrase("use math.fsum() instead", "fsum")
    assert not any(
        terms.holds_phrase(f"It costs EUR {n}.", "28") for n in ("128", "28.5", "28,000")
    )
    assert terms.holds_phrase("It costs EUR 28.", "28")


def _same_meaning(monkeypatch) -> np.ndarray:
    """Every span as close in meaning to the question as every other: the words decide."""
    import knowledge.embeddings

    monkeypatch.setattr(
        knowledge.embeddings, "embed_spans", lambda texts: np.ones((len(texts), 2)) / np.sqrt(2)
    )
    return np.array([1.0, 0.0])


def test_a_span_holding_the_phrase_the_question_quotes_wins(monkeypatch) -> None:
    vector = _same_meaning(monkeypatch)
    question = "At the 'Do you want to continue? [Y/n/?]' prompt, how do I see each package's size?"
    hits = [
        make_hit(
            1, "%Z Size Change: how much space each package will use, shown in the package list."
        ),
        make_hit(2, "Do you want to continue? [Y/n/?] s\n\nSize changes will be shown."),
    ]
    chosen = evidence.choose(question=question, hits=hits, question_vector=vector)
    assert chosen is not None and chosen.passage == 2


def test_a_rare_question_word_outweighs_a_common_one(monkeypatch) -> None:
    # "package" is in five spans, "experimental" in one: the rare word tells them apart,
    # so its span wins although the other passage ranks first and each holds one word.
    vector = _same_meaning(monkeypatch)
    hits = [
        make_hit(
            1,
            "Package one is small. Package two is large. Package three is old. "
            "Package four is new. Package five is odd.",
        ),
        make_hit(2, "Experimental builds live elsewhere."),
    ]
    chosen = evidence.choose(
        question="Is there an experimental package?", hits=hits, question_vector=vector
    )
    assert chosen is not None and chosen.text == "Experimental builds live elsewhere."


def test_a_question_word_found_in_other_words_counts(monkeypatch) -> None:
    # Both spans hold "package" and "list"; only the second says "refresh", as "update".
    # The words are compared by the real embedding model (embed_words is not replaced).
    vector = _same_meaning(monkeypatch)
    hits = [
        make_hit(1, "The package list is sorted by name."),
        make_hit(2, "Press u to update the list of available packages."),
    ]
    question = "How do I refresh the package list?"
    chosen = evidence.choose(question=question, hits=hits, question_vector=vector)
    assert chosen is not None and chosen.passage == 2
    monkeypatch.setattr(evidence, "SOFT_SHARE", 0.0)
    chosen = evidence.choose(question=question, hits=hits, question_vector=vector)
    assert chosen is not None and chosen.passage == 1  # without it, the first passage wins


def test_a_sentence_that_says_what_to_use_answers_how_to(monkeypatch) -> None:
    # Both spans hold the question's words and an option; the option list's entry ranks
    # first, the sentence saying which option to use answers "how do I".
    vector = _same_meaning(monkeypatch)
    hits = [
        make_hit(1, "-w --ignore-all-space Ignore white space when comparing lines."),
        make_hit(
            2, "To ignore white space when comparing lines, use the --ignore-all-space option."
        ),
    ]
    question = "How do I ignore white space when comparing lines?"
    chosen = evidence.choose(question=question, hits=hits, question_vector=vector)
    assert chosen is not None and chosen.passage == 2
    monkeypatch.setattr(evidence, "INSTRUCTION_WEIGHT", 0.0)
    chosen = evidence.choose(question=question, hits=hits, question_vector=vector)
    assert chosen is not None and chosen.passage == 1  # without the rule, rank decides


def test_rows_of_one_table_show_its_header_once() -> None:
    table = "| City | Hotel per night |\n|---|---|\n| Berlin | EUR 150 |\n| London | GBP 220 |\n| Lisbon | EUR 130 |"
    hits = [make_hit(1, table)]
    rows = evidence.spans(table)
    best = evidence.Evidence(
        passage=1, text=rows[1], heading="", title="Doc 1", score=1.0, term_share=1.0, index=1
    )
    shown = evidence.excerpts(ranked_spans=[best], hits=hits)[0].text
    assert (
        shown
        == "| City | Hotel per night |\n| Berlin | EUR 150 |\n| London | GBP 220 |\n| Lisbon | EUR 130 |"
    )


def test_the_kind_of_answer_is_read_from_the_question() -> None:
    assert evidence.answer_kind("How many days off does an intern get?") == "amount"
    assert evidence.answer_kind("When is the receipt deadline?") == "time"
    assert evidence.answer_kind("Which option ignores case?") == "code"
    assert evidence.answer_kind("Can I bring my dog?") is None


SOURCE = "Interns earn 2 paid vacation days per full month of internship."
QUESTION = "How many vacation days do interns get?"


@pytest.mark.parametrize(
    "line",
    [
        "Interns get 2 paid vacation days per month of internship.",
        "Interns earn 2 vacation days for each full month.",
    ],
)
def test_a_line_that_restates_the_evidence_agrees(line: str) -> None:
    assert agreement.agrees(line, evidence_text=SOURCE, question=QUESTION)


@pytest.mark.parametrize(
    "line",
    [
        "Interns get 28 vacation days per year.",  # a number the evidence does not hold
        "The answer to the question in one full sentence, using only the context.",  # scaffolding
        "Q: How many vacation days do interns get?",  # an echo
        "How many vacation days do interns get?",  # the question again, nothing from the evidence
        "Interns do not earn paid vacation days.",  # a negation the evidence does not make
        "Interns earn 2 days, approved by Margaret in Lisbon.",  # a name from nowhere
    ],
)
def test_a_line_that_goes_beyond_the_evidence_does_not_agree(line: str) -> None:
    assert not agreement.agrees(line, evidence_text=SOURCE, question=QUESTION)


def test_streamed_text_splits_into_finished_sentences_and_the_rest() -> None:
    assert agreement.split_sentences("Use -i [1]. It ignores case. Then") == [
        "Use -i [1].",
        "It ignores case.",
        "Then",
    ]


# --- choosing evidence on real retrieval --------------------------------------------------------


def _evidence_for(scope, question: str, history=()):
    rewrite = standalone(question=question, history=list(history))
    vector = query_vector(rewrite)
    hits = chunk_search(scope=scope, query=rewrite.text, vector=vector, k=4)
    return evidence.choose(
        question=rewrite.text, hits=hits, question_vector=vector, focus=rewrite.focus
    )


@pytest.mark.django_db
def test_a_follow_up_about_interns_quotes_the_interns_rule(handbook, dave) -> None:
    ingest_text(handbook, "vacation.md", VACATION)
    history = [("user", "How many vacation days do I get?"), ("assistant", "28 working days.")]
    chosen = _evidence_for(reader_scope(dave), "and for interns?", history)
    assert chosen is not None
    assert chosen.text.startswith("Interns earn 2 paid vacation days")


@pytest.mark.django_db
def test_a_question_about_canada_quotes_the_canada_section(handbook, dave) -> None:
    ingest_text(handbook, "travel.md", PER_DIEM)
    chosen = _evidence_for(reader_scope(dave), "Daily meal allowance in Canada?")
    assert chosen is not None
    assert "CAD 85" in chosen.text and "Canada" in chosen.heading


# --- the whole path: evidence first, nothing taken back -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_answer_opens_with_the_evidence_and_equals_what_was_streamed(handbook, dave) -> None:
    ingest_text(handbook, "vacation.md", VACATION)

    async def run() -> list:
        return [e async for e in answer_question(user=dave, question=QUESTION, save=False)]

    events = asyncio.run(run())
    done = events[-1]
    assert isinstance(done, DoneEvent)
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert tokens[0].startswith("> Interns earn 2 paid vacation days")
    assert "".join(tokens) == done.answer
    assert [s.path for s in done.sources][:1] == ["vacation.md"]
    # Whatever the model added holds no number the evidence does not.
    assert terms.numbers(done.answer) <= terms.numbers(VACATION) | {"1"}


@pytest.mark.django_db(transaction=True)
def test_a_model_that_is_down_leaves_the_evidence_standing(handbook, dave, settings) -> None:
    ingest_text(handbook, "vacation.md", VACATION)
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens

    async def run() -> list:
        return [e async for e in answer_question(user=dave, question=QUESTION, save=False)]

    done = asyncio.run(run())[-1]
    assert isinstance(done, DoneEvent)
    assert done.answer.startswith("> Interns earn 2 paid vacation days")
    assert "[1]" in done.answer and "Interns earn 2" in done.answer


def test_a_citation_still_arriving_stays_with_its_sentence() -> None:
    assert agreement.split_sentences("Interns get 2 days. [") == ["Interns get 2 days. ["]
    assert agreement.split_sentences("Interns get 2 days. [2] Staff get 28 days.") == [
        "Interns get 2 days. [2]",
        "Staff get 28 days.",
    ]


HOTELS = "| City | Hotel per night |\n| London | GBP 220 |\n| Lisbon | EUR 130 |"


def test_a_figure_for_the_place_asked_must_stand_beside_it_in_the_source() -> None:
    question = "What is the most I can pay for a hotel night in London?"
    sections = [("Travel > Hotels", HOTELS)]
    assert agreement.agrees(
        "In London a hotel night may cost up to GBP 220.",
        evidence_text=HOTELS,
        question=question,
        sections=sections,
    )
    assert not agreement.agrees(
        "In London a hotel night may cost up to EUR 130.",
        evidence_text=HOTELS,
        question=question,
        sections=sections,
    )


def test_a_number_from_the_heading_numbering_is_not_evidence() -> None:
    text = "In addition to the budget, you have 3 paid learning days per year for courses."
    sections = [("5. LEARNING AND DEVELOPMENT > Learning days", text)]
    question = "How many days off does an intern get?"
    assert not agreement.agrees(
        "5 days off to self-study", evidence_text=text, question=question, sections=sections
    )
    assert agreement.agrees(
        "You have 3 paid learning days per year.",
        evidence_text=text,
        question=question,
        sections=sections,
    )
