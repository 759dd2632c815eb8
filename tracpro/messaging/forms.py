"""The forms behind Start…, Send message…, Restart… and a reply.

Each form is built for one user's scope and shows whom it will reach (a count)
before the user confirms; the services in tracpro.rapidpro.actions check it all
again. A hidden one-time `key` makes a second submission of the same form (a
double click) find the first instead of sending twice.
"""

import uuid
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracpro.groups.models import Region
from tracpro.groups.scope import RegionScope
from tracpro.msgs.models import MAX_TEXT_LENGTH
from tracpro.polls.models import PollRun
from tracpro.rapidpro import actions

WHOLE_ORG = "all"
TEXT_ERRORS = {"required": _("Write the message first.")}


class KeyedForm(forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].initial = uuid.uuid4()


def contacts_count(count: int) -> str:
    return ngettext("%(count)d contact", "%(count)d contacts", count) % {"count": count}


class StartForm(KeyedForm):
    """Start a poll for a region of the scope (admins: or the whole org)."""

    region = forms.ChoiceField(label=_("Start it for"))
    include_subregions = forms.BooleanField(
        label=_("Include sub-regions"), required=False, initial=True
    )

    def __init__(self, *args, scope: RegionScope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.regions = {str(region.pk): region for region in scope.limit(scope.choices())}
        choices = [(pk, region.indented_name) for pk, region in self.regions.items()]
        if scope.is_admin and scope.region_ids is None:
            choices.insert(0, (WHOLE_ORG, str(_("The whole organization"))))
        cast(forms.ChoiceField, self.fields["region"]).choices = choices
        if choices:
            self.fields["region"].initial = choices[0][0]

    def choice(self) -> tuple[Region | None, bool] | None:
        """The region (None: the whole org) and whether its sub-regions are included:
        as submitted when valid, the defaults when not submitted, else None."""
        if not self.is_bound:
            return self.regions.get(self.fields["region"].initial), True
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return self.regions.get(data["region"]), data["include_subregions"]

    def audience_count(self) -> int:
        choice = self.choice()
        return actions.start_audience(self.scope, *choice).count() if choice else 0


class SendForm(KeyedForm):
    """A message to some contacts of a poll date."""

    audience = forms.ChoiceField(label=_("Send it to"), widget=forms.RadioSelect)
    text = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 4, "data-max-length": MAX_TEXT_LENGTH}),
        max_length=MAX_TEXT_LENGTH,
        error_messages=TEXT_ERRORS,
        help_text=_("At most %(max)d characters.") % {"max": MAX_TEXT_LENGTH},
    )

    def __init__(self, *args, scope: RegionScope, pollrun: PollRun, **kwargs):
        super().__init__(*args, **kwargs)
        self.counts = {
            audience: actions.poll_date_audience(scope, pollrun, audience).count()
            for audience in actions.POLL_DATE_AUDIENCES
        }
        cast(forms.ChoiceField, self.fields["audience"]).choices = [
            (audience, f"{actions.Audience(audience).label} ({contacts_count(count)})")
            for audience, count in self.counts.items()
        ]
        self.fields["audience"].initial = actions.Audience.NON_RESPONDENTS

    def clean_audience(self) -> str:
        audience = self.cleaned_data["audience"]
        if not self.counts.get(audience):
            raise forms.ValidationError(_("Nobody in view is in this audience."))
        return audience


class ReplyForm(KeyedForm):
    text = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 3, "data-max-length": MAX_TEXT_LENGTH}),
        max_length=MAX_TEXT_LENGTH,
        error_messages=TEXT_ERRORS,
    )
