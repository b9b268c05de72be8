"""The dashboard's figures: what people asked and how it went, per day and per collection.

Aggregates only: counts, rates and medians, never a name or a question's text. Each figure
counts answers (one per question asked) in the collections the staff member manages
(knowledge.selectors.collections_managed_by): an answer belongs to a collection when that
collection was searched for it (Message.searched), so a manager of HR counts the questions
of the people who can read HR, and nothing asked only of Engineering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Aggregate, Count, FloatField, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from accounts.readers import Reader
from chatbot.models import Feedback, Message, Outcome
from knowledge.models import Collection
from knowledge.selectors import collections_managed_by

DASHBOARD_DAYS = 30


class Median(Aggregate):
    """PostgreSQL's median of a column (NULLs, such as cached answers' missing timings, left out)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def answers_in_scope(*, user: Reader, since: datetime | None = None) -> QuerySet[Message]:
    """The answers the staff member may count: those that searched a collection they manage.

    Someone who manages every collection sees every answer, even those that searched none
    (a person who may read nothing); everyone else only answers that touched theirs.
    """
    answers = Message.objects.filter(role=Message.Role.ASSISTANT)
    if since is not None:
        answers = answers.filter(created_at__gte=since)
    managed = set(collections_managed_by(user).values_list("pk", flat=True))
    if not managed:
        return answers.none()
    if managed == set(Collection.objects.values_list("pk", flat=True)):
        return answers
    return answers.filter(searched_in(managed))


def searched_in(collection_ids: set[int]) -> Q:
    """Answers whose searched collections include any of these (JSON containment, indexed)."""
    condition = Q(pk__in=[])
    for collection_id in sorted(collection_ids):
        condition |= Q(searched__contains=[collection_id])
    return condition


def _figures() -> dict[str, Aggregate]:
    return {
        "questions": Count("id"),
        "people": Count("conversation__user", distinct=True),
        "cached": Count("id", filter=Q(outcome=Outcome.CACHED)),
        "abstained": Count("id", filter=Q(outcome=Outcome.ABSTAINED)),
        "first_token_ms": Median(Cast(KT("timings__first_token"), FloatField())),
    }


@dataclass(frozen=True)
class Figures:
    """One row of the dashboard: a day, a collection or the whole period."""

    label: str
    questions: int
    people: int
    cached: int
    abstained: int
    first_token_ms: float | None
    up: int
    down: int

    @property
    def cache_hit_rate(self) -> float | None:
        return self.cached / self.questions if self.questions else None

    @property
    def abstained_rate(self) -> float | None:
        return self.abstained / self.questions if self.questions else None

    @property
    def up_share(self) -> float | None:
        """👍 among the rated answers (None when nobody rated)."""
        rated = self.up + self.down
        return self.up / rated if rated else None


def _ratings(answers: QuerySet[Message]) -> dict[str, int]:
    rows = Feedback.objects.filter(message__in=answers.values("pk")).values("rating")
    counts = {row["rating"]: row["n"] for row in rows.annotate(n=Count("id"))}
    return {"up": counts.get("up", 0), "down": counts.get("down", 0)}


def _row(label: str, figures: Mapping[str, Any], ratings: dict[str, int]) -> Figures:
    return Figures(
        label=label,
        questions=figures["questions"] or 0,
        people=figures["people"] or 0,
        cached=figures["cached"] or 0,
        abstained=figures["abstained"] or 0,
        first_token_ms=figures["first_token_ms"],
        up=ratings["up"],
        down=ratings["down"],
    )


@dataclass(frozen=True)
class Dashboard:
    days: list[Figures]  # oldest first, one per day, empty days included
    total: Figures
    collections: list[Figures]  # one per managed collection, by name


def dashboard(*, user: Reader, days: int = DASHBOARD_DAYS, today: date | None = None) -> Dashboard:
    """The last `days` days up to today (the site's time zone), for this staff member."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    answers = answers_in_scope(user=user, since=since)

    by_day = {
        row["day"]: row
        for row in answers.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**_figures())
    }
    rated_by_day: dict[date, dict[str, int]] = {}
    for row in (
        Feedback.objects.filter(message__in=answers.values("pk"))
        .annotate(day=TruncDate("message__created_at"))
        .values("day", "rating")
        .annotate(n=Count("id"))
    ):
        rated_by_day.setdefault(row["day"], {"up": 0, "down": 0})[row["rating"]] = row["n"]
    empty = {name: 0 for name in ("questions", "people", "cached", "abstained")}
    day_rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        day_rows.append(
            _row(
                day.isoformat(),
                by_day.get(day, {**empty, "first_token_ms": None}),
                rated_by_day.get(day, {"up": 0, "down": 0}),
            )
        )

    total = _row("All", answers.aggregate(**_figures()), _ratings(answers))
    collection_rows = []
    for collection in collections_managed_by(user).order_by("name"):
        theirs = answers.filter(searched__contains=[collection.pk])
        collection_rows.append(
            _row(collection.name, theirs.aggregate(**_figures()), _ratings(theirs))
        )
    return Dashboard(days=day_rows, total=total, collections=collection_rows)


# --- charts, drawn by the template as inline SVG ----------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    """Bars laid out in a `width` x `height` box (SVG user units), the tallest filling it."""

    title: str
    width: int
    height: int
    bars: list[Bar]
    maximum: int


def columns(
    *, title: str, values: list[tuple[str, int]], width: int = 600, height: int = 160
) -> BarChart:
    """Vertical bars, one per value, left to right (questions per day)."""
    maximum = max((value for _, value in values), default=0)
    slot = width / max(len(values), 1)
    bars = []
    for n, (label, value) in enumerate(values):
        tall = height * value / maximum if maximum else 0.0
        bars.append(
            Bar(
                label,
                value,
                x=round(n * slot + slot * 0.1, 2),
                y=round(height - tall, 2),
                width=round(slot * 0.8, 2),
                height=round(tall, 2),
            )
        )
    return BarChart(title=title, width=width, height=height, bars=bars, maximum=maximum)


def rows(*, title: str, values: list[tuple[str, int]], width: int = 400, row: int = 22) -> BarChart:
    """Horizontal bars, one per value, top to bottom (gap sizes)."""
    maximum = max((value for _, value in values), default=0)
    bars = []
    for n, (label, value) in enumerate(values):
        long = width * value / maximum if maximum else 0.0
        bars.append(Bar(label, value, x=0, y=n * row + 2, width=round(long, 2), height=row - 4))
    return BarChart(
        title=title, width=width, height=max(len(values), 1) * row, bars=bars, maximum=maximum
    )
