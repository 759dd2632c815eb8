"""Administration > Polls: choose which flows are polls, list and rename them."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import FormView, ListView, UpdateView

from tracpro.groups.views import AdminRequiredMixin
from tracpro.orgs import tasks
from tracpro.orgs.models import SyncKind
from tracpro.polls.forms import PollForm, PollSelectForm, QuestionFormSet
from tracpro.polls.models import Poll, PollRun


class PollListView(AdminRequiredMixin, ListView):
    """The org's polls: name, questions, dates conducted, last conducted."""

    model = Poll
    template_name = "manage/poll_list.html"
    context_object_name = "polls"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Poll]:
        shown_dates = (
            Q() if self.scope.org.show_spoof_data else ~Q(pollruns__kind=PollRun.Kind.SPOOF)
        )
        return (
            Poll.objects.for_org(self.scope.org)
            .active()
            .annotate(
                question_count=Count(
                    "questions", filter=Q(questions__is_active=True), distinct=True
                ),
                date_count=Count("pollruns", filter=shown_dates, distinct=True),
                last_conducted=Max("pollruns__conducted_on", filter=shown_dates),
            )
            .order_by("name", "rapidpro_name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Polls")
        context["unselected_count"] = (
            Poll.objects.for_org(self.scope.org)
            .filter(is_active=False)
            .exclude(flow_state=Poll.FlowState.MISSING)
            .count()
        )
        return context


class PollSelectView(AdminRequiredMixin, FormView):
    """Tick the flows that are polls. Questions and runs are fetched in the background."""

    template_name = "manage/poll_select.html"
    form_class = PollSelectForm

    def flows(self) -> QuerySet[Poll]:
        return (
            Poll.objects.for_org(self.scope.org)
            .filter(Q(is_active=True) | ~Q(flow_state=Poll.FlowState.MISSING))
            .order_by("rapidpro_name")
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "flows": self.flows()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Select polls")
        form = context["form"]
        flows = list(form.fields["polls"].queryset)
        chosen = {str(value) for value in (form["polls"].value() or [])}
        context["flows"] = [
            {"flow": flow, "checked": str(flow.pk) in chosen, "has_results": flow.result_count != 0}
            for flow in flows
        ]
        return context

    def form_valid(self, form: PollSelectForm):
        org = self.scope.org
        chosen = {poll.pk for poll in form.cleaned_data["polls"] if poll.result_count != 0}
        with transaction.atomic():
            flows = Poll.objects.for_org(org).select_for_update()
            newly = flows.filter(pk__in=chosen, is_active=False).update(is_active=True)
            dropped = flows.filter(is_active=True).exclude(pk__in=chosen).update(is_active=False)
            if newly:
                transaction.on_commit(lambda: tasks.trigger(org, SyncKind.FLOWS))
        messages.success(self.request, self.summary(len(chosen), newly, dropped))
        return HttpResponseRedirect(reverse("polls.poll_list"))

    @staticmethod
    def summary(selected: int, newly: int, dropped: int) -> str:
        text = ngettext("%(count)d poll selected.", "%(count)d polls selected.", selected) % {
            "count": selected
        }
        if newly:
            text += " " + str(
                _("Their questions and past responses are being fetched in the background.")
            )
        if dropped:
            text += " " + ngettext(
                "%(count)d flow is no longer a poll; its data is kept.",
                "%(count)d flows are no longer polls; their data is kept.",
                dropped,
            ) % {"count": dropped}
        return text


class PollUpdateView(AdminRequiredMixin, UpdateView):
    """Rename a poll and its questions, set their types and which are shown."""

    model = Poll
    form_class = PollForm
    template_name = "manage/poll_update.html"
    context_object_name = "poll"

    def get_queryset(self) -> QuerySet[Poll]:
        return Poll.objects.for_org(self.scope.org).active()

    def get_formset(self) -> QuestionFormSet:
        data = self.request.POST if self.request.method == "POST" else None
        return QuestionFormSet(
            data, queryset=self.object.questions.order_by("order", "pk"), prefix="questions"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("formset", self.get_formset())
        context["title"] = _("Edit %(poll)s") % {"poll": self.object.display_name}
        return context

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form, formset = self.get_form(), self.get_formset()
        if not (form.is_valid() and formset.is_valid()):
            return self.render_to_response(self.get_context_data(form=form, formset=formset))
        with transaction.atomic():
            form.save()
            formset.save()
        messages.success(request, _("%(poll)s saved.") % {"poll": self.object.display_name})
        return HttpResponseRedirect(reverse("polls.poll_list"))
