from datetime import date
from typing import Self, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracpro.groups.scope import RegionScope
from tracpro.orgs.models import Org, OrgScopedQuerySet


class PollQuerySet(OrgScopedQuerySet["Poll"]):
    def selected(self, org: Org) -> "PollQuerySet":
        """The org's flows that admins selected as polls (the ones dashboards show)."""
        return self.for_org(org).active()


class Poll(models.Model):
    """A RapidPro flow. Every synced flow has a row; admins select which ones are polls."""

    class FlowState(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived in RapidPro")
        MISSING = "missing", _("No longer in RapidPro")

    class FlowType(models.TextChoices):
        """As RapidPro's flows API names them."""

        MESSAGE = "message", _("Messaging")
        VOICE = "voice", _("Voice")
        BACKGROUND = "background", _("Background")
        SURVEY = "survey", _("Surveyor")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="polls")
    flow_uuid = models.CharField(max_length=36)
    rapidpro_name = models.CharField(_("RapidPro name"), max_length=255)
    name = models.CharField(
        _("name"), max_length=255, blank=True, help_text=_("Leave blank to use RapidPro's name.")
    )
    flow_state = models.CharField(
        max_length=16, choices=FlowState.choices, default=FlowState.ACTIVE
    )
    flow_type = models.CharField(
        _("flow type"), max_length=16, choices=FlowType.choices, default=FlowType.MESSAGE
    )
    # The flow's modified_on as RapidPro last reported it: its definition is fetched
    # again only when this moves.
    remote_modified_on = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("selected as a poll"), default=False)
    # How many results (questions) the flow defines, as RapidPro reports it; 0
    # for single-message flows, None until the flows sync has seen it.
    result_count = models.PositiveIntegerField(null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now, editable=False)
    modified_on = models.DateTimeField(auto_now=True)

    objects = PollQuerySet.as_manager()

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["name", "rapidpro_name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "flow_uuid"], name="polls_poll_unique_flow")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.rapidpro_name

    def shown_questions(self) -> list["Question"]:
        """The questions admins left shown, in flow order."""
        return list(self.questions.filter(is_active=True).order_by("order", "pk"))


class QuestionType(models.TextChoices):
    NUMERIC = "numeric", _("Numeric")
    CATEGORICAL = "categorical", _("Categorical")
    OPEN = "open", _("Open-ended")
    RECORDING = "recording", _("Recording")  # a voice flow's recorded answer: its URL


_M = TypeVar("_M", bound=models.Model)


class PollChildQuerySet(models.QuerySet[_M]):
    """Questions and poll dates belong to an org through their poll."""

    def for_org(self, org: Org) -> Self:
        return self.filter(poll__org=org)


class PollRunQuerySet(PollChildQuerySet["PollRun"]):
    def visible_to(self, scope: RegionScope) -> "PollRunQuerySet":
        """Dates of selected polls that concern the scope: org-wide dates, and dates
        started for a region in view, above it or below it. Spoofed dates only while
        the org shows spoof data."""
        pollruns = self.for_org(scope.org).filter(poll__is_active=True)
        if not scope.org.show_spoof_data:
            pollruns = pollruns.real()
        related = scope.related_ids()
        if related is None:
            return pollruns
        return pollruns.filter(models.Q(region__isnull=True) | models.Q(region_id__in=related))

    def within(self, start: date | None, end: date | None) -> "PollRunQuerySet":
        """Dates from `start` to `end`, both included (None: open)."""
        pollruns = self
        if start:
            pollruns = pollruns.filter(local_date__gte=start)
        if end:
            pollruns = pollruns.filter(local_date__lte=end)
        return pollruns

    def real(self) -> "PollRunQuerySet":
        """Dates that came from RapidPro (or were started in TracPro), never spoofed ones."""
        return self.exclude(kind=PollRun.Kind.SPOOF)

    def spoofed(self) -> "PollRunQuerySet":
        return self.filter(kind=PollRun.Kind.SPOOF)


class Question(models.Model):
    """One result key of a flow (a wait+router or a calculated "split by expression")."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="questions")
    result_key = models.CharField(max_length=64)
    rapidpro_name = models.CharField(_("RapidPro name"), max_length=255)
    name = models.CharField(
        _("name"), max_length=255, blank=True, help_text=_("Leave blank to use RapidPro's name.")
    )
    question_type = models.CharField(_("type"), max_length=16, choices=QuestionType.choices)
    # The type the flow implies (see tracpro.rapidpro.definitions); question_type
    # follows it until an admin chooses another type.
    rapidpro_type = models.CharField(max_length=16, choices=QuestionType.choices, blank=True)
    # Category names in router order, "Other" last; and the numeric tests that
    # categorise arbitrary values: [{"category", "test", "arguments"}].
    categories = models.JSONField(default=list, blank=True)
    rules = models.JSONField(default=list, blank=True)
    node_uuids = models.JSONField(default=list, blank=True)
    # The names of its waits' timeout categories ("No Response", or renamed): a result
    # in one of them is a timeout, never an answer.
    timeout_categories = models.JSONField(default=list, blank=True)
    # The categories RapidPro's flows API reports for the result, as reported, so a
    # flows sync notices a change without fetching the definition.
    reported_categories = models.JSONField(default=list, blank=True)
    show_no_response = models.BooleanField(
        _("show “No response”"),
        default=False,
        help_text=_(
            "Categorical charts show contacts who did not answer this question as a "
            "share of their own."
        ),
    )
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("shown"), default=True)
    is_present = models.BooleanField(default=True, help_text="False once the flow drops the key.")

    objects = PollChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "result_key"], name="polls_question_unique_key")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.rapidpro_name


class PollRun(models.Model):
    """A date a poll was conducted: one per flow start, or one per org-local day of
    runs that came without a start."""

    class Kind(models.TextChoices):
        START = "start", _("Flow start")
        DAY = "day", _("Day")
        SPOOF = "spoof", _("Spoofed")

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="pollruns")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    start_uuid = models.CharField(max_length=36, null=True, blank=True)
    conducted_on = models.DateTimeField(_("conducted on"))
    local_date = models.DateField(help_text="The org-local day of conducted_on.")
    # Set when a user starts the poll from TracPro for a region.
    region = models.ForeignKey(
        "groups.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="pollruns"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PollRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("poll date")
        verbose_name_plural = _("poll dates")
        ordering = ["-conducted_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "start_uuid"],
                condition=models.Q(start_uuid__isnull=False),
                name="polls_pollrun_unique_start",
            ),
            models.UniqueConstraint(
                fields=["poll", "local_date"],
                condition=models.Q(kind="day"),
                name="polls_pollrun_unique_day",
            ),
        ]
        indexes = [models.Index(fields=["poll", "conducted_on"], name="polls_pollrun_conducted")]

    def __str__(self) -> str:
        return f"{self.poll} {self.local_date}"

    @property
    def is_spoofed(self) -> bool:
        return self.kind == self.Kind.SPOOF


class ResponseStatus(models.TextChoices):
    """What the contact did in a run.

    Empty: they never replied (RapidPro's `responded` is false): a wait that timed
    out is not an answer. Complete: they replied, the run reached the end of the flow
    and none of its questions timed out, so every question the run asked was
    answered. Partial: they replied, but the run stopped on the way (it expired, was
    interrupted or still waits) or a question timed out.
    """

    EMPTY = "empty", _("No response")
    PARTIAL = "partial", _("Partial response")
    COMPLETE = "complete", _("Complete response")

    @classmethod
    def of(cls, responded: bool, completed: bool, timed_out: bool) -> "ResponseStatus":
        """The status of a run (`RunsSyncer.staged_rows`, for pages and archives alike)."""
        if not responded:
            return cls.EMPTY
        return cls.COMPLETE if completed and not timed_out else cls.PARTIAL


class Response(models.Model):
    """One RapidPro run of a poll's flow by a contact.

    Only each contact's latest response per poll date is active.
    """

    # The composite indexes below lead with each of these keys, so the foreign
    # keys need no index of their own (fewer indexes to maintain during a sync).
    # Responses and answers are written only by the runs sync, from joins with the
    # rows they reference and under the org's ingest lock, and deleted by the ORM's
    # cascades; database constraints would add a check per row at every commit (a
    # third of a backfill's time), so these keys have none (see docs/sync.md).
    org = models.ForeignKey(
        Org, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    run_uuid = models.CharField(max_length=36)
    pollrun = models.ForeignKey(
        PollRun,
        on_delete=models.CASCADE,
        related_name="responses",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.CASCADE,
        related_name="responses",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=16, choices=ResponseStatus.choices)
    created_on = models.DateTimeField()
    updated_on = models.DateTimeField(help_text="When the contact last answered.")
    remote_modified_on = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.UniqueConstraint(fields=["org", "run_uuid"], name="polls_response_unique_run")
        ]
        indexes = [
            # Also the order of a poll date's Responses tab (latest first, by id on a
            # tie): a page is read from the index, not sorted from every response.
            models.Index(
                fields=["pollrun", "is_active", "updated_on", "id"],
                name="polls_response_pollrun_order",
            ),
            models.Index(fields=["contact", "pollrun"], name="polls_response_contact"),
        ]

    def __str__(self) -> str:
        return self.run_uuid


class Answer(models.Model):
    """A contact's value for one question within one response."""

    # Covered by the unique (response, question) and the (question, local_date) indexes.
    # No database constraints, for the reason given on Response.
    response = models.ForeignKey(
        Response,
        on_delete=models.CASCADE,
        related_name="answers",
        db_index=False,
        db_constraint=False,
    )
    question = models.ForeignKey(
        Question,
        on_delete=models.CASCADE,
        related_name="answers",
        db_index=False,
        db_constraint=False,
    )
    # The response's contact, copied here so the same-day rule finds a contact's
    # answers of one question and day with one index lookup (polls_answer_question_day).
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    value = models.TextField(blank=True)
    category = models.CharField(max_length=255, blank=True)
    number = models.FloatField(null=True, blank=True, help_text="The value, when it is a number.")
    # The number charts use: this answer's, or the sum of the contact's
    # answers that day, by the org's same-day rule.
    value_to_use = models.FloatField(null=True, blank=True)
    submitted_on = models.DateTimeField()
    local_date = models.DateField(help_text="The org-local day of submitted_on.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="polls_answer_unique_question"
            )
        ]
        indexes = [
            models.Index(
                fields=["question", "local_date", "contact"], name="polls_answer_question_day"
            )
        ]

    def __str__(self) -> str:
        return self.value

    def save(self, *args, **kwargs) -> None:
        if self.contact_id is None and self.response_id is not None:
            self.contact_id = self.response.contact_id
        super().save(*args, **kwargs)


def leading_key(model: type[models.Model]) -> models.ForeignKey:
    """A rollup's key its unique key leads with: no index of its own (and, as every
    rollup key, no database constraint: see Rollup)."""
    return models.ForeignKey(
        model, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )


class Rollup(models.Model):
    """What every rollup row has: a poll date, the contacts' region (NULL when none)
    and a count (see tracpro.polls.rollups).

    Rollups are derived rows, written only from joins with the rows they reference
    (under the org's ingest lock) and deleted by the ORM's cascades or with their
    poll dates' org (`Rollup.delete`), like responses and answers: their keys have no
    database constraints, which would check every row at commit (a rebuild writes a
    row per number and word: 5 of an archive import's 23 s of rollups at 1,000,000
    runs went to those checks), and no index where the unique key leads with them."""

    pollrun = models.ForeignKey(
        PollRun, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    region = models.ForeignKey(
        "groups.Region", null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    count = models.IntegerField(default=0)

    class Meta:
        abstract = True


class AnswerTotals(Rollup):
    """A rollup of one question's answers, with the count, sum and sum of squares of
    their numbers (`value_to_use`)."""

    question = leading_key(Question)
    number_count = models.IntegerField(default=0)
    number_sum = models.FloatField(default=0)
    number_sum_sq = models.FloatField(default=0, help_text="For standard deviations.")

    class Meta:
        abstract = True


def unique_key(model: str, *fields: str) -> list[models.UniqueConstraint]:
    return [
        models.UniqueConstraint(
            fields=list(fields), nulls_distinct=False, name=f"polls_{model}_unique_key"
        )
    ]


class AnswerRollup(AnswerTotals):
    """Pre-aggregated answers of active responses of active contacts, kept up to date
    in the same transaction as the answers (see tracpro.polls.rollups)."""

    local_date = models.DateField()
    category = models.CharField(max_length=255)

    class Meta:
        constraints = unique_key(
            "answerrollup", "question", "pollrun", "region", "local_date", "category"
        )

    def __str__(self) -> str:
        return f"{self.question_id}/{self.pollrun_id}/{self.region_id}: {self.category}"


class ResponseRollup(Rollup):
    """Counts of active responses of active contacts per poll date, region and status."""

    pollrun = leading_key(PollRun)

    status = models.CharField(max_length=16, choices=ResponseStatus.choices)

    class Meta:
        constraints = unique_key("responserollup", "pollrun", "region", "status")

    def __str__(self) -> str:
        return f"{self.pollrun_id}/{self.region_id}: {self.status}"


class AnswerGroupRollup(AnswerTotals):
    """AnswerRollup split by the contact's reporter groups (group NULL: in none), for
    charts filtered by a reporter group."""

    group = models.ForeignKey(
        "groups.ReporterGroup",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    category = models.CharField(max_length=255)

    class Meta:
        constraints = unique_key(
            "answergrouprollup", "question", "pollrun", "region", "group", "category"
        )

    def __str__(self) -> str:
        return f"{self.question_id}/{self.pollrun_id}/{self.region_id}/{self.group_id}"


class ResponseGroupRollup(Rollup):
    """ResponseRollup split by the contact's reporter groups (group NULL: in none)."""

    pollrun = leading_key(PollRun)

    group = models.ForeignKey(
        "groups.ReporterGroup",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    status = models.CharField(max_length=16, choices=ResponseStatus.choices)

    class Meta:
        constraints = unique_key("responsegrouprollup", "pollrun", "region", "group", "status")

    def __str__(self) -> str:
        return f"{self.pollrun_id}/{self.region_id}/{self.group_id}: {self.status}"


class NumberRollup(Rollup):
    """How many answers have each `value_to_use`, per poll date and region: a poll
    date's histograms without reading its answers."""

    question = leading_key(Question)
    number = models.FloatField()

    class Meta:
        constraints = unique_key("numberrollup", "question", "pollrun", "region", "number")

    def __str__(self) -> str:
        return f"{self.question_id}/{self.pollrun_id}/{self.region_id}: {self.number}"


class WordRollup(Rollup):
    """How many answers contain each word, per poll date and region: word clouds
    without reading the answers."""

    question = leading_key(Question)
    word = models.CharField(max_length=100)

    class Meta:
        constraints = unique_key("wordrollup", "question", "pollrun", "region", "word")

    def __str__(self) -> str:
        return f"{self.question_id}/{self.pollrun_id}/{self.region_id}: {self.word}"
