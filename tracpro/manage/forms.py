"""Forms of the administration pages that combine several apps' data."""

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tracpro.accounts.models import User, UserManager
from tracpro.contacts.models import DataField
from tracpro.groups.models import Region
from tracpro.groups.tree import RegionTree
from tracpro.manage.members import can_edit_account
from tracpro.orgs.forms import LocaleFields
from tracpro.orgs.models import Membership, Org, Role


class OrgSettingsForm(LocaleFields, forms.ModelForm):
    """An org admin's settings: languages, time zone, how to count answers, and
    which RapidPro contact fields TracPro shows."""

    shown_fields = forms.ModelMultipleChoiceField(
        label=_("Contact fields shown in TracPro"),
        queryset=DataField.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Shown on contact pages and forms, and offered as chart filters."),
    )
    facility_code_field = forms.ModelChoiceField(
        label=_("Facility code field"),
        queryset=DataField.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("The RapidPro contact field that holds each contact's facility code."),
    )

    class Meta:
        model = Org
        fields = ["name", "timezone", "language", "languages", "same_day_rule", "show_spoof_data"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        org = self.instance
        fields = DataField.objects.for_org(org).active().order_by("label")
        self.fields["shown_fields"].queryset = fields
        self.fields["shown_fields"].initial = list(fields.filter(is_visible=True))
        self.fields["facility_code_field"].queryset = fields
        self.fields["facility_code_field"].initial = DataField.objects.facility_code(org)

    def _save_m2m(self) -> None:
        super()._save_m2m()
        org = self.instance
        shown = self.cleaned_data.get("shown_fields") or []
        facility = self.cleaned_data.get("facility_code_field")
        with transaction.atomic():
            fields = DataField.objects.for_org(org)
            fields.exclude(pk__in=[field.pk for field in shown]).update(is_visible=False)
            fields.filter(pk__in=[field.pk for field in shown]).update(is_visible=True)
            fields.exclude(pk=getattr(facility, "pk", None)).update(is_facility_code=False)
            if facility is not None:
                fields.filter(pk=facility.pk).update(is_facility_code=True)


class ConnectionForm(forms.Form):
    """The API URL and token typed in the org form, for "Test connection"; the
    saved token of `org` when the token was left blank."""

    api_url = forms.URLField(assume_scheme="https")
    api_token = forms.CharField(max_length=128, required=False)
    org = forms.ModelChoiceField(queryset=Org.objects.all(), required=False)

    def clean(self):
        cleaned = super().clean()
        org = cleaned.get("org")
        if not cleaned.get("api_token"):
            cleaned["api_token"] = org.api_token if org is not None else ""
        if not cleaned["api_token"]:
            self.add_error("api_token", _("Type the API token."))
        return cleaned


class RegionsField(forms.ModelMultipleChoiceField):
    """Regions as indented checkboxes, in tree order."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, region) -> str:
        return "\u00a0\u00a0" * getattr(region, "depth", 0) + region.name


class MemberForm(forms.Form):
    """An org admin adds or edits a supervisor or administrator of their org.

    The account fields (name, email) are only offered for accounts that belong to
    this org alone: a person who also works in another org keeps their own name
    and email, which this org's admins cannot change. There is no password field:
    new people choose theirs through an invitation. An admin who changes their
    own email address confirms it with their current password.
    """

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.SUPERVISOR,
        widget=forms.RadioSelect,
        help_text=_(
            "Administrators configure the organization and see every region. "
            "Supervisors see their regions and everything inside them."
        ),
    )
    regions = RegionsField(
        label=_("Regions"),
        queryset=Region.objects.none(),
        required=False,
        help_text=_("A supervisor sees these regions and all their sub-regions."),
    )
    current_password = forms.CharField(
        label=_("Your current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        strip=False,
        help_text=_("Needed to change your own email address."),
    )

    ACCOUNT_FIELDS = ("full_name", "email")

    def __init__(
        self,
        *args,
        org: Org,
        acting_user: User,
        membership: Membership | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.org = org
        self.acting_user = acting_user
        self.membership = membership
        regions = self.fields["regions"]
        tree = RegionTree.load(org).in_order()
        regions.queryset = Region.objects.for_org(org).active()
        regions.choices = [(region.pk, regions.label_from_instance(region)) for region in tree]
        if not self.is_self:
            del self.fields["current_password"]
        if membership is None:
            return
        user = membership.user
        self.initial.update(
            full_name=user.full_name,
            email=user.email,
            role=membership.role,
            regions=[region.pk for region in membership.regions.all()],
        )
        if not self.can_edit_account:
            for name in (*self.ACCOUNT_FIELDS, "current_password"):
                self.fields.pop(name, None)

    @property
    def can_edit_account(self) -> bool:
        return self.membership is None or can_edit_account(self.membership.user, self.org)

    @property
    def is_self(self) -> bool:
        return self.membership is not None and self.membership.user_id == self.acting_user.pk

    def clean_email(self) -> str:
        email = UserManager.normalize_email(self.cleaned_data["email"])
        others = User.objects.filter(email__iexact=email)
        if self.membership is not None:
            if others.exclude(pk=self.membership.user_id).exists():
                raise forms.ValidationError(_("Another account uses this email address."))
            return email
        existing = others.first()
        if existing and existing.memberships.filter(org=self.org).exists():
            raise forms.ValidationError(
                _("%(email)s is already a member of this organization; edit them instead."),
                params={"email": email},
            )
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.SUPERVISOR and not cleaned.get("regions"):
            self.add_error("regions", _("Choose at least one region for a supervisor."))
        email = cleaned.get("email")
        # A stolen session must not become the account: a new address would get
        # the password-reset links.
        changes_own_email = self.is_self and email and email != self.acting_user.email
        if changes_own_email and not self.acting_user.check_password(
            cleaned.get("current_password") or ""
        ):
            self.add_error("current_password", _("Your current password is not right."))
        return cleaned
