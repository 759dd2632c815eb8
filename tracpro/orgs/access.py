"""Who may do what in an org. The middleware and the scope helpers ask these
instead of checking roles themselves."""

from tracpro.orgs.models import Membership, Org, Role


def get_membership(user, org: Org) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, org=org).first()


def can_enter(user, membership: Membership | None) -> bool:
    """Superusers enter every org; other users only the orgs they are members of."""
    return user.is_authenticated and (user.is_superuser or membership is not None)


def is_admin(user, membership: Membership | None) -> bool:
    """Superusers administer every org; members only when their role is admin."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or (membership is not None and membership.role == Role.ADMIN)
