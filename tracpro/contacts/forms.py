from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from tracpro.contacts import urns
from tracpro.contacts.languages import language_choices, to_iso639_3
from tracpro.contacts.models import Contact, DataField
from tracpro.groups.models import Region, ReporterGroup
from tracpro.groups.scope import RegionScope

# RapidPro refuses longer contact names.
NAME_MAX_LENGTH = 64


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, region: Region) -> str:
        return "\u00a0\u00a0" * getattr(region, "depth", 0) + region.name


def data_field(field: DataField) -> forms.Field:
    """A form field for one RapidPro contact field, by its type."""
    options = {"label": field.label, "required": False}
    if field.value_type == DataField.ValueType.NUMBER:
        return forms.DecimalField(**options)
    if field.value_type == DataField.ValueType.DATETIME:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    return forms.CharField(max_length=640, **options)


def stored_value(value: object) -> str:
    """Field values are stored as RapidPro sends them: text, numbers without
    trailing zeros, dates as YYYY-MM-DD."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def initial_value(field: DataField, value: str | None) -> object:
    if not value:
        return None
    if field.value_type == DataField.ValueType.NUMBER:
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    if field.value_type == DataField.ValueType.DATETIME:
        return value[:10]
    return value


class ContactForm(forms.Form):
    """Create or edit a contact: what TracPro shows and pushes to RapidPro."""

    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH)
    urn_scheme = forms.ChoiceField(label=_("Reached by"), choices=urns.SCHEMES)
    urn_path = forms.CharField(
        label=_("Phone number or address"),
        max_length=255,
        help_text=_("Phone numbers start with + and the country code, e.g. +256 772 123456."),
    )
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none())
    reporter_groups = forms.ModelMultipleChoiceField(
        label=_("Reporter groups"),
        queryset=ReporterGroup.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=[])

    def __init__(self, *args, scope: RegionScope, contact: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        org = scope.org
        self.org = org
        self.contact = contact or Contact(org=org)
        self.data_fields = DataField.objects.shown_on_contacts(org)

        regions = self.fields["region"]
        in_scope = scope.limit(scope.choices())
        regions.queryset = (
            Region.objects.for_org(org).active().filter(pk__in=[region.pk for region in in_scope])
        )
        regions.choices = [("", "—")] + [
            (region.pk, regions.label_from_instance(region)) for region in in_scope
        ]
        self.fields["reporter_groups"].queryset = ReporterGroup.objects.for_org(org).active()
        self.fields["language"].choices = language_choices(self.usual_languages())
        for field in self.data_fields:
            self.fields[f"field_{field.key}"] = data_field(field)
        if contact is not None:
            self.set_initial(contact)

    def usual_languages(self) -> list[str]:
        used = (
            Contact.objects.for_org(self.org)
            .active()
            .exclude(language="")
            .values_list("language", flat=True)
            .distinct()[:20]
        )
        org_languages = [to_iso639_3(code) for code in [self.org.language, *self.org.languages]]
        return [*org_languages, *used, self.contact.language]

    def set_initial(self, contact: Contact) -> None:
        scheme, path = urns.split(contact.urn)
        if scheme and scheme not in urns.SCHEME_NAMES:
            # An address kind RapidPro knows and TracPro does not edit: keep it as it is.
            self.fields["urn_scheme"].choices = [*urns.SCHEMES, (scheme, scheme)]
        self.initial.update(
            name=contact.name,
            urn_scheme=scheme or "tel",
            urn_path=path,
            region=contact.region_id,
            reporter_groups=[group.pk for group in contact.reporter_groups.all()],
            language=contact.language,
        )
        for field in self.data_fields:
            self.initial[f"field_{field.key}"] = initial_value(field, contact.fields.get(field.key))

    def clean(self):
        cleaned = super().clean()
        scheme, path = cleaned.get("urn_scheme"), cleaned.get("urn_path")
        if scheme and path:
            cleaned["urn"] = self.clean_urn(scheme, path)
        return cleaned

    def clean_urn(self, scheme: str, path: str) -> str | None:
        unchanged = self.contact.pk and self.contact.urn == f"{scheme}:{path.strip()}"
        if unchanged:
            return self.contact.urn  # as RapidPro has it, even if TracPro would write it otherwise
        try:
            urn = urns.normalize(scheme, path)
        except forms.ValidationError as error:
            self.add_error("urn_path", error)
            return None
        clash = Contact.objects.for_org(self.org).active().filter(urn=urn)
        if self.contact.pk:
            clash = clash.exclude(pk=self.contact.pk)
        if clash.exists():
            self.add_error("urn_path", _("Another contact already uses this address."))
            return None
        return urn

    def apply(self) -> Contact:
        """The contact with the form's values (not saved)."""
        data = self.cleaned_data
        contact = self.contact
        contact.name = data["name"].strip()
        contact.urn = data["urn"]
        contact.region = data["region"]
        contact.language = data["language"]
        values = dict(contact.fields)
        for field in self.data_fields:
            values[field.key] = stored_value(data.get(f"field_{field.key}")) or None
        contact.fields = values
        return contact
