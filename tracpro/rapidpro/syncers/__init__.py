"""One syncer per remote kind; `run_sync(org, kind, state)` runs one of them."""

from collections.abc import Callable

from tracpro.orgs.models import Org, SyncKind, SyncState
from tracpro.rapidpro import client as rapidpro_client
from tracpro.rapidpro.paging import Fetcher
from tracpro.rapidpro.syncers.base import SyncContext, Syncer, SyncResult
from tracpro.rapidpro.syncers.boundaries import BoundariesSyncer
from tracpro.rapidpro.syncers.contacts import ContactsSyncer
from tracpro.rapidpro.syncers.flows import FlowsSyncer
from tracpro.rapidpro.syncers.groups import FieldsSyncer, GroupsSyncer
from tracpro.rapidpro.syncers.inbox import InboxSyncer
from tracpro.rapidpro.syncers.reconcile import ReconcileSyncer
from tracpro.rapidpro.syncers.runs import RunsSyncer

SYNCERS: dict[str, type[Syncer]] = {
    SyncKind.FIELDS: FieldsSyncer,
    SyncKind.GROUPS: GroupsSyncer,
    SyncKind.BOUNDARIES: BoundariesSyncer,
    SyncKind.FLOWS: FlowsSyncer,
    SyncKind.CONTACTS: ContactsSyncer,
    SyncKind.RUNS: RunsSyncer,
    SyncKind.INBOX: InboxSyncer,
    SyncKind.RECONCILE: ReconcileSyncer,
}
# Groups before contacts (regions), flows before runs (questions).
ORDER = list(SYNCERS)


def run_sync(
    org: Org,
    kind: str,
    state: SyncState,
    *,
    deadline: float | None = None,
    on_progress: Callable[[int, int | None, str], None] | None = None,
) -> SyncResult:
    """Run one kind's sync for an org now, in this process."""
    fetcher = Fetcher()
    context = SyncContext(org, state, rapidpro_client.get_client(org), fetcher, deadline)
    context.on_progress = on_progress
    fetcher.on_retry = context.notice_retry
    SYNCERS[kind](context).sync()
    context.result.requests, context.result.retries = fetcher.requests, fetcher.retries
    return context.result
