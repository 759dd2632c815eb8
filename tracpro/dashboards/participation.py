"""Participation figures: who was asked, who answered, who finished.

Per group of contacts (a region, a reporter group): no response (asked, did
not answer), partial, complete, and completion = int(100 x complete / all).
"""

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from django.contrib.postgres.fields import ArrayField
from django.db.models import CharField, QuerySet
from django.db.models.expressions import RawSQL

from tracpro.contacts.models import Contact
from tracpro.dashboards.exports import STATUS_LABELS
from tracpro.polls.models import PollRun, ResponseStatus


def completion(counts: Counter) -> int | None:
    total = sum(counts.values())
    return int(100 * counts[ResponseStatus.COMPLETE] / total) if total else None


def status_rows(counts: Mapping[object, Counter], labels: Mapping[object, str]) -> list[dict]:
    """One row per group that has at least one response, sorted by label."""
    rows = [
        {
            "key": key,
            "label": str(labels[key]),
            "empty": counter[ResponseStatus.EMPTY],
            "partial": counter[ResponseStatus.PARTIAL],
            "complete": counter[ResponseStatus.COMPLETE],
            "total": sum(counter.values()),
            "completion": completion(counter),
        }
        for key, counter in counts.items()
        if sum(counter.values())
    ]
    return sorted(rows, key=lambda row: row["label"].lower())


def contact_statuses(contacts: QuerySet[Contact], pollruns: Sequence[PollRun]) -> Iterator[tuple]:
    """(name, URN, region, status of each poll date...) per contact, streamed."""
    labels = {status: str(label) for status, label in STATUS_LABELS.items()}
    statuses = RawSQL(
        """ARRAY(
            SELECT coalesce(r.status, '')
            FROM unnest(%s::bigint[]) WITH ORDINALITY AS p(id, position)
            LEFT JOIN polls_response r
                ON r.pollrun_id = p.id AND r.contact_id = "contacts_contact"."id" AND r.is_active
            ORDER BY p.position
        )""",
        ([pollrun.pk for pollrun in pollruns],),
        output_field=ArrayField(CharField()),
    )
    rows = contacts.annotate(statuses=statuses).values_list(
        "name", "urn", "region__name", "statuses"
    )
    for name, urn, region, found in rows.iterator(chunk_size=2000):
        yield (name, urn, region, *(labels.get(status, "") for status in found))
