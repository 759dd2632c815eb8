"""Flows -> polls, and flow definitions -> questions of the selected polls.

Every flow gets a Poll row (admins select which ones are polls), voice flows
included. A flow that is archived or disappears makes its poll inactive; the poll
and its data stay. Questions are kept for selected polls only: a definition is
fetched when the flow changed in RapidPro (its `modified_on`) or reports other
results than the questions hold, so a flows sync that finds nothing changed makes
no request beyond the flows list and the workspace (whose time zone it keeps), and
admins' names, types and "shown" choices are never overwritten.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from temba_client.v2.types import Flow

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tracpro.orgs import tasks as org_tasks
from tracpro.orgs.models import SyncKind
from tracpro.polls.models import Poll, Question
from tracpro.rapidpro.definitions import QuestionSpec, questions_from_definition
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.syncers.base import Syncer
from tracpro.rapidpro.workspace import follow_workspace_timezone

logger = logging.getLogger(__name__)

DEFINITIONS_PER_REQUEST = 25  # flow uuids per definitions.json request (URL length)


class FlowsSyncer(Syncer):
    kind = SyncKind.FLOWS

    def sync(self) -> None:
        flows = self.fetch_flows()
        self.sync_polls(flows)
        polls = list(Poll.objects.for_org(self.org).filter(is_active=True))
        self.sync_questions(polls, {flow.uuid: flow for flow in flows})
        follow_workspace_timezone(self.org, self.fetcher.call(self.client.get_org))
        self.context.report(len(flows), len(flows), "Flows")
        if any(needs_backfill(poll) for poll in polls):
            transaction.on_commit(lambda: org_tasks.trigger(self.org, SyncKind.RUNS))

    def fetch_flows(self) -> list[Flow]:
        """Every flow, with the `modified_on` the client leaves out (kept as `modified`)."""
        modified: dict[str | None, datetime | None] = {}  # by uuid, as the item gives it

        def keep_modified(item: dict) -> dict:
            modified[item.get("uuid")] = parse_datetime(item.get("modified_on") or "")
            return item

        flows = self.fetch_all(self.client.get_flows, "flow", trim=keep_modified)
        for flow in flows:
            flow.modified_on = modified.get(flow.uuid)
        return flows

    # Polls ----------------------------------------------------------------------------

    def sync_polls(self, flows: list[Flow]) -> None:
        existing = {poll.flow_uuid: poll for poll in Poll.objects.for_org(self.org)}
        created = []
        for flow in flows:
            fields = poll_fields(flow)
            poll = existing.pop(flow.uuid, None)
            if poll is None:
                created.append(Poll(org=self.org, flow_uuid=flow.uuid, is_active=False, **fields))
            elif self.update(poll, fields):
                self.counts.updated += 1
            else:
                self.counts.skipped += 1
        for poll in existing.values():  # RapidPro no longer has these flows
            if self.update(poll, {"flow_state": Poll.FlowState.MISSING}):
                self.counts.updated += 1
        Poll.objects.bulk_create(created, ignore_conflicts=True)
        self.counts.created += len(created)

    @staticmethod
    def update(poll: Poll, fields: dict) -> bool:
        changes = {name: value for name, value in fields.items() if getattr(poll, name) != value}
        if (
            changes.get("flow_state", Poll.FlowState.ACTIVE) != Poll.FlowState.ACTIVE
            and poll.is_active
        ):
            changes["is_active"] = False  # an archived or deleted flow is no longer a poll
        if not changes:
            return False
        Poll.objects.filter(pk=poll.pk).update(**changes, modified_on=timezone.now())
        for name, value in changes.items():
            setattr(poll, name, value)
        return True

    # Questions ------------------------------------------------------------------------

    def sync_questions(
        self, polls: Iterable[Poll], flows: dict[str, Flow], force: bool = False
    ) -> None:
        """Fetch the definitions of the polls whose questions may have changed."""
        stale = [
            poll
            for poll in polls
            if poll.flow_uuid in flows and (force or flow_changed(poll, flows[poll.flow_uuid]))
        ]
        with_results = [poll for poll in stale if flows[poll.flow_uuid].results]
        for poll in stale:
            if not flows[poll.flow_uuid].results:
                self.count_questions(save_questions(poll, []))
                remember_modified(poll, flows[poll.flow_uuid])
        for start in range(0, len(with_results), DEFINITIONS_PER_REQUEST):
            chunk = with_results[start : start + DEFINITIONS_PER_REQUEST]
            export = self.fetcher.call(
                self.client.get_definitions,
                flows=[poll.flow_uuid for poll in chunk],
                dependencies="none",  # a boolean would be sent as 0, which RapidPro refuses
            )
            definitions = {d.get("uuid"): d for d in export.flows or [] if isinstance(d, dict)}
            for poll in chunk:
                definition = definitions.get(poll.flow_uuid)
                if definition is None:
                    logger.warning(
                        "org %s: no definition for flow %s", self.org.subdomain, poll.flow_uuid
                    )
                    continue
                flow = flows[poll.flow_uuid]
                specs = questions_from_definition(definition, node_keys(flow))
                self.count_questions(save_questions(poll, specs, reported_categories(flow)))
                remember_modified(poll, flow)

    def count_questions(self, written: tuple[int, int]) -> None:
        self.counts.created += written[0]
        self.counts.updated += written[1]

    def refresh_questions(self, polls: list[Poll]) -> None:
        """For the runs sync, when runs carry results no question knows yet."""
        flows = {flow.uuid: flow for flow in self.fetch_flows()}
        self.sync_questions(polls, flows, force=True)


def poll_fields(flow: Flow) -> dict:
    state = Poll.FlowState.ARCHIVED if flow.archived else Poll.FlowState.ACTIVE
    flow_type = flow.type if flow.type in Poll.FlowType.values else Poll.FlowType.MESSAGE
    return {
        "rapidpro_name": (flow.name or "")[:255],
        "flow_state": state,
        "flow_type": flow_type,
        "result_count": len(flow.results or []),
    }


def remember_modified(poll: Poll, flow: Flow) -> None:
    modified = getattr(flow, "modified_on", None)
    if modified is not None and poll.remote_modified_on != modified:
        Poll.objects.filter(pk=poll.pk).update(remote_modified_on=modified)
        poll.remote_modified_on = modified


def node_keys(flow: Flow) -> dict[str, str]:
    """Node uuid -> result key, as RapidPro reports them."""
    return {node: result.key for result in flow.results or [] for node in result.node_uuids or []}


def reported_categories(flow: Flow) -> dict[str, list[str]]:
    return {result.key: list(result.categories or []) for result in flow.results or []}


def flow_changed(poll: Poll, flow: Flow) -> bool:
    """Whether the flow changed in RapidPro since its questions were saved: its
    `modified_on` moved, or the flows API reports other results than they hold
    (keys, names, categories as reported, nodes)."""
    modified = getattr(flow, "modified_on", None)
    if modified is None or poll.remote_modified_on != modified:
        return True
    reported = {
        result.key: (result.name, list(result.categories or []), list(result.node_uuids or []))
        for result in flow.results or []
    }
    held = {
        question.result_key: (
            question.rapidpro_name,
            question.reported_categories,
            question.node_uuids,
        )
        for question in poll.questions.filter(is_present=True)
    }
    return reported != held


def needs_backfill(poll: Poll) -> bool:
    return (
        poll.flow_state == Poll.FlowState.ACTIVE
        and not SyncStream.objects.filter(
            org_id=poll.org_id,
            kind=SyncKind.RUNS,
            name=backfill_name(poll),
            finished_on__isnull=False,
        ).exists()
    )


def backfill_name(poll: Poll) -> str:
    return f"flow:{poll.flow_uuid}"


def save_questions(
    poll: Poll, specs: list[QuestionSpec], reported: dict[str, list[str]] | None = None
) -> tuple[int, int]:
    """Create and update the poll's questions; keys the flow dropped stay, marked absent.
    `reported` is the flows API's categories per key. Returns (created, updated)."""
    existing = {question.result_key: question for question in poll.questions.all()}
    created, updated = [], []
    for spec in specs:
        question = existing.pop(spec.key, None)
        categories = (reported or {}).get(spec.key, [])
        if question is None:
            created.append(new_question(poll, spec, categories))
        elif apply_spec(question, spec, categories):
            updated.append(question)
    for question in existing.values():
        if question.is_present:
            question.is_present = False
            updated.append(question)
    fields = [
        "rapidpro_name",
        "rapidpro_type",
        "question_type",
        "categories",
        "rules",
        "node_uuids",
        "timeout_categories",
        "reported_categories",
        "order",
        "is_present",
    ]
    Question.objects.bulk_update(updated, fields)
    # A runs sync may be creating the same questions at this moment.
    Question.objects.bulk_create(created, ignore_conflicts=True)
    return len(created), len(updated)


def new_question(poll: Poll, spec: QuestionSpec, reported: list[str]) -> Question:
    return Question(
        poll=poll,
        result_key=spec.key,
        rapidpro_name=spec.name[:255],
        question_type=spec.question_type,
        rapidpro_type=spec.question_type,
        categories=spec.categories,
        rules=spec.rules,
        node_uuids=spec.node_uuids,
        timeout_categories=spec.timeout_categories,
        reported_categories=reported,
        order=spec.order,
        is_active=True,
        is_present=True,
    )


def apply_spec(question: Question, spec: QuestionSpec, reported: list[str]) -> bool:
    """Bring RapidPro's side of a question up to date; True if anything changed.
    The type follows the flow until an admin picks another one."""
    admin_chose_type = question.rapidpro_type and question.question_type != question.rapidpro_type
    wanted = {
        "rapidpro_name": spec.name[:255],
        "rapidpro_type": spec.question_type,
        "categories": spec.categories,
        "rules": spec.rules,
        "node_uuids": spec.node_uuids,
        "timeout_categories": spec.timeout_categories,
        "reported_categories": reported,
        "order": spec.order,
        "is_present": True,
    }
    if not admin_chose_type:
        wanted["question_type"] = spec.question_type
    changed = False
    for name, value in wanted.items():
        if getattr(question, name) != value:
            setattr(question, name, value)
            changed = True
    return changed
