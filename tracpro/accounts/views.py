from smartmin.views import SmartCreateView, SmartCRUDL, SmartListView, SmartUpdateView

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tracpro.accounts.forms import LanguageForm, SuperuserForm
from tracpro.accounts.models import User
from tracpro.orgs.views import SuperuserRequiredMixin


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


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        form.user.must_change_password = False
        return super().form_valid(form)


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

    class List(SuperuserRequiredMixin, SmartListView):
        fields = ("email", "full_name", "is_superuser", "is_active", "last_login")
        search_fields = ("email__icontains", "full_name__icontains")
        default_order = ("email",)
        paginate_by = 50
        title = _("Users")

    class Create(SuperuserRequiredMixin, SmartCreateView):
        form_class = SuperuserForm
        fields = ("email", "full_name", "new_password", "must_change_password", "is_superuser")
        success_message = _("User created.")

        def pre_save(self, obj):
            obj.is_staff = obj.is_superuser
            return super().pre_save(obj)

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
