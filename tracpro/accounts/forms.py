from collections.abc import Iterator

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from tracpro.accounts.models import User, UserManager

# Long enough for any passphrase; a megabyte would only cost hashing time.
PASSWORD_MAX_LENGTH = 4096


class UserForm(forms.ModelForm):
    """Create or edit a user; the password is required on create, optional on edit."""

    new_password = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        required=False,
        strip=False,
        help_text=password_validation.password_validators_help_text_html(),
    )

    class Meta:
        model = User
        fields = ["email", "full_name", "new_password", "must_change_password", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["new_password"].required = True
        else:
            self.fields["new_password"].help_text = _("Leave blank to keep the current password.")

    def clean_email(self) -> str:
        email = UserManager.normalize_email(self.cleaned_data["email"])
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("A user with this email address already exists."))
        return email

    def clean_new_password(self) -> str:
        password = self.cleaned_data.get("new_password")
        if password:
            candidate = self.instance
            candidate.email = self.cleaned_data.get("email", candidate.email)
            candidate.full_name = self.data.get("full_name", candidate.full_name)
            password_validation.validate_password(password, candidate)
        return password

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            user.set_password(self.cleaned_data["new_password"])
        if self.cleaned_data.get("new_password") or "email" in self.changed_data:
            # Chosen by a superuser, or for an address nobody has confirmed.
            user.password_set_by_owner = False
        if commit:
            user.save()
        return user


class SuperuserForm(UserForm):
    class Meta(UserForm.Meta):
        fields = [*UserForm.Meta.fields, "is_superuser"]


class ResetForm(PasswordResetForm):
    """Django's reset form, which also reaches invited people who have no password
    yet: the link goes to their address, as the invitation did."""

    def get_users(self, email: str) -> Iterator[User]:
        return iter(User.objects.filter(email__iexact=email, is_active=True))


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=[])

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = choices
