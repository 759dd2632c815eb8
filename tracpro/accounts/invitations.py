"""Invitations: a new member chooses their own password through a one-time link.

Nobody chooses a password for someone else: an org admin gives an email address,
TracPro sends it a link (Django's password-reset tokens, so the link stops
working once used, or after PASSWORD_RESET_TIMEOUT), and the account has no
usable password until the person follows it.
"""

from django_hosts.resolvers import reverse as reverse_host

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tracpro.accounts.models import User
from tracpro.orgs.models import Org


def invitation_url(user: User, org: Org) -> str:
    return reverse_host(
        "accounts:invitation",
        host="org",
        host_args=(org.subdomain,),
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def send_invitation(user: User, org: Org, invited_by: User) -> None:
    """Email `user` a link to choose their password and enter `org`."""
    context = {
        "org": org,
        "invited_by": invited_by,
        "url": invitation_url(user, org),
        "days": settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60),
    }
    _send(user, org, "accounts/email/invitation", context)


def send_added_notice(user: User, org: Org, invited_by: User) -> None:
    """Tell someone who already has an account that an org added them."""
    context = {"org": org, "invited_by": invited_by, "url": org.get_absolute_url()}
    _send(user, org, "accounts/email/added_to_org", context)


def _send(user: User, org: Org, template: str, context: dict) -> None:
    with translation.override(user.language or org.language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    send_mail(subject, body, None, [user.email])
