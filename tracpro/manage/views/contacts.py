"""Contacts of the user's regions: list, search, export, page, create, edit, remove.

Every view starts from the region scope (`ScopedMixin` or `get_scope`) and every
query from `Contact.objects.visible_to(scope)`, which applies the org and the
region switcher, so a supervisor never reaches a contact outside their regions
(404, never 403). Changes are saved as pending and pushed to RapidPro by a task
(`tracpro.rapidpro.contact_changes`).
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, TemplateView

from tracpro.contacts import urns
from tracpro.contacts.forms import ContactForm
from tracpro.contacts.languages import language_name
from tracpro.contacts.models import Contact, DataField, PushStatus
from tracpro.exports.files import CSV, export_filename, export_format, table_response
from tracpro.groups.models import Region, ReporterGroup
from tracpro.groups.scope import RegionScope
from tracpro.groups.views import ScopedMixin, get_scope
from tracpro.msgs.models import Message
from tracpro.polls.participants import contact_responses
from tracpro.rapidpro import contact_changes

LIST_PAGE_SIZE = 50
RESPONSES_PAGE_SIZE = 25
CONTACT_MESSAGES = 10  # the latest sent to the contact, and the latest it wrote


class ContactFilters:
    """The list's search and filters, read from the query string, applied within scope."""

    def __init__(self, scope: RegionScope, params: QueryDict):
        self.scope = scope
        self.search = params.get("search", "").strip()
        self.region = self._pick(params.get("region"), self.region_choices)
        self.group = self._pick(params.get("group"), self.group_choices)
        status = params.get("status", "")
        self.status = status if status in PushStatus.values else ""

    @staticmethod
    def _pick(value: str | None, choices: list):
        return next((choice for choice in choices if str(choice.pk) == value), None)

    @cached_property
    def region_choices(self) -> list[Region]:
        return self.scope.limit(self.scope.choices())

    @cached_property
    def group_choices(self) -> list[ReporterGroup]:
        return list(ReporterGroup.objects.for_org(self.scope.org).active().order_by("name"))

    def apply(self, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
        contacts = contacts.filter(is_active=True)
        if self.search:
            contacts = contacts.filter(search_query(self.search))
        if self.region is not None:
            contacts = contacts.filter(region_id__in=self.scope.tree.subtree([self.region.pk]))
        if self.group is not None:
            contacts = contacts.filter(reporter_groups=self.group)
        if self.status:
            contacts = contacts.filter(push_status=self.status)
        return contacts

    @property
    def active(self) -> bool:
        return bool(self.search or self.region or self.group or self.status)


def search_query(text: str) -> Q:
    """Every word must match the name or the URN; a phone number matches however
    it is written (spaces, dashes, leading +)."""
    query = Q()
    for word in text.split():
        digits = "".join(ch for ch in word if ch.isdigit())
        match = Q(name__icontains=word) | Q(urn__icontains=word)
        if digits and len(digits) >= 3:
            match |= Q(urn__contains=digits)
        query &= match
    return query


def visible_contacts(scope: RegionScope) -> QuerySet[Contact]:
    return Contact.objects.visible_to(scope).select_related("region")


class ContactMixin(ScopedMixin):
    model = Contact

    @cached_property
    def contact(self) -> Contact:
        contacts = visible_contacts(self.scope).filter(is_active=True)
        return get_object_or_404(contacts, pk=self.kwargs["pk"])


class ContactListView(ScopedMixin, ListView):
    template_name = "manage/contact_list.html"
    paginate_by = LIST_PAGE_SIZE
    context_object_name = "contacts"

    @cached_property
    def filters(self) -> ContactFilters:
        return ContactFilters(self.scope, self.request.GET)

    def get_queryset(self):
        contacts = self.filters.apply(visible_contacts(self.scope))
        return contacts.prefetch_related(active_groups()).order_by("name", "pk")

    def get_context_data(self, **kwargs):
        facility = DataField.objects.facility_code(self.scope.org)
        context = super().get_context_data(
            title=_("Contacts"), filters=self.filters, facility_field=facility, **kwargs
        )
        for contact in context["contacts"]:
            contact.urn_display = urns.display(contact.urn)
            contact.facility_code = contact.fields.get(facility.key) if facility else ""
        return context


def active_groups() -> Prefetch:
    return Prefetch(
        "reporter_groups",
        queryset=ReporterGroup.objects.active().order_by("name"),
        to_attr="active_groups",
    )


def export_contacts(request: HttpRequest) -> HttpResponse:
    """The list as CSV or XLSX (`_format`), with the same search, filters and region scope."""
    scope = get_scope(request)
    filters = ContactFilters(scope, request.GET)
    contacts = filters.apply(visible_contacts(scope)).order_by("name", "pk")
    fields = DataField.objects.shown_on_contacts(scope.org)
    header = [
        _("Name"),
        _("URN"),
        _("Region"),
        _("Reporter groups"),
        _("Language"),
        *[field.label for field in fields],
        _("RapidPro sync"),
    ]
    groups = {group.pk: group.name for group in filters.group_choices}
    memberships = Contact.reporter_groups.through.objects.filter(
        contact__in=contacts, reportergroup_id__in=groups
    ).values_list("contact_id", "reportergroup_id")
    groups_of: dict[int, list[str]] = {}
    for contact_id, group_id in memberships.iterator(chunk_size=2000):
        groups_of.setdefault(contact_id, []).append(groups[group_id])
    statuses = dict(PushStatus.choices)

    def rows():
        for contact in contacts.iterator(chunk_size=2000):
            yield [
                contact.name,
                contact.urn,
                contact.region.name if contact.region else "",
                ", ".join(sorted(groups_of.get(contact.pk, []))),
                contact.language,
                *[contact.fields.get(field.key) or "" for field in fields],
                statuses.get(contact.push_status, contact.push_status),
            ]

    filename = export_filename(scope.org.subdomain, _("contacts"), timezone.localdate())
    return table_response(export_format(request.GET) or CSV, filename, header, rows())


class ContactDetailView(ContactMixin, DetailView):
    """A contact, how their RapidPro sync went, their responses across polls, and the
    messages between them and TracPro."""

    template_name = "manage/contact_detail.html"

    def get_object(self, queryset=None):
        return self.contact

    def get_context_data(self, **kwargs):
        contact = self.contact
        responses = contact_responses(contact)
        page = self.paginate_responses(responses)
        fields = [
            (field.label, contact.fields.get(field.key) or "")
            for field in DataField.objects.shown_on_contacts(contact.org)
        ]
        return super().get_context_data(
            title=str(contact),
            urn_display=urns.display(contact.urn),
            language=language_name(contact.language),
            groups=contact.reporter_groups.active().order_by("name"),
            data_fields=fields,
            responses=page,
            sent_messages=Message.objects.filter(recipients=contact)
            .select_related("created_by")
            .order_by("-created_on")[:CONTACT_MESSAGES],
            inbox_messages=contact.inbox_messages.order_by("-created_on")[:CONTACT_MESSAGES],
            **kwargs,
        )

    def paginate_responses(self, responses):
        return Paginator(responses, RESPONSES_PAGE_SIZE).get_page(self.request.GET.get("page"))


def push_status(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The sync badge alone, which the contact page polls while a push is pending."""
    contact = get_object_or_404(visible_contacts(get_scope(request)), pk=contact_id)
    return render(request, "manage/_push_status.html", {"contact": contact})


class ContactFormView(ScopedMixin, FormView):
    form_class = ContactForm
    template_name = "manage/contact_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "scope": self.scope}

    def save(self, form: ContactForm) -> Contact:
        contact = form.apply()
        contact_changes.save_contact(
            contact, form.cleaned_data["reporter_groups"], self.request.user
        )
        return contact


class ContactCreateView(ContactFormView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Add a contact"), **kwargs)

    def form_valid(self, form):
        contact = self.save(form)
        messages.success(
            self.request,
            _("%(name)s was added. TracPro is sending it to RapidPro.") % {"name": contact},
        )
        return redirect("contacts:read", pk=contact.pk)


class ContactUpdateView(ContactMixin, ContactFormView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "contact": self.contact}

    def get_context_data(self, **kwargs):
        title = _("Edit %(name)s") % {"name": self.contact}
        return super().get_context_data(title=title, contact=self.contact, **kwargs)

    def form_valid(self, form):
        contact = self.save(form)
        messages.success(
            self.request,
            _("%(name)s was saved. TracPro is sending the change to RapidPro.") % {"name": contact},
        )
        return redirect("contacts:read", pk=contact.pk)


class ContactDeleteView(ContactMixin, TemplateView):
    template_name = "manage/contact_delete.html"

    def get_context_data(self, **kwargs):
        title = _("Remove %(name)s?") % {"name": self.contact}
        return super().get_context_data(title=title, contact=self.contact, **kwargs)

    def post(self, request, *args, **kwargs):
        contact = self.contact
        contact_changes.remove_contact(contact, request.user)
        messages.success(
            request,
            _("%(name)s was removed. TracPro is deleting it in RapidPro.") % {"name": contact},
        )
        return redirect("contacts:list")


@require_POST
def retry_push(request: HttpRequest, contact_id: int) -> HttpResponse:
    contacts = visible_contacts(get_scope(request)).filter(is_active=True)
    contact = get_object_or_404(contacts, pk=contact_id)
    contact_changes.retry_push(contact, request.user)
    messages.info(request, _("TracPro is sending %(name)s to RapidPro again.") % {"name": contact})
    return redirect(reverse("contacts:read", args=[contact.pk]))
