from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.models import Membership, Org, Role
from tracpro.orgs.validators import timezone_names


class LocaleFields(forms.Form):
    """An org's time zone and languages; the default language must be available."""

    timezone = forms.ChoiceField(label=_("Time zone"), choices=[])
    languages = forms.MultipleChoiceField(
        label=_("Available languages"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(name, name) for name in timezone_names()]

    def clean(self):
        cleaned = super().clean()
        language, languages = cleaned.get("language"), cleaned.get("languages") or []
        if language and languages and language not in languages:
            self.add_error("languages", _("Include the default language."))
        return cleaned


def token_end(token: str) -> str:
    """The last four characters: enough to tell tokens apart, useless to anyone else."""
    return token[-4:] if len(token) > 8 else ""


class OrgForm(LocaleFields, forms.ModelForm):
    """Superusers' org form on the root host, including the org's administrators."""

    administrators = forms.ModelMultipleChoiceField(
        label=_("Administrators"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("email"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    api_url = forms.URLField(
        label=_("RapidPro URL"),
        assume_scheme="https",
        help_text=_("The address of the RapidPro server, e.g. https://app.rapidpro.io"),
    )
    # Never sent back to the browser: the page shows its last characters only.
    api_token = forms.CharField(
        label=_("RapidPro API token"),
        required=False,
        max_length=128,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Org
        fields = [
            "name",
            "subdomain",
            "timezone",
            "language",
            "languages",
            "api_url",
            "api_token",
            "is_active",
            "show_spoof_data",
            "same_day_rule",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["administrators"].initial = get_user_model().objects.filter(
                memberships__org=self.instance, memberships__role=Role.ADMIN
            )
        if self.instance.api_token:
            self.fields["api_token"].help_text = _(
                "A token ending in “%(end)s” is saved. Leave blank to keep it."
            ) % {"end": token_end(self.instance.api_token)}

    def clean_api_token(self) -> str:
        return self.cleaned_data.get("api_token") or self.instance.api_token

    def _save_m2m(self) -> None:
        # Runs after the org is saved, whether the caller used commit=False or not.
        super()._save_m2m()
        org = self.instance
        admins = set(self.cleaned_data.get("administrators") or [])
        with transaction.atomic():
            for user in admins:
                Membership.objects.update_or_create(
                    user=user, org=org, defaults={"role": Role.ADMIN}
                )
            Membership.objects.filter(org=org, role=Role.ADMIN).exclude(user__in=admins).delete()
