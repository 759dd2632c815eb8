from smartmin.views import SmartCreateView, SmartCRUDL, SmartListView, SmartUpdateView

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tracpro.accounts import throttle
from tracpro.accounts.forms import LanguageForm, ResetForm, SuperuserForm
from tracpro.accounts.models import User
from tracpro.orgs.views import OrderedListMixin, SuperuserRequiredMixin


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        if self.request.user.must_change_password:
            self.request.user.must_change_password = False
            self.request.user.save(update_fields=["must_change_password"])
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def locked_out(request: HttpRequest, response: HttpResponse, credentials: dict) -> HttpResponse:
    """django-axes' answer to a login while the account or the address is locked out."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    form_class = ResetForm

    def form_valid(self, form):
        # Counted whether or not the address has an account, so the answer tells nothing.
        if not throttle.allow_reset_email(form.cleaned_data["email"]):
            minutes = settings.PASSWORD_RESET_WINDOW // 60
            form.add_error(
                "email",
                _(
                    "Too many reset emails were asked for this address. "
                    "Check your inbox, or try again in %(minutes)s minutes."
                )
                % {"minutes": minutes},
            )
            return self.form_invalid(form)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # The link came to this address, so the password is its owner's own choice.
        form.user.must_change_password = False
        form.user.password_set_by_owner = True
        return super().form_valid(form)


class InvitationView(PasswordResetConfirmView):
    """A new member follows their invitation link and chooses a password."""

    template_name = "accounts/invitation.html"
    success_url = reverse_lazy("home")
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; signed-in users keep the choice on their account."""
    org = getattr(request, "org", None)
    choices = org.available_languages if org else list(settings.LANGUAGES)
    form = LanguageForm(request.POST, choices=choices)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


class UserCRUDL(SmartCRUDL):
    """Site users, on the root host, for superusers."""

    model = User
    actions = ("list", "create", "update")
    path = "user"

    class List(SuperuserRequiredMixin, OrderedListMixin, SmartListView):
        fields = ("email", "full_name", "is_superuser", "is_active", "last_login")
        search_fields = ("email__icontains", "full_name__icontains")
        default_order = ("email",)
        paginate_by = 50
        title = _("Users")

    @method_decorator(sensitive_post_parameters("new_password"), name="dispatch")
    class Create(SuperuserRequiredMixin, SmartCreateView):
        form_class = SuperuserForm
        fields = ("email", "full_name", "new_password", "must_change_password", "is_superuser")
        success_message = _("User created.")

        def pre_save(self, obj):
            obj.is_staff = obj.is_superuser
            return super().pre_save(obj)

    @method_decorator(sensitive_post_parameters("new_password"), name="dispatch")
    class Update(SuperuserRequiredMixin, SmartUpdateView):
        form_class = SuperuserForm
        fields = (
            "email",
            "full_name",
            "new_password",
            "must_change_password",
            "is_superuser",
            "is_active",
        )
        success_message = _("User updated.")

        def pre_save(self, obj):
            obj.is_staff = obj.is_superuser
            return super().pre_save(obj)
