"""Acting on polls and contacts: Start…, Send message…, Restart…, the message log
and the inbox with its conversations.

Every view starts from the region scope (`ScopedMixin` / `get_scope`) and looks
objects up through querysets that take it, so nobody reaches a poll date, message
or contact outside their regions (404). Writes go through tracpro.rapidpro.actions,
which records them and queues the task that sends them; pages then show their
status (pending, waiting, sent, partly sent, failed), polling while it may change.
"""

from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from tracpro.accounts.models import User
from tracpro.contacts.models import Contact
from tracpro.exports.files import CSV, export_filename, export_format, table_response
from tracpro.groups.models import Region
from tracpro.groups.scope import RegionScope
from tracpro.groups.views import ScopedMixin, get_scope
from tracpro.messaging.forms import KeyedForm, ReplyForm, SendForm, StartForm, contacts_count
from tracpro.msgs.models import InboxMessage, Message
from tracpro.polls.models import Poll, PollRun
from tracpro.polls.participants import contact_responses
from tracpro.rapidpro import actions
from tracpro.rapidpro.actions import ActionRefused

PAGE_SIZE = 50
RECIPIENTS_SHOWN = 200


# Start…, Send message…, Restart… ----------------------------------------------------------


class StartView(ScopedMixin, TemplateView):
    """Start a poll for a region: whom it will reach, then confirm."""

    template_name = "messaging/start.html"

    @cached_property
    def poll(self) -> Poll:
        return get_object_or_404(Poll.objects.selected(self.scope.org), pk=self.kwargs["poll"])

    def get(self, request, *args, **kwargs) -> HttpResponse:
        form = StartForm(request.GET if "region" in request.GET else None, scope=self.scope)
        if request.htmx:
            return render(request, "messaging/_start_count.html", {"form": form})
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs) -> HttpResponse:
        form = StartForm(request.POST, scope=self.scope)
        choice = form.choice()  # None when the form is invalid
        if choice is not None:
            region, include_subregions = choice
            try:
                message = actions.start_poll(
                    self.scope,
                    request.user,
                    self.poll,
                    region,
                    include_subregions,
                    form.cleaned_data["key"],
                )
            except ActionRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(
                    request,
                    _("Starting %(poll)s: this poll date fills with answers as contacts reply.")
                    % {"poll": self.poll},
                )
                return redirect("polls.pollrun_read", pk=message.pollrun_id)
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        title = _("Start %(poll)s") % {"poll": self.poll}
        return super().get_context_data(title=title, poll=self.poll, **kwargs)


class PollRunActionMixin(ScopedMixin):
    """A poll date the user may see and that came from RapidPro (404 otherwise:
    a spoofed date's contacts never hear from TracPro)."""

    model = PollRun

    @cached_property
    def pollrun(self) -> PollRun:
        pollruns = PollRun.objects.visible_to(self.scope).real().select_related("poll", "region")
        return get_object_or_404(pollruns, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        pollrun = self.pollrun
        return super().get_context_data(pollrun=pollrun, poll=pollrun.poll, **kwargs)

    def sent(self, message: Message, text: str) -> HttpResponse:
        messages.success(self.request, text)
        return redirect("msgs:read", pk=message.pk)


class SendView(PollRunActionMixin, TemplateView):
    """Send a message to a poll date's respondents, non-respondents, incomplete or all."""

    template_name = "messaging/send.html"

    def get(self, request, *args, **kwargs) -> HttpResponse:
        form = SendForm(scope=self.scope, pollrun=self.pollrun)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs) -> HttpResponse:
        form = SendForm(request.POST, scope=self.scope, pollrun=self.pollrun)
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = actions.send_to_poll_date(
                    self.scope,
                    request.user,
                    self.pollrun,
                    data["audience"],
                    data["text"],
                    data["key"],
                )
            except ActionRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                return self.sent(message, _("TracPro is sending the message."))
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Send a message"), **kwargs)


class RestartView(PollRunActionMixin, TemplateView):
    """Start the poll again for the contacts of the date who did not complete it."""

    template_name = "messaging/restart.html"

    def post(self, request, *args, **kwargs) -> HttpResponse:
        form = KeyedForm(request.POST)
        key = form.cleaned_data["key"] if form.is_valid() else None
        try:
            message = actions.restart_poll_date(self.scope, request.user, self.pollrun, key)
        except ActionRefused as refusal:
            return self.render_to_response(self.get_context_data(error=str(refusal)))
        return self.sent(message, _("TracPro is restarting the poll for them."))

    def get_context_data(self, **kwargs):
        audience = actions.Audience.NOT_COMPLETE
        count = actions.poll_date_audience(self.scope, self.pollrun, audience).count()
        return super().get_context_data(
            title=_("Restart the poll"),
            count=count,
            count_text=contacts_count(count),
            form=KeyedForm(),
            **kwargs,
        )


# The message log ----------------------------------------------------------------------------


class MessageFilters:
    """The log's filters (poll date, sender, status), read from the query string."""

    def __init__(self, scope: RegionScope, params: QueryDict):
        self.scope = scope
        self.visible = Message.objects.visible_to(scope)
        self.pollrun = self._pick(params.get("pollrun"), self.pollrun_choices)
        self.sender = self._pick(params.get("sender"), self.sender_choices)
        status = params.get("status", "")
        self.status = status if status in Message.Status.values else ""

    @staticmethod
    def _pick(value: str | None, choices: list):
        return next((choice for choice in choices if str(choice.pk) == value), None)

    @cached_property
    def pollrun_choices(self) -> list[PollRun]:
        pollruns = PollRun.objects.filter(messages__in=self.visible).distinct()
        return list(pollruns.select_related("poll").order_by("-conducted_on")[:200])

    @cached_property
    def sender_choices(self) -> list[User]:
        return list(User.objects.filter(pk__in=self.visible.values("created_by")).order_by("email"))

    @property
    def status_choices(self) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Message.Status.choices]

    def apply(self, queryset: QuerySet[Message]) -> QuerySet[Message]:
        if self.pollrun is not None:
            queryset = queryset.filter(pollrun=self.pollrun)
        if self.sender is not None:
            queryset = queryset.filter(created_by=self.sender)
        if self.status:
            queryset = queryset.filter(status=self.status)
        return queryset

    @property
    def active(self) -> bool:
        return bool(self.pollrun or self.sender or self.status)


def logged_messages(scope: RegionScope, filters: MessageFilters) -> QuerySet[Message]:
    messages_ = filters.apply(Message.objects.visible_to(scope))
    return messages_.select_related("created_by", "pollrun__poll", "region", "contact").order_by(
        "-created_on", "-pk"
    )


class MessageListView(ScopedMixin, ListView):
    template_name = "messaging/message_list.html"
    paginate_by = PAGE_SIZE
    context_object_name = "log"

    @cached_property
    def filters(self) -> MessageFilters:
        return MessageFilters(self.scope, self.request.GET)

    def get_queryset(self):
        return logged_messages(self.scope, self.filters)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Message log"), filters=self.filters, **kwargs)


def export_messages(request: HttpRequest) -> HttpResponseBase:
    """The log as CSV or Excel, with the same filters and region scope."""
    scope = get_scope(request)
    log = logged_messages(scope, MessageFilters(scope, request.GET))
    header = [
        _("Sent on"),
        _("Sent by"),
        _("Kind"),
        _("Text"),
        _("Audience"),
        _("Region"),
        _("Poll"),
        _("Poll date"),
        _("Recipients"),
        _("Status"),
        _("Sent to"),
        _("Not sent to"),
        _("Error"),
    ]
    tz = scope.org.tz

    def rows():
        for message in log.iterator(chunk_size=2000):
            pollrun = message.pollrun
            yield [
                message.created_on.astimezone(tz),
                message.created_by.email if message.created_by else "",
                message.get_kind_display(),
                message.text,
                message.get_audience_display(),
                message.region.name if message.region else "",
                pollrun.poll.display_name if pollrun else "",
                pollrun.local_date if pollrun else None,
                message.recipient_count,
                message.get_status_display(),
                message.sent_count,
                message.failed_count,
                message.error,
            ]

    filename = export_filename(scope.org.subdomain, _("messages"), timezone.localdate())
    return table_response(export_format(request.GET) or CSV, filename, header, rows())


class MessageMixin(ScopedMixin):
    model = Message

    @cached_property
    def message(self) -> Message:
        visible = Message.objects.visible_to(self.scope).select_related(
            "created_by", "pollrun__poll", "region", "contact"
        )
        return get_object_or_404(visible, pk=self.kwargs["pk"])


class MessageDetailView(MessageMixin, DetailView):
    template_name = "messaging/message_detail.html"
    context_object_name = "message"

    def get_object(self, queryset=None):
        return self.message

    def get_context_data(self, **kwargs):
        message = self.message
        recipients = Contact.objects.visible_to(self.scope).filter(received_messages=message)
        return super().get_context_data(
            title=_("Message of %(date)s") % {"date": timezone.localtime(message.created_on)},
            may_retry=may_retry(self.scope, self.request.user, message),
            recipients=recipients.select_related("region").order_by("name")[:RECIPIENTS_SHOWN],
            batches=message.batches.all(),
            **kwargs,
        )


class MessageStatusView(MessageMixin, TemplateView):
    """A message's status badge alone; pages poll it while the message is sending."""

    template_name = "messaging/_message_status.html"

    def get_context_data(self, **kwargs):
        show_uuid = self.request.GET.get("uuid") == "1"
        return super().get_context_data(message=self.message, show_uuid=show_uuid, **kwargs)


def may_retry(scope: RegionScope, user: User, message: Message) -> bool:
    """Its sender, or an admin: a retry sends to the sender's audience again."""
    return scope.is_admin or message.created_by_id == user.pk


class RetryView(MessageMixin, TemplateView):
    """Try again what failed (the poll date of a start, else the message, shows how)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs) -> HttpResponse:
        message = self.message
        if not may_retry(self.scope, request.user, message):
            raise Http404
        actions.retry(message)
        messages.info(request, _("TracPro is trying again."))
        if message.kind == Message.Kind.START and message.pollrun_id:
            return redirect("polls.pollrun_read", pk=message.pollrun_id)
        return redirect("msgs:read", pk=message.pk)


# The inbox -------------------------------------------------------------------------------------


class InboxFilters:
    """The inbox's filters: region, label, since a date, not yet replied, archived."""

    def __init__(self, scope: RegionScope, params: QueryDict):
        self.scope = scope
        self.region = next(
            (r for r in self.region_choices if str(r.pk) == params.get("region")), None
        )
        label = params.get("label", "")
        self.label = label if label in self.label_choices else ""
        self.since = _date(params.get("since", ""))
        self.unanswered = params.get("unanswered") == "1"
        self.archived = params.get("archived") == "1"

    @cached_property
    def region_choices(self) -> list[Region]:
        return self.scope.limit(self.scope.choices())

    @cached_property
    def label_choices(self) -> list[str]:
        labels = (
            InboxMessage.objects.visible_to(self.scope)
            .exclude(labels=[])
            .values_list("labels", flat=True)
            .distinct()[:500]
        )
        return sorted({label for group in labels for label in group})

    def apply(self, queryset: QuerySet[InboxMessage]) -> QuerySet[InboxMessage]:
        queryset = queryset.filter(direction=InboxMessage.Direction.IN, is_archived=self.archived)
        if self.region is not None:
            queryset = queryset.filter(
                contact__region_id__in=self.scope.tree.subtree([self.region.pk])
            )
        if self.label:
            queryset = queryset.filter(labels__contains=[self.label])
        if self.since is not None:
            queryset = queryset.filter(created_on__date__gte=self.since)
        if self.unanswered:
            queryset = queryset.filter(replied_on__isnull=True)
        return queryset

    @property
    def active(self) -> bool:
        return bool(self.region or self.label or self.since or self.unanswered or self.archived)


def _date(value: str) -> date | None:
    try:
        return parse_date(value.strip())
    except ValueError:  # well formed, but no such day
        return None


class InboxView(ScopedMixin, ListView):
    template_name = "messaging/inbox.html"
    paginate_by = PAGE_SIZE
    context_object_name = "inbox"

    @cached_property
    def filters(self) -> InboxFilters:
        return InboxFilters(self.scope, self.request.GET)

    def get_queryset(self):
        inbox = self.filters.apply(InboxMessage.objects.visible_to(self.scope))
        return inbox.select_related("contact__region").order_by("-created_on", "-pk")

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Inbox"), filters=self.filters, **kwargs)


class ConversationView(ScopedMixin, TemplateView):
    """What a contact wrote and what TracPro sent them, in order, with their latest
    answers; a reply goes out from here."""

    template_name = "messaging/conversation.html"
    model = Contact

    @cached_property
    def contact(self) -> Contact:
        contacts = Contact.objects.visible_to(self.scope).select_related("region")
        return get_object_or_404(contacts, pk=self.kwargs["contact_id"])

    def post(self, request, *args, **kwargs) -> HttpResponse:
        """A reply: it appears at once as pending, then sent."""
        form = ReplyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.reply(self.scope, request.user, self.contact, data["text"], data["key"])
            except ActionRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                url = reverse("msgs:conversation", args=[self.contact.pk])
                return redirect(f"{url}#latest")
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        contact = self.contact
        kwargs.setdefault("form", ReplyForm())
        return super().get_context_data(
            title=str(contact),
            contact=contact,
            entries=conversation(contact),
            responses=contact_responses(contact)[:5],
            **kwargs,
        )


def conversation(contact: Contact, limit: int = 200) -> list[dict[str, Any]]:
    """The contact's last incoming and outgoing messages, oldest first."""
    incoming: list[dict[str, Any]] = [
        {"incoming": True, "at": m.created_on, "text": m.text, "inbox": m}
        for m in contact.inbox_messages.filter(direction=InboxMessage.Direction.IN).order_by(
            "-created_on"
        )[:limit]
    ]
    outgoing: list[dict[str, Any]] = [
        {"incoming": False, "at": m.created_on, "text": m.text, "message": m}
        for m in Message.objects.filter(
            recipients=contact, kind__in=[Message.Kind.BROADCAST, Message.Kind.REPLY]
        )
        .select_related("created_by")
        .order_by("-created_on")[:limit]
    ]
    return sorted(incoming + outgoing, key=lambda entry: entry["at"])[-limit:]


@require_POST
def archive(request: HttpRequest, inboxmessage_id: int) -> HttpResponse:
    """Archive an inbox message (admins): here at once, in RapidPro by a task."""
    scope = get_scope(request, admin=True)
    message = get_object_or_404(InboxMessage.objects.visible_to(scope), pk=inboxmessage_id)
    actions.archive(scope, message)
    messages.info(request, _("The message is archived; TracPro is archiving it in RapidPro."))
    return redirect(reverse("msgs:conversation", args=[message.contact_id]))
