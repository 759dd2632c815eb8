"""The indicator form and the spoof data form."""

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.forms.models import ModelChoiceIteratorValue
from django.utils.translation import gettext_lazy as _

from tracpro.indicators.models import Indicator
from tracpro.orgs.models import Org
from tracpro.polls.models import Poll, Question, QuestionType
from tracpro.polls.spoof import SpoofPlan

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Spoofed responses one request may make up (contacts x poll dates).
MAX_SPOOFED_RESPONSES = 200_000


class QuestionSelect(forms.Select):
    """A question choice that names its poll (data-poll), so indicators.js can offer
    only the chosen poll's questions without reloading the page."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-poll"] = instance.poll_id
        return option


class IndicatorForm(forms.ModelForm):
    POLL_OF = {"baseline_question": "baseline_poll", "follow_up_question": "follow_up_poll"}

    class Meta:
        model = Indicator
        fields = [
            "name",
            "description",
            "start_date",
            "end_date",
            "baseline_poll",
            "baseline_question",
            "follow_up_poll",
            "follow_up_question",
            "goal",
            "y_axis_title",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "start_date": DATE_INPUT,
            "end_date": DATE_INPUT,
            "baseline_question": QuestionSelect(attrs={"data-poll-field": "baseline_poll"}),
            "follow_up_question": QuestionSelect(attrs={"data-poll-field": "follow_up_poll"}),
        }

    def __init__(self, *args, org: Org, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.org = org
        polls = Poll.objects.selected(org)
        # Any question of the org is a valid choice, so a wrong one gets a clear error;
        # the lists offer the numeric questions of selected polls.
        questions = Question.objects.for_org(org).select_related("poll")
        numeric = questions.filter(
            poll__in=polls, is_active=True, question_type=QuestionType.NUMERIC
        )
        offered = list(numeric.order_by("poll__name", "poll__rapidpro_name", "order", "pk"))
        for question_field, poll_field in self.POLL_OF.items():
            cast(forms.ModelChoiceField, self.fields[poll_field]).queryset = polls
            field = cast(forms.ModelChoiceField, self.fields[question_field])
            field.queryset = questions
            field.widget.choices = [("", field.empty_label)] + [
                (ModelChoiceIteratorValue(q.pk, q), q.display_name) for q in offered
            ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date must not be before the start date."))
        for question_field, poll_field in self.POLL_OF.items():
            question, poll = cleaned.get(question_field), cleaned.get(poll_field)
            if question is None or poll is None:
                continue
            if question.poll_id != poll.pk:
                self.add_error(
                    question_field,
                    _("Choose a question of the poll %(poll)s.") % {"poll": poll.display_name},
                )
            elif question.question_type != QuestionType.NUMERIC:
                self.add_error(
                    question_field,
                    _("%(question)s is not a numeric question; indicators add up numbers.")
                    % {"question": question.display_name},
                )
        return cleaned


class SpoofForm(forms.Form):
    DAILY, WEEKLY = "1", "7"

    start = forms.DateField(label=_("Baseline date"), widget=DATE_INPUT)
    end = forms.DateField(label=_("Last follow-up date"), widget=DATE_INPUT)
    every = forms.ChoiceField(
        label=_("Follow-up poll dates"),
        choices=[(DAILY, _("Every day")), (WEEKLY, _("Every week"))],
        initial=WEEKLY,
    )
    low = forms.IntegerField(label=_("Smallest answer"), min_value=0, initial=0)
    high = forms.IntegerField(label=_("Largest answer"), min_value=0, initial=100)

    def __init__(self, *args, indicator: Indicator, contact_count: int, **kwargs):
        kwargs.setdefault("initial", {"start": indicator.start_date, "end": indicator.end_date})
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.contact_count = contact_count

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end, every = cleaned.get("start"), cleaned.get("end"), cleaned.get("every")
        low, high = cleaned.get("low"), cleaned.get("high")
        if low is not None and high is not None and high < low:
            self.add_error("high", _("The largest answer must not be smaller than the smallest."))
        if start and end and every:
            if end < start + timedelta(days=int(every)):
                self.add_error(
                    "end", _("Leave room for at least one follow-up date after the baseline date.")
                )
            elif self.response_count(start, end, int(every)) > MAX_SPOOFED_RESPONSES:
                self.add_error(
                    "end",
                    _(
                        "That would make up more than %(max)s responses; choose fewer dates "
                        "or a smaller region."
                    )
                    % {"max": f"{MAX_SPOOFED_RESPONSES:,}"},
                )
        return cleaned

    def response_count(self, start: date, end: date, every: int) -> int:
        dates = 1 + (end - start).days // every
        return dates * self.contact_count

    def plan(self) -> SpoofPlan:
        data = self.cleaned_data
        return SpoofPlan(
            baseline=self.indicator.baseline_question,
            follow_up=self.indicator.follow_up_question,
            start=data["start"],
            end=data["end"],
            every_days=int(data["every"]),
            low=data["low"],
            high=data["high"],
        )
