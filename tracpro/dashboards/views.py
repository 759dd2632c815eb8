"""The poll dashboards: a poll over time, its dates, one date's summary,
responses and participation, and participation of every contact.

Every view starts from the region scope (`ScopedMixin`), looks polls and poll
dates up through the querysets that take it, and reads numbers through
`tracpro.charts` with the filters, which start from the same scope; the query
count of each page does not grow with the data.
"""

from collections import Counter, defaultdict
from urllib.parse import urlencode, urlsplit

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, TemplateView

from tracpro.charts.data import (
    filtered_contacts,
    filtered_responses,
    group_response_rows,
    response_rows,
)
from tracpro.charts.filters import Filters
from tracpro.charts.poll_charts import ChartInput, poll_charts, poll_word_clouds, pollrun_charts
from tracpro.contacts.models import Contact
from tracpro.dashboards import exports
from tracpro.dashboards.forms import FIELD_PREFIX, FilterForm
from tracpro.dashboards.participation import contact_statuses, status_rows
from tracpro.exports.files import CSV, export_filename, export_format, table_response
from tracpro.groups.models import ReporterGroup
from tracpro.groups.views import ScopedMixin
from tracpro.msgs.models import Message
from tracpro.polls.models import Answer, Poll, PollRun, QuestionType, Response, ResponseStatus

PAGE_SIZE = 50
# Filters a link to a poll date (which has no date range) carries along.
CARRIED = ("region", "group")
DATE_PARAMETERS = ("range", "start", "end")


class FilteredMixin(ScopedMixin):
    """Reads the filter bar from the URL; `with_dates` adds the date range."""

    with_dates = True
    with_chart_options = False
    request: HttpRequest

    def filter_query(self) -> QueryDict:
        """The query the filter bar reads (a page may fill in its own defaults)."""
        return self.request.GET

    @cached_property
    def filter_form(self) -> FilterForm:
        return FilterForm(
            self.filter_query(),
            scope=self.scope,
            with_dates=self.with_dates,
            with_chart_options=self.with_chart_options,
        )

    @property
    def filters(self) -> Filters:
        return self.filter_form.filters()

    def carried_query(self, *, dates: bool = False) -> str:
        """The query string of the filters that links to related pages keep."""

        def carried(key: str) -> bool:
            return (
                key in CARRIED or key.startswith(FIELD_PREFIX) or (dates and key in DATE_PARAMETERS)
            )

        return urlencode(
            [
                (key, value)
                for key, values in self.request.GET.lists()
                if carried(key)
                for value in values
                if value
            ]
        )

    @property
    def export_format(self) -> str | None:
        """The file format asked for (`_format=csv|xlsx`), None for the page itself."""
        return export_format(self.request.GET)

    def exported_pollruns(self, pollruns: QuerySet[PollRun]) -> QuerySet[PollRun]:
        """Exports leave spoofed poll dates out unless asked for (`spoof=1`)."""
        return pollruns if self.request.GET.get("spoof") == "1" else pollruns.real()

    def filter_context(self) -> dict:
        return {"filter_form": self.filter_form, "filters": self.filters}

    def date_pollruns(self, pollruns: QuerySet[PollRun]) -> QuerySet[PollRun]:
        return pollruns.within(self.filters.start, self.filters.end)


def with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


# A poll over time --------------------------------------------------------------------


class PollReadView(FilteredMixin, DetailView):
    """Responses over time: a chart, a map and figures per question."""

    model = Poll
    template_name = "dashboards/poll_read.html"
    context_object_name = "poll"
    with_chart_options = True

    def get_queryset(self) -> QuerySet[Poll]:
        return Poll.objects.selected(self.scope.org)

    def pollruns(self) -> list[PollRun]:
        pollruns = PollRun.objects.visible_to(self.scope).filter(poll=self.object)
        return list(self.date_pollruns(pollruns).order_by("conducted_on", "pk"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        questions = self.object.shown_questions()
        pollruns = self.pollruns()
        data = ChartInput.fetch(
            self.scope.org,
            self.filters,
            self.scope.tree,
            questions,
            pollruns,
        )
        charts = poll_charts(data)
        query = self.carried_query()
        for date in charts["dates"]:
            date["url"] = with_query(reverse("polls.pollrun_read", args=[date["id"]]), query)
        charts["words_url"] = with_query(
            reverse("polls.poll_words", args=[self.object.pk]), self.request.GET.urlencode()
        )
        context.update(
            self.filter_context(),
            title=self.object.display_name,
            questions=questions,
            pollrun_count=len(pollruns),
            charts=charts,
            tab="summary",
            query=self.request.GET.urlencode(),
            numeric_query=without(self.request, "numeric"),
            has_numeric=any(q.question_type == QuestionType.NUMERIC for q in questions),
        )
        return context


class PollWordsView(FilteredMixin, DetailView):
    """Word clouds of a poll's open-ended questions (JSON, loaded after the page)."""

    model = Poll

    def get_queryset(self) -> QuerySet[Poll]:
        return Poll.objects.selected(self.scope.org)

    def get(self, request, *args, **kwargs) -> JsonResponse:
        poll = self.get_object()
        pollruns = self.date_pollruns(PollRun.objects.visible_to(self.scope).filter(poll=poll))
        clouds = poll_word_clouds(
            self.scope.org, self.filters, poll.shown_questions(), list(pollruns)
        )
        return JsonResponse({"words": clouds})


class PollExportView(FilteredMixin, DetailView):
    """All responses of a poll's dates in the filters, as CSV (or XLSX with `_format=xlsx`)."""

    model = Poll

    def get_queryset(self) -> QuerySet[Poll]:
        return Poll.objects.selected(self.scope.org)

    def get(self, request, *args, **kwargs) -> HttpResponse:
        poll = self.get_object()
        pollruns = self.date_pollruns(PollRun.objects.visible_to(self.scope).filter(poll=poll))
        pollrun_ids = list(self.exported_pollruns(pollruns).values_list("pk", flat=True))
        responses = filtered_responses(self.scope.org, self.filters, pollrun_ids).exclude(
            status=ResponseStatus.EMPTY
        )
        questions = poll.shown_questions()
        filters = self.filters
        return table_response(
            self.export_format or CSV,
            export_filename(poll.display_name, filters.start, filters.end),
            exports.response_header(questions),
            exports.response_rows(responses, questions, self.scope.org),
        )


# Poll dates ----------------------------------------------------------------------------


class PollRunListView(FilteredMixin, TemplateView):
    """Poll dates with participants and responses, newest first."""

    template_name = "dashboards/pollrun_list.html"

    def poll(self) -> Poll | None:
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        poll = self.poll()
        pollruns = PollRun.objects.visible_to(self.scope).select_related("poll", "region")
        if poll is not None:
            pollruns = pollruns.filter(poll=poll)
        pollruns = self.date_pollruns(pollruns).order_by("-conducted_on", "-pk")
        page = Paginator(pollruns, PAGE_SIZE).get_page(self.request.GET.get("page"))
        counts = self.counts([pollrun.pk for pollrun in page])
        query = self.carried_query()
        rows = [
            {
                "pollrun": pollrun,
                "url": with_query(reverse("polls.pollrun_read", args=[pollrun.pk]), query),
                **counts.get(pollrun.pk, {"participants": 0, "complete": 0, "partial": 0}),
            }
            for pollrun in page
        ]
        context.update(
            self.filter_context(),
            poll=poll,
            page_obj=page,
            rows=rows,
            title=poll.display_name if poll else _("Poll dates"),
            tab="dates",
            query=self.request.GET.urlencode(),
        )
        return context

    def counts(self, pollrun_ids: list[int]) -> dict[int, dict[str, int]]:
        counts: dict[int, Counter] = defaultdict(Counter)
        for row in response_rows(self.scope.org, self.filters, pollrun_ids):
            counts[row.pollrun_id][row.status] += row.count
        return {
            pk: {
                "participants": sum(counter.values()),
                "complete": counter[ResponseStatus.COMPLETE],
                "partial": counter[ResponseStatus.PARTIAL],
            }
            for pk, counter in counts.items()
        }


class PollRunByPollView(PollRunListView):
    """A poll's "Dates" tab."""

    def poll(self) -> Poll:
        return get_object_or_404(Poll.objects.selected(self.scope.org), pk=self.kwargs["poll"])


class PollRunMixin(FilteredMixin):
    """One poll date, looked up within what the user may see."""

    model = PollRun
    with_dates = False
    tab = ""

    @cached_property
    def pollrun(self) -> PollRun:
        pollruns = PollRun.objects.visible_to(self.scope).select_related("poll", "region")
        return get_object_or_404(pollruns, pk=self.kwargs["pk"])

    def pollrun_context(self) -> dict:
        pollrun = self.pollrun
        start = pollrun.messages.filter(kind=Message.Kind.START).first()
        return {
            **self.filter_context(),
            "pollrun": pollrun,
            # How a start from TracPro is going (pending, started or failed).
            "start_message": start,
            "may_retry_start": start is not None
            and (self.scope.is_admin or start.created_by_id == self.request.user.pk),
            "poll": pollrun.poll,
            "title": pollrun.poll.display_name,
            "tab": self.tab,
            "query": self.carried_query(),
            "back_query": self.carried_query(dates=True),
        }


class PollRunReadView(PollRunMixin, TemplateView):
    """A poll date's Summary tab: single-date charts and maps."""

    template_name = "dashboards/pollrun_read.html"
    tab = "summary"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pollrun = self.pollrun
        data = ChartInput.fetch(
            self.scope.org,
            self.filters,
            self.scope.tree,
            pollrun.poll.shown_questions(),
            [pollrun],
        )
        context.update(self.pollrun_context(), charts=pollrun_charts(data))
        return context


class PollRunParticipationView(PollRunMixin, TemplateView):
    """A poll date's Participation tab, per reporter group or per region."""

    template_name = "dashboards/pollrun_participation.html"
    tab = "participation"

    def group_by(self) -> str:
        return "region" if self.request.GET.get("group-by") == "region" else "group"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        org, filters, pollrun = self.scope.org, self.filters, self.pollrun
        responses = response_rows(org, filters, [pollrun.pk])
        totals = Counter()
        for row in responses:
            totals[row.status] += row.count
        if self.group_by() == "region":
            tree = self.scope.tree
            counts: dict = defaultdict(Counter)
            for row in responses:
                counts[row.region_id][row.status] += row.count
            labels = {region_id: tree.path(region_id) for region_id in counts}
        else:
            counts = defaultdict(Counter)
            names = dict(ReporterGroup.objects.for_org(org).active().values_list("pk", "name"))
            for group, status, count in group_response_rows(org, filters, [pollrun.pk]):
                if group is None or group in names:
                    counts[group][status] += count
            labels = {pk: names.get(pk) or _("No reporter group") for pk in counts}
        context.update(
            self.pollrun_context(),
            group_by=self.group_by(),
            rows=status_rows(counts, labels),
            totals=status_rows({None: totals}, {None: _("Total")})[0] if totals else None,
        )
        return context


class ResponseByPollRunView(PollRunMixin, TemplateView):
    """A poll date's Responses tab: one row per contact who answered; CSV or XLSX export."""

    template_name = "dashboards/response_by_pollrun.html"
    tab = "responses"

    def responses(self) -> QuerySet:
        return filtered_responses(self.scope.org, self.filters, [self.pollrun.pk]).exclude(
            status=ResponseStatus.EMPTY
        )

    def get(self, request, *args, **kwargs) -> HttpResponse:
        if self.export_format:
            # One date's export: on a spoofed date's own page, the spoofed date is asked for.
            pollrun = self.pollrun
            questions = pollrun.poll.shown_questions()
            return table_response(
                self.export_format,
                export_filename(pollrun.poll.display_name, pollrun.local_date),
                exports.response_header(questions),
                exports.response_rows(self.responses(), questions, self.scope.org),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        questions = self.pollrun.poll.shown_questions()
        groups = ReporterGroup.objects.active().order_by("name")
        responses = (
            self.responses()
            .select_related("contact", "contact__region")
            .prefetch_related(Prefetch("contact__reporter_groups", queryset=groups))
            .order_by("-updated_on", "-pk")
        )
        paginator = Paginator(responses, PAGE_SIZE)
        # Known from the rollups: no count of the raw responses.
        paginator.count = sum(
            row.count
            for row in response_rows(self.scope.org, self.filters, [self.pollrun.pk])
            if row.status != ResponseStatus.EMPTY
        )
        page = paginator.get_page(self.request.GET.get("page"))
        answers = defaultdict(dict)
        for response_id, question_id, value in Answer.objects.filter(
            response__in=[response.pk for response in page], question__in=questions
        ).values_list("response_id", "question_id", "value"):
            answers[response_id][question_id] = value
        recordings = {q.pk for q in questions if q.question_type == QuestionType.RECORDING}
        rows = [
            {
                "response": response,
                "answers": [
                    {
                        "text": answers[response.pk].get(question.pk, ""),
                        "audio": question.pk in recordings
                        and playable(answers[response.pk].get(question.pk, "")),
                    }
                    for question in questions
                ],
            }
            for response in page
        ]
        context.update(
            self.pollrun_context(),
            questions=questions,
            rows=rows,
            page_obj=page,
        )
        return context


# Participation of every contact ----------------------------------------------------------

MAX_COLUMNS = 60


class ParticipationView(FilteredMixin, TemplateView):
    """Every contact in view against every poll date in the range, with status marks."""

    template_name = "dashboards/participation.html"

    @cached_property
    def poll(self) -> Poll | None:
        value = self.request.GET.get("poll", "")
        if not value.isdigit():
            return None
        return Poll.objects.selected(self.scope.org).filter(pk=value).first()

    def pollruns(self, exported: bool = False) -> list[PollRun]:
        pollruns = PollRun.objects.visible_to(self.scope).select_related("poll")
        poll = self.poll
        if poll is not None:
            pollruns = pollruns.filter(poll=poll)
        if exported:
            pollruns = self.exported_pollruns(pollruns)
        return list(self.date_pollruns(pollruns).order_by("-conducted_on", "-pk")[:MAX_COLUMNS])

    def contacts(self) -> QuerySet[Contact]:
        contacts = Contact.objects.visible_to(self.scope).select_related("region")
        return filtered_contacts(contacts, self.filters).order_by("name", "pk")

    def get(self, request, *args, **kwargs) -> HttpResponse:
        if self.export_format:
            pollruns = self.pollruns(exported=True)
            header = [_("Contact"), _("URN"), _("Region")] + [
                f"{pollrun.poll.display_name} {pollrun.local_date.isoformat()}"
                for pollrun in pollruns
            ]
            return table_response(
                self.export_format,
                export_filename(_("participation"), self.filters.start, self.filters.end),
                [str(cell) for cell in header],
                contact_statuses(self.contacts(), pollruns),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pollruns = self.pollruns()
        page = Paginator(self.contacts(), PAGE_SIZE).get_page(self.request.GET.get("page"))
        statuses = {
            (contact_id, pollrun_id): status
            for contact_id, pollrun_id, status in Response.objects.filter(
                org=self.scope.org,
                contact__in=[contact.pk for contact in page],
                pollrun__in=[pollrun.pk for pollrun in pollruns],
                is_active=True,
            ).values_list("contact_id", "pollrun_id", "status")
        }
        rows = [
            {
                "contact": contact,
                "cells": [statuses.get((contact.pk, pollrun.pk)) for pollrun in pollruns],
            }
            for contact in page
        ]
        for row in rows:
            row["asked"] = sum(status is not None for status in row["cells"])
            row["answered"] = sum(
                status in (ResponseStatus.COMPLETE, ResponseStatus.PARTIAL)
                for status in row["cells"]
            )
        context.update(
            self.filter_context(),
            title=_("Participation"),
            polls=Poll.objects.selected(self.scope.org).order_by("name", "rapidpro_name"),
            poll=self.poll,
            pollruns=pollruns,
            max_columns=MAX_COLUMNS,
            rows=rows,
            page_obj=page,
            export_query=without(self.request, "page", "_format", "spoof"),
        )
        return context


def playable(url: str) -> bool:
    """A recording's URL the browser may load itself: http(s) only. TracPro never
    fetches or proxies it; the page plays it from where RapidPro keeps it."""
    return urlsplit(url).scheme in ("http", "https")


def without(request: HttpRequest, *names: str) -> str:
    """The request's query string without the named parameters."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
