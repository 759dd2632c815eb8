"""An org's people, for its admins: supervisors and administrators (original path /user/)."""

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, ListView, TemplateView

from tracpro.accounts.models import User
from tracpro.groups.views import AdminRequiredMixin
from tracpro.manage import members
from tracpro.manage.forms import MemberForm
from tracpro.orgs.models import Membership, Role


def account_changes(data: dict) -> members.AccountChanges:
    return members.AccountChanges(full_name=data["full_name"], email=data["email"])


class MembershipMixin(AdminRequiredMixin):
    """Views of one member: `pk` is the user's id; only this org's members are found."""

    model = User

    @cached_property
    def membership(self) -> Membership:
        memberships = Membership.objects.filter(org=self.scope.org).select_related("user")
        return get_object_or_404(memberships, user_id=self.kwargs["pk"])


class MemberListView(AdminRequiredMixin, ListView):
    template_name = "manage/member_list.html"
    paginate_by = 50
    context_object_name = "memberships"

    def get_queryset(self):
        memberships = (
            Membership.objects.filter(org=self.scope.org)
            .select_related("user")
            .prefetch_related("regions")
            .order_by("role", "user__full_name", "user__email")
        )
        search = self.request.GET.get("search", "").strip()
        if search:
            memberships = memberships.filter(
                Q(user__full_name__icontains=search) | Q(user__email__icontains=search)
            )
        role = self.request.GET.get("role")
        if role in Role.values:
            memberships = memberships.filter(role=role)
        return memberships

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("Supervisors and administrators"),
            search=self.request.GET.get("search", ""),
            role=self.request.GET.get("role", ""),
            roles=Role.choices,
            **kwargs,
        )


class MemberFormMixin:
    form_class = MemberForm
    template_name = "manage/member_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        return {**kwargs, "org": self.scope.org, "acting_user": self.request.user}


@method_decorator(sensitive_post_parameters("current_password"), name="dispatch")
class MemberCreateView(MemberFormMixin, AdminRequiredMixin, FormView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Add a supervisor or administrator"), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        membership, added = members.add_member(
            self.scope.org,
            data["role"],
            data["regions"],
            account_changes(data),
            self.request.user,
        )
        email = membership.user.email
        if added == members.Added.EXISTING:
            message = _(
                "%(email)s already had a TracPro account; they were added to this "
                "organization and log in with their own password."
            )
        else:
            message = _(
                "%(email)s was added and sent an invitation to choose a password; "
                "they can log in once they have."
            )
        messages.success(self.request, message % {"email": email})
        return redirect("users:list")


@method_decorator(sensitive_post_parameters("current_password"), name="dispatch")
class MemberUpdateView(MemberFormMixin, MembershipMixin, FormView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "membership": self.membership}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("Edit %(name)s") % {"name": self.membership.user},
            membership=self.membership,
            **kwargs,
        )

    def form_valid(self, form):
        data = form.cleaned_data
        account = account_changes(data) if form.can_edit_account else None
        try:
            members.update_member(
                self.membership, data["role"], data["regions"], account, self.request.user
            )
        except members.MembershipError as error:
            form.add_error("role", str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("%(name)s saved.") % {"name": self.membership.user})
        return redirect("users:list")


class MemberRemoveView(MembershipMixin, TemplateView):
    """Confirm, then take the person out of this org (their account stays)."""

    template_name = "manage/member_remove.html"

    def get_context_data(self, **kwargs):
        membership = self.membership
        return super().get_context_data(
            membership=membership,
            title=_("Remove %(name)s?") % {"name": membership.user},
            cancel_url=reverse("users:update", args=[membership.user_id]),
            **kwargs,
        )

    def post(self, request, *args, **kwargs) -> HttpResponse:
        membership = self.membership
        try:
            members.remove_member(membership, request.user)
        except members.MembershipError as error:
            messages.error(request, str(error))
            return redirect("users:update", pk=membership.user_id)
        messages.success(
            request,
            _("%(name)s no longer has access to this organization.") % {"name": membership.user},
        )
        return redirect("users:list")
