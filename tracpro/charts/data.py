"""Where chart numbers come from: the rollups (split by reporter group when the
filters name one), or the raw answers when a filter needs what the rollups do not
know (contact fields).

Both paths return the same rows, aggregated in Postgres, so every chart
builder works the same on either. Rows are per (question, poll date, region,
category) and per (poll date, region, status): their number depends on how
many dates, regions and categories there are, never on how many answers.

`first_answers` (an indicator's baseline) counts each contact's first answer
only: from the rollups when the dates are one (a contact answers a date at
most once), else with one DISTINCT ON query over the raw answers.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, FloatField, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform

from tracpro.charts.filters import Filters
from tracpro.contacts.models import Contact
from tracpro.orgs.models import Org
from tracpro.polls.models import (
    Answer,
    AnswerGroupRollup,
    AnswerRollup,
    Response,
    ResponseGroupRollup,
    ResponseRollup,
)


@dataclass(frozen=True)
class AnswerRow:
    question_id: int
    pollrun_id: int
    region_id: int | None
    category: str
    count: int
    number_count: int
    number_sum: float
    number_sum_sq: float


@dataclass(frozen=True)
class ResponseRow:
    pollrun_id: int
    region_id: int | None
    status: str
    count: int


def answer_rows(
    org: Org, filters: Filters, question_ids: Sequence[int], pollrun_ids: Sequence[int]
) -> list[AnswerRow]:
    if not question_ids or not pollrun_ids:
        return []
    if filters.needs_raw_answers:
        rows = (
            filtered_answers(org, filters, question_ids, pollrun_ids)
            .values("question_id", "category")
            .annotate(
                pollrun=F("response__pollrun_id"),
                region=F("response__contact__region_id"),
                n=Count("pk"),
                number_count=Count("value_to_use"),
                number_sum=Sum("value_to_use"),
                number_sum_sq=Sum(F("value_to_use") * F("value_to_use"), output_field=FloatField()),
            )
        )
    else:
        rollup = AnswerRollup if filters.group is None else AnswerGroupRollup
        rows = rollup_rows(
            rollup.objects.filter(question_id__in=question_ids, pollrun_id__in=pollrun_ids),
            filters,
        )
        rows = rows.values("question_id", "category").annotate(
            pollrun=F("pollrun_id"),
            region=F("region_id"),
            n=Sum("count"),
            number_count=Sum("number_count"),
            number_sum=Sum("number_sum"),
            number_sum_sq=Sum("number_sum_sq"),
        )
    return [
        AnswerRow(
            row["question_id"],
            row["pollrun"],
            row["region"],
            row["category"],
            row["n"],
            row["number_count"] or 0,
            row["number_sum"] or 0.0,
            row["number_sum_sq"] or 0.0,
        )
        for row in rows.order_by()
    ]


def response_rows(org: Org, filters: Filters, pollrun_ids: Sequence[int]) -> list[ResponseRow]:
    if not pollrun_ids:
        return []
    if filters.needs_raw_answers:
        rows = (
            filtered_responses(org, filters, pollrun_ids)
            .values("pollrun_id", "status")
            .annotate(region=F("contact__region_id"), n=Count("pk"))
        )
    else:
        rollup = ResponseRollup if filters.group is None else ResponseGroupRollup
        rows = rollup_rows(rollup.objects.filter(pollrun_id__in=pollrun_ids), filters)
        rows = rows.values("pollrun_id", "status").annotate(region=F("region_id"), n=Sum("count"))
    return [
        ResponseRow(row["pollrun_id"], row["region"], row["status"], row["n"])
        for row in rows.order_by()
    ]


def group_response_rows(
    org: Org, filters: Filters, pollrun_ids: Sequence[int]
) -> list[tuple[int | None, str, int]]:
    """(reporter group, status, responses) of the poll dates: a contact in two groups
    counts in both; group None: in no group. Groups no longer followed included."""
    if not pollrun_ids:
        return []
    if filters.needs_raw_answers:
        rows = (
            filtered_responses(org, filters, pollrun_ids)
            .values("contact__reporter_groups", "status")
            .annotate(n=Count("pk"))
            .values_list("contact__reporter_groups", "status", "n")
        )
    else:
        rows = (
            rollup_rows(ResponseGroupRollup.objects.filter(pollrun_id__in=pollrun_ids), filters)
            .values("group_id", "status")
            .annotate(n=Sum("count"))
            .values_list("group_id", "status", "n")
        )
    return list(rows.order_by())


def rollup_rows(rows: QuerySet, filters: Filters) -> QuerySet:
    """Rollup rows limited to the filters' regions and reporter group (a group
    rollup's rows when the filters name one)."""
    if filters.region_ids is not None:
        rows = rows.filter(region_id__in=filters.region_ids)
    if filters.group is not None:
        rows = rows.filter(group=filters.group)
    return rows


@dataclass(frozen=True)
class FirstAnswerRow:
    """Per region: contacts asked (a response of any status), contacts who answered,
    and count / sum of the numbers of each one's first answer."""

    region_id: int | None
    asked: int
    answered: int
    number_count: int
    number_sum: float


FIRST_ANSWERS_BY_REGION = """
    SELECT region, count(*), count(first_number), coalesce(sum(first_number), 0)
    FROM ({firsts}) firsts GROUP BY region
"""


def first_answers(
    org: Org, filters: Filters, question_id: int, pollrun_ids: Sequence[int]
) -> list[FirstAnswerRow]:
    """Each contact's first answer to the question across the poll dates (by date,
    then time), summed per region; two aggregate queries whatever the data size."""
    if not pollrun_ids:
        return []
    asked: dict[int | None, int] = defaultdict(int)
    answered: dict[int | None, tuple[int, int, float]] = {}
    if len(pollrun_ids) == 1 and not filters.needs_raw_answers:
        for row in response_rows(org, filters, pollrun_ids):
            asked[row.region_id] += row.count
        for row in answer_rows(org, filters, [question_id], pollrun_ids):
            count, number_count, number_sum = answered.get(row.region_id, (0, 0, 0.0))
            answered[row.region_id] = (
                count + row.count,
                number_count + row.number_count,
                number_sum + row.number_sum,
            )
    else:
        responders = (
            filtered_responses(org, filters, pollrun_ids)
            .values("contact__region_id")
            .annotate(n=Count("contact_id", distinct=True))
            .order_by()
        )
        for row in responders:
            asked[row["contact__region_id"]] = row["n"]
        answered = _first_answers_by_region(org, filters, question_id, pollrun_ids)
    return [
        FirstAnswerRow(region_id, asked.get(region_id, 0), *answered.get(region_id, (0, 0, 0.0)))
        for region_id in sorted(set(asked) | set(answered), key=lambda pk: (pk is None, pk))
    ]


def _first_answers_by_region(org, filters, question_id, pollrun_ids) -> dict:
    firsts = (
        filtered_answers(org, filters, [question_id], pollrun_ids)
        .annotate(region=F("response__contact__region_id"), first_number=F("value_to_use"))
        .order_by("response__contact_id", "response__pollrun__conducted_on", "submitted_on", "pk")
        .distinct("response__contact_id")
        .values("region", "first_number")
    )
    sql = compiled(firsts)
    if sql is None:
        return {}
    statement = FIRST_ANSWERS_BY_REGION.format(firsts=sql[0])
    with connection.cursor() as cursor:
        cursor.execute(statement, sql[1])
        return {region: (count, numbers, total) for region, count, numbers, total in cursor}


def contact_filter(filters: Filters, prefix: str = "") -> dict:
    """Filter kwargs limiting a query to active contacts in the filters' regions and group."""
    kwargs = {f"{prefix}is_active": True}
    if filters.region_ids is not None:
        kwargs[f"{prefix}region_id__in"] = filters.region_ids
    if filters.group is not None:
        kwargs[f"{prefix}reporter_groups"] = filters.group
    return kwargs


def with_contact_fields(queryset: QuerySet, filters: Filters, prefix: str = "") -> QuerySet:
    """Keep rows whose contact's fields contain the filters' texts (case-insensitive)."""
    for index, (key, text) in enumerate(sorted(filters.contact_fields.items())):
        alias = f"contact_field_{index}"
        queryset = queryset.alias(**{alias: KeyTextTransform(key, f"{prefix}fields")}).filter(
            **{f"{alias}__icontains": text}
        )
    return queryset


def filtered_responses(org: Org, filters: Filters, pollrun_ids: Iterable[int]) -> QuerySet:
    """Active responses of the poll dates, limited to the filters' contacts."""
    responses = Response.objects.for_org(org).filter(
        pollrun_id__in=pollrun_ids, is_active=True, **contact_filter(filters, "contact__")
    )
    return with_contact_fields(responses, filters, "contact__")


def filtered_answers(
    org: Org, filters: Filters, question_ids: Iterable[int], pollrun_ids: Iterable[int]
) -> QuerySet:
    """Answers of active responses of the poll dates, limited to the filters' contacts."""
    answers = Answer.objects.filter(
        question_id__in=question_ids,
        response__org=org,
        response__pollrun_id__in=pollrun_ids,
        response__is_active=True,
        **contact_filter(filters, "response__contact__"),
    )
    return with_contact_fields(answers, filters, "response__contact__")


def filtered_contacts(queryset: QuerySet[Contact], filters: Filters) -> QuerySet[Contact]:
    return with_contact_fields(queryset.filter(**contact_filter(filters)), filters)


def compiled(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The SQL of a queryset, to wrap in a larger statement; None when it can match nothing."""
    try:
        return queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return None
