"""Recent indicators: a baseline poll's results against a follow-up poll's over a term."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.models import Org, OrgScopedQuerySet
from tracpro.polls.models import Poll, Question


class IndicatorQuerySet(OrgScopedQuerySet["Indicator"]):
    def with_questions(self) -> "IndicatorQuerySet":
        return self.select_related(
            "baseline_poll", "baseline_question", "follow_up_poll", "follow_up_question"
        )


class Indicator(models.Model):
    """One comparison: each contact's first baseline answer in the term (or a goal)
    against the follow-up answers of every poll date of the term."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    baseline_poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="+", verbose_name=_("baseline poll")
    )
    baseline_question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", verbose_name=_("baseline question")
    )
    follow_up_poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="+", verbose_name=_("follow-up poll")
    )
    follow_up_question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", verbose_name=_("follow-up question")
    )
    goal = models.FloatField(
        _("goal"),
        null=True,
        blank=True,
        help_text=_("A number to compare the follow-up sums with instead of the baseline."),
    )
    y_axis_title = models.CharField(_("y-axis title"), max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(default=timezone.now, editable=False)
    modified_on = models.DateTimeField(auto_now=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        # The most recent terms first.
        ordering = ["-end_date", "-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="indicators_indicator_term_order",
            )
        ]

    def __str__(self) -> str:
        return self.name
