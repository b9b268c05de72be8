"""Retrieval quality on the sample corpus: floors, the baseline comparison, and permissions.

The sample corpus is ingested once for the module (embedding on two cores is
the slow part) into committed rows, and removed afterwards; each test still
runs in its own rolled-back transaction on top of it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.readers import OPERATOR
from evaluation.metrics import (
    Evaluation,
    QAItem,
    QuestionResult,
    RankedDocument,
    SystemRun,
    documents_in_order,
    qa_load,
)
from evaluation.run import evaluation_run
from knowledge.demo import SAMPLE_COLLECTIONS, SAMPLE_DIR, sample_corpus_install
from knowledge.embeddings import embed_query
from knowledge.models import Collection, Document
from knowledge.pipeline import document_ingest
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope
from knowledge.spelling import query_correct

# Every test in one group: pytest-django runs database tests before the others, and the
# module's corpus should be set up (and torn down) once, not once per group.
pytestmark = pytest.mark.django_db

QA = SAMPLE_DIR / "qa.jsonl"

# Measured on this corpus at 4c83476 (Docent hit@1 0.911, MRR@10 0.956; the baseline 0.867,
# 0.919); the floors sit a little under, and under the tunings docs/quality.md proposes.
HIT_AT_1_FLOOR = 0.84
MRR_AT_10_FLOOR = 0.90


@pytest.fixture(scope="module")
def corpus_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("quality-media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, corpus_media: Path) -> None:
    # Replaces the suite's per-test media folder: the baseline re-reads the module corpus's files.
    settings.MEDIA_ROOT = corpus_media


@pytest.fixture(scope="module")
def sample_corpus(django_db_setup, django_db_blocker, corpus_media: Path) -> Iterator[None]:
    with django_db_blocker.unblock():
        groups_before = set(Group.objects.values_list("pk", flat=True))
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=corpus_media):
            for result in sample_corpus_install(enqueue=False):
                document_ingest(document_id=result.document.pk, version=result.document.version)
        yield
    finally:
        # Committed rows outlive the tests' transactions: leave the database as we found it.
        with django_db_blocker.unblock():
            Collection.objects.filter(slug__in=SAMPLE_COLLECTIONS).delete()
            Group.objects.exclude(pk__in=groups_before).delete()


@pytest.fixture(scope="module")
def as_operator(sample_corpus, django_db_blocker, corpus_media: Path) -> Evaluation:
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=corpus_media):
        return evaluation_run(items=qa_load(QA), scope=reader_scope(OPERATOR), qa=str(QA))


# --- the figures -------------------------------------------------------------------------------


def test_the_sample_corpus_is_fully_ingested(sample_corpus) -> None:
    documents = Document.objects.filter(collection__slug__in=SAMPLE_COLLECTIONS)
    assert set(documents.values_list("status", flat=True)) == {"ready"}
    assert documents.count() == 15


def test_docent_finds_the_expected_document_first_often_enough(as_operator: Evaluation) -> None:
    docent = as_operator.runs[0]
    assert docent.name == "docent"
    assert len(docent.results) == 45
    assert docent.metrics["hit@1"] >= HIT_AT_1_FLOOR, docent.metrics
    assert docent.metrics["mrr@10"] >= MRR_AT_10_FLOOR, docent.metrics


def test_the_baseline_sees_the_same_documents(as_operator: Evaluation) -> None:
    baseline = next(run for run in as_operator.runs if run.name == "baseline")
    assert baseline.notes["documents"] == 15
    assert baseline.notes["skipped"] == []


def test_docent_ranks_at_least_as_well_as_the_plain_baseline(as_operator: Evaluation) -> None:
    # docs/quality.md has the figures of the other sets, where the margin differs.
    difference = as_operator.difference()
    assert difference is not None
    assert difference["mrr@10"] >= 0, difference


# --- the passage, not only the document ---------------------------------------------------------


def _search(question: str, k: int = 5):
    return chunk_search(scope=reader_scope(OPERATOR), query=question, vector=embed_query(question), k=k)


def test_a_question_about_canada_lands_on_the_canada_section(sample_corpus) -> None:
    hits = _search("Daily meal allowance in Canada?")

    assert hits[0].path == "travel-and-expenses.md"
    assert hits[0].heading.endswith("Canada"), hits[0].heading
    assert "CAD 85" in hits[0].text


def test_a_question_full_of_typos_still_finds_the_home_office_allowance(sample_corpus) -> None:
    question = "how mutch mony do i get to set up my hom ofice"

    assert query_correct(scope=reader_scope(OPERATOR), query=question).text == (
        "how much money do i get to set up my home office"
    )
    hits = _search(question, k=3)
    assert hits[0].path == "remote-work.md"
    assert any("EUR 600" in hit.text for hit in hits)


# --- permissions -------------------------------------------------------------------------------


def test_a_reader_without_groups_never_gets_hr_or_engineering_documents(
    sample_corpus, dave
) -> None:
    evaluation = evaluation_run(
        items=qa_load(QA), scope=reader_scope(dave), qa=str(QA), reader="dave"
    )

    handbook = set(
        Document.objects.filter(collection__slug="handbook").values_list("pk", flat=True)
    )
    for run in evaluation.runs:
        seen = {document.id for result in run.results for document in result.documents}
        assert seen, run.name
        assert seen <= handbook, f"{run.name} showed dave documents outside the handbook"
        # The questions about HR and engineering documents still count, as misses.
        assert len(run.results) == 45
        restricted = [r for r in run.results if not set(r.item.expected) & _handbook_names()]
        assert len(restricted) == 14
        assert all(r.rank is None for r in restricted)


def _handbook_names() -> set[str]:
    return {p.name for p in (SAMPLE_DIR / "handbook").iterdir()}


# --- the command's output contract -------------------------------------------------------------


def _write_qa(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        '{"question": "How much per diem for a business trip to Paris?", "expected": ["travel-and-expenses.md"]}\n'
        "\n"
        '{"question": "What is max_connections on the primary database?", "expected": ["DATABASE-OPERATIONS.MD"]}\n'
    )
    return path


def test_evaluate_json_reports_both_systems_and_every_question(sample_corpus, tmp_path) -> None:
    out = io.StringIO()
    call_command("evaluate", str(_write_qa(tmp_path)), "--json", "-k", "5", stdout=out)

    report = json.loads(out.getvalue())
    assert set(report) == {"qa", "reader", "k", "questions", "systems", "difference", "results"}
    assert report["reader"] == "operator" and report["k"] == 5 and report["questions"] == 2
    assert set(report["systems"]) == {"docent", "baseline"}
    for figures in report["systems"].values():
        assert {"hit@1", "hit@5", "mrr@10"} <= set(figures)
        assert all(0 <= figures[m] <= 1 for m in ("hit@1", "hit@5", "mrr@10"))
    assert set(report["difference"]) == {"hit@1", "hit@5", "mrr@10"}
    first = report["results"][0]
    assert first["question"] == "How much per diem for a business trip to Paris?"
    assert first["expected"] == ["travel-and-expenses.md"]
    for system in ("docent", "baseline"):
        assert set(first[system]) == {"rank", "first", "documents"}
        assert len(first[system]["documents"]) <= 5
    # Expected names match case-insensitively.
    assert report["results"][1]["docent"]["rank"] == 1


def test_evaluate_without_baseline_reports_docent_alone(sample_corpus, tmp_path) -> None:
    out = io.StringIO()
    call_command("evaluate", str(_write_qa(tmp_path)), "--json", "--no-baseline", stdout=out)

    report = json.loads(out.getvalue())
    assert set(report["systems"]) == {"docent"}
    assert report["difference"] is None


def test_evaluate_prints_a_table_and_the_misses(sample_corpus, tmp_path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "How much PTO do I get?", "expected": ["no-such-file.md"]}\n')
    out = io.StringIO()
    call_command("evaluate", str(path), "--no-baseline", stdout=out)

    text = out.getvalue()
    assert "hit@1" in text and "MRR@10" in text
    assert "docent misses (1):" in text
    assert "expected no-such-file.md; not in top 10" in text


def test_evaluate_refuses_an_unknown_user_and_a_broken_line(sample_corpus, tmp_path) -> None:
    with pytest.raises(CommandError, match="No user named"):
        call_command("evaluate", str(_write_qa(tmp_path)), "--user", "nobody")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "no expected field"}\n')
    with pytest.raises(CommandError, match=r"broken\.jsonl:1"):
        call_command("evaluate", str(broken))


# --- the metrics themselves (no database) ------------------------------------------------------


def _doc(pk: int, path: str, title: str = "") -> RankedDocument:
    return RankedDocument(id=pk, path=path, title=title or path)


def test_documents_count_once_at_the_rank_of_their_best_chunk() -> None:
    hits = [_doc(1, "a.md"), _doc(1, "a.md"), _doc(2, "b.md"), _doc(1, "a.md"), _doc(3, "c.md")]
    assert [d.path for d in documents_in_order(hits)] == ["a.md", "b.md", "c.md"]


def test_hit_rates_and_reciprocal_rank_follow_the_first_expected_document() -> None:
    ranked = (_doc(1, "a.md"), _doc(2, "b.md", "Travel policy"), _doc(3, "c.md"))
    run = SystemRun(
        name="x",
        results=[
            QuestionResult(QAItem("q1", ("a.md",)), ranked),  # rank 1
            QuestionResult(QAItem("q2", ("travel POLICY",)), ranked),  # by title: rank 2
            QuestionResult(QAItem("q3", ("zzz.md",)), ranked),  # missing
            QuestionResult(QAItem("q4", ("a.md",)), ()),  # nothing found (not readable)
        ],
    )
    assert [r.rank for r in run.results] == [1, 2, None, None]
    assert run.metrics == {"hit@1": 0.25, "hit@5": 0.5, "mrr@10": pytest.approx((1 + 0.5) / 4)}
    assert [r.item.question for r in run.misses] == ["q2", "q3", "q4"]
