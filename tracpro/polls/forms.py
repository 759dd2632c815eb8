from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracpro.polls.models import Poll, Question


class PollChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, poll: Poll) -> str:
        return poll.rapidpro_name


class PollSelectForm(forms.Form):
    """Which of the org's RapidPro flows are polls."""

    polls = PollChoiceField(
        label=_("Polls"),
        queryset=Poll.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, flows, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["polls"].queryset = flows
        self.fields["polls"].initial = [flow.pk for flow in flows if flow.is_active]


class PollForm(forms.ModelForm):
    class Meta:
        model = Poll
        fields = ["name"]
        labels = {"name": _("Name in TracPro")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = self.instance.rapidpro_name
        self.fields["name"].help_text = _("Leave blank to follow the name in RapidPro.")


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["name", "question_type", "is_active", "show_no_response"]
        labels = {
            "name": _("Name"),
            "question_type": _("Type"),
            "is_active": _("Shown"),
            "show_no_response": _("Show “No response”"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = self.instance.rapidpro_name


class BaseQuestionFormSet(forms.BaseModelFormSet):
    """The questions of one poll: the hidden id of each form only accepts them, so a
    posted id of another poll's (or org's) question is refused, not edited."""

    _pk_field: models.Field  # the model's primary key, set by BaseModelFormSet.add_fields

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        form.fields[self._pk_field.name].queryset = self.get_queryset()


QuestionFormSet = forms.modelformset_factory(
    Question, form=QuestionForm, formset=BaseQuestionFormSet, extra=0, edit_only=True
)
