"""An optional read replica for the dashboards (DATABASE_REPLICA_URL).

When the settings have a `replica` database (a Postgres streaming replica of the
primary), `ReplicaRouter` sends it the reads of mirror data, the big tables the
sync fills from RapidPro and the dashboards read, and only those, only inside a
web request that reads (GET or HEAD), and only until the request writes
something. Everything else goes to the primary: every write, the reads of users,
orgs, memberships, sessions, regions, polls and other configuration, every read
of a request that wrote, of a POST, of a Celery task or a management command.

A request that wrote also sets a short-lived cookie (REPLICA_STICKY_SECONDS) that
keeps its user's next requests on the primary, so the page a form redirects to
shows the change even if the replica is a moment behind.

`tracpro.middleware.ReplicaMiddleware` marks the requests (`request_reads`); it
must come first in MIDDLEWARE so that the writes of the other middleware (the
session) count too.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Model

PRIMARY = "default"
REPLICA = "replica"
STICKY_COOKIE = "tracpro_primary"
READ_METHODS = frozenset({"GET", "HEAD"})

# Model labels of the mirror data the replica serves. Not here, so on the primary:
# what TracPro writes itself (messages and their batches, the inbox's replies and
# archiving, indicators) and the sync's own progress (sync states, streams, run
# archives).
MIRROR_DATA = frozenset(
    {
        "contacts.contact",
        "groups.boundary",
        "polls.pollrun",
        "polls.response",
        "polls.answer",
        "polls.answerrollup",
        "polls.responserollup",
        "polls.answergrouprollup",
        "polls.responsegrouprollup",
        "polls.numberrollup",
        "polls.wordrollup",
    }
)


@dataclass
class Reads:
    """What the current request may read from the replica."""

    allowed: bool
    wrote: bool = False


_reads: contextvars.ContextVar[Reads | None] = contextvars.ContextVar(
    "tracpro_replica_reads", default=None
)


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints) -> str:
        reads = _reads.get()
        if (
            reads is not None
            and reads.allowed
            and not reads.wrote
            and model._meta.label_lower in MIRROR_DATA
        ):
            return REPLICA
        # Explicitly the primary: left to Django, a related object of an instance
        # read from the replica would be read there too.
        return PRIMARY

    def db_for_write(self, model: type[Model], **hints) -> str:
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool:
        return True  # one database and its copy

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == PRIMARY  # the replica copies the primary's schema


@contextmanager
def request_reads(allowed: bool) -> Iterator[Reads]:
    """Mark the reads inside as those of one request (allowed on the replica or not)."""
    reads = Reads(allowed)
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)
