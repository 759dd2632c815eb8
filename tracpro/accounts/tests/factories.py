from tracpro.accounts.models import User
from tracpro.orgs.models import Membership, Org, Role


def make_member(org: Org, role: str = Role.SUPERVISOR, email: str | None = None) -> User:
    email = email or f"{role}-{User.objects.count() + 1}@{org.subdomain}.example.com"
    user = User.objects.create_user(email, "not-a-real-password-1")
    Membership.objects.create(user=user, org=org, role=role)
    return user


SWEEP_FACTORIES = {"accounts.User": make_member}
# Plain values for URL arguments that are not objects.
SWEEP_VALUES = {"uidb64": "MQ", "token": "set-password"}
